"""The intake forms (xinfang.intake.forms): attachment checks, the petitioner formset, the
registration form's own checks and the case-list filters."""
from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from xinfang.cases.models import Topic
from xinfang.intake.forms import (
    MAX_FILES, CaseFilterForm, LoginForm, MultipleFileField, PetitionerFormSet, RegistrationForm, check_upload,
)
from tests.conftest import VALID_ID
from tests.intake.conftest import PETITIONER, petitioner_rows, registration_post

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16
ZIP = b"PK\x03\x04" + b"\x00" * 16


@pytest.mark.parametrize(("name", "content"), [
    ("a.pdf", b"%PDF-1.7\n"), ("a.JPG", b"\xff\xd8\xff\xe0"), ("a.jpeg", b"\xff\xd8\xff\xe1"),
    ("a.png", b"\x89PNG\r\n\x1a\n"), ("a.doc", OLE2), ("a.xls", OLE2), ("a.docx", ZIP), ("a.xlsx", ZIP),
    ("a.txt", "信访材料".encode()), ("a.txt", "信访材料".encode("gb18030")),
])
def test_allowed_attachment_types_pass(name, content):
    check_upload(SimpleUploadedFile(name, content))


@pytest.mark.parametrize(("name", "content", "code"), [
    ("a.exe", b"MZ", "file_type"), ("a.pdf.exe", b"%PDF-", "file_type"), ("a.html", b"<html>", "file_type"),
    ("a.docx", OLE2, "file_content"), ("a.doc", ZIP, "file_content"), ("a.png", b"\xff\xd8\xff", "file_content"),
    ("a.txt", b"\x00\x01", "file_content"), ("a.txt", b"\xff\xfe\xfa\xfb" * 10, "file_content"), ("a.pdf", b"", "file_empty"),
])
def test_other_attachments_are_refused(name, content, code):
    with pytest.raises(ValidationError) as exc:
        check_upload(SimpleUploadedFile(name, content))
    assert exc.value.code == code


def test_a_text_file_cut_inside_a_character_at_the_sample_edge_is_text():
    content = b"a" + "信".encode() * 2000  # the 4096-byte sample ends inside a 3-byte character
    check_upload(SimpleUploadedFile("a.txt", content))


def test_the_size_limit_is_inclusive(settings):
    settings.MAX_UPLOAD_MB = 1
    limit = 1024 * 1024
    check_upload(SimpleUploadedFile("a.pdf", b"%PDF-" + b"0" * (limit - 5)))
    with pytest.raises(ValidationError) as exc:
        check_upload(SimpleUploadedFile("a.pdf", b"%PDF-" + b"0" * (limit - 4)))
    assert exc.value.code == "file_size" and "超过 1 MB" in exc.value.messages[0]


def test_multiple_file_field_reports_every_bad_file_and_caps_the_count():
    field = MultipleFileField(required=False)
    with pytest.raises(ValidationError) as exc:
        field.clean([SimpleUploadedFile("a.exe", b"MZ"), SimpleUploadedFile("b.pdf", b"%PDF-"),
                     SimpleUploadedFile("c.bat", b"echo")])
    assert len(exc.value.messages) == 2
    with pytest.raises(ValidationError) as exc:
        field.clean([SimpleUploadedFile(f"{i}.pdf", b"%PDF-") for i in range(MAX_FILES + 1)])
    assert "一次最多上传20个附件" in exc.value.messages[0]
    assert field.clean([]) == []


def test_petitioner_formset_normalises_and_counts_representatives():
    formset = PetitionerFormSet(petitioner_rows(
        {**PETITIONER, "id_number": VALID_ID[:-1] + VALID_ID[-1].lower(), "phone": "138 0013 8000", "is_representative": True},
        {"name": "  陈邻居 ", "address": " 东湖区 "}), prefix="p")
    assert formset.is_valid(), formset.errors
    first, second = formset.petitioners()
    assert first.phone == "13800138000" and first.is_representative
    assert second.name == "陈邻居" and second.address == "东湖区" and second.id_number == ""


def test_petitioner_formset_refuses_a_sixth_representative():
    """Art.20: at most 5 representatives."""
    rows = [{"name": f"代表{i}", "is_representative": True} for i in range(6)]
    formset = PetitionerFormSet(petitioner_rows(*rows), prefix="p")
    assert not formset.is_valid()
    assert "推选代表不超过5人(条例第20条),当前为6人" in formset.non_form_errors()[0]
    rows[5]["DELETE"] = "on"  # deleting the sixth row brings it back to five
    assert PetitionerFormSet(petitioner_rows(*rows), prefix="p").is_valid()


@pytest.mark.django_db
def test_registration_form_route_arguments(cast):
    data = registration_post(route_kind="forward", route_organ=str(cast.housing.pk), assigned_due="2026-07-01")
    form = RegistrationForm(data, user=cast.registrar, route=True)
    assert form.is_valid(), form.errors
    assert form.route_args() == {"kind": "forward", "organ": cast.housing, "note": "", "assigned_due": None}
    assert form.case_data()["received_at"] == dt.datetime(2026, 6, 1, 0, 0, tzinfo=dt.timezone.utc)


@pytest.mark.django_db
def test_registration_form_does_not_offer_the_users_own_organ_as_route_target(cast):
    form = RegistrationForm(registration_post(route_kind="forward", route_organ=str(cast.bureau.pk)),
                            user=cast.registrar, route=True)
    assert not form.is_valid()
    assert form.errors["route_organ"] == ["所选去向机关不存在或已停用。"]


@pytest.mark.django_db
def test_registration_form_lists_active_topics_in_tree_order(cast):
    city = Topic.objects.create(name="城乡建设", sort=1)
    labour = Topic.objects.create(name="劳动社保", sort=2)
    Topic.objects.create(name="工资拖欠", parent=labour, sort=1)
    Topic.objects.create(name="物业管理", parent=city, sort=2)
    Topic.objects.create(name="住房保障", parent=city, sort=1)
    Topic.objects.create(name="已停用", parent=city, sort=0, is_active=False)
    form = RegistrationForm(user=cast.registrar)
    labels = [label for value, label in form.fields["topic"].choices if value]
    assert labels == ["城乡建设", "城乡建设 › 住房保障", "城乡建设 › 物业管理", "劳动社保", "劳动社保 › 工资拖欠"]


@pytest.mark.django_db
def test_login_form_messages_are_chinese(cast, rf):
    form = LoginForm(rf.post("/"), data={"username": "registrar", "password": "wrong"})
    assert not form.is_valid()
    assert form.non_field_errors() == ["用户名或密码不正确,请重新输入(密码区分大小写)。"]


@pytest.mark.django_db
@pytest.mark.parametrize(("number", "lookup"), [
    ("jzxf-2026-000001", "exact"), ("JZXF-2026", "prefix"), ("JZXF-2026-00000", "prefix"),
])
def test_filter_form_matches_a_full_number_exactly_and_a_part_as_prefix(cast, number, lookup):
    from xinfang.cases.models import Case

    form = CaseFilterForm({"number": number})
    assert form.is_valid()
    sql = str(form.filter(Case.objects.all()).query)
    if lookup == "exact":
        assert '"number" = JZXF-2026-000001' in sql.replace("'", "")
    else:  # a range on the unique index (LIKE would be a full scan on SQLite)
        assert f'"number" >= {number.upper()}' in sql.replace("'", "") and "LIKE" not in sql
