"""Rendering documents (render.py): every kind as DOCX and PDF, the font, and the file cache."""
from __future__ import annotations

import io
from pathlib import Path

import docx
import pytest
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn

from tests.conftest import VALID_ID
from xinfang.cases import workflow
from xinfang.documents import render
from xinfang.documents.models import DocKind, Document
from xinfang.documents.render import PdfFontMissing, cn_date, compose, ensure_files, render_docx, render_pdf
from xinfang.supervision.models import LetterKind

PHONE = "13800138000"
# Supervision letters are issued by the supervision app and tested in tests/supervision; mediation
# agreements by the mediation app, tested in tests/mediation.
KINDS = [k for k in DocKind.values
         if k not in LetterKind.values and k not in (DocKind.MEDIATION_AGREEMENT, DocKind.SETTLEMENT_AGREEMENT)]


def key_text(doc: Document, cast) -> list[str]:
    """What each kind must say (the article it rests on, and the data the service stored)."""
    case, f = doc.case, doc.fields
    earlier = {d.kind: d.number for d in case.documents.all()}
    return {
        # Art.23 written notice; Art.34 60-day limit of a route-6 case.
        DocKind.ACCEPTANCE: lambda: ["刘市民:", "依法受理", "第二十三条", f["route"], "第三十四条", "60日内办结",
                             f"办理期限至{cn_date(f['due'])}", "送达地址:东湖区幸福里3栋"],
        DocKind.NOT_ACCEPTED: lambda: ["刘市民:", "决定不予受理", f["reason"]],
        # Art.36 ¶3.
        DocKind.NOT_AGAIN: lambda: ["决定不再受理", f["related"], "第三十六条第三款", f["reason"]],
        # Art.22: the proper legal channel.
        DocKind.INFORM: lambda: [f["channel"], f["reason"], "第二十二条"],
        # Art.22, Art.23 ¶3: 15 days to accept, 5 working days to object.
        DocKind.FORWARD: lambda: [f"{cast.housing.name}:", case.number, case.title, case.content, "刘市民(东湖区幸福里3栋)",
                          "15日内", "5个工作日", "第二十三条"],
        DocKind.ASSIGN: lambda: [f"{cast.housing.name}:", "交办你单位", "2026年6月20日前办结", "办结报告", "第二十二条", f["note"]],
        # Art.34: once, ≤ 30 days, approved by the head, reason told.
        DocKind.EXTENSION: lambda: [f["reason"], "延长15日", f"由{cn_date(f['old_due'])}延长至{cn_date(f['new_due'])}",
                            "第三十四条", "负责人批准"],
        # Art.32 contents and outcome; Art.35 复查 within 30 days at the level above.
        DocKind.OPINION: lambda: ["信访请求:" + case.content, "处理意见:经调查,已责成物业限期维修。", "处理结果:支持", "第三十二条",
                          "30日内,向江州市人民政府请求复查", "第三十五条"],
        DocKind.REPLY: lambda: ["建议增设社区充电桩", "答复意见:经调查,已责成物业限期维修。", "处理结果:采纳", "第二十九条"],
        # Art.35 复查 outcome; Art.36 复核 within 30 days at the level above.
        DocKind.REVIEW: lambda: [earlier[DocKind.OPINION], "复查请求:对处理意见不服", "复查意见:维持原处理意见。", "复查结果:维持",
                         "30日内,向南江省人民政府请求复核", "第三十六条"],
        # Art.36 ¶3: final, the same facts and reasons are not accepted again.
        DocKind.RE_REVIEW: lambda: [earlier[DocKind.REVIEW], "复核请求:对复查意见不服", "复核结果:维持", "最终处理意见",
                            "第三十六条第三款", "不再受理"],
    }[doc.kind]()


def docx_text(data: bytes) -> tuple[docx.document.Document, str]:
    d = docx.Document(io.BytesIO(data))
    return d, "\n".join(p.text for p in d.paragraphs)


def test_the_services_issue_every_kind(issued):
    assert set(issued) == set(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_docx_carries_number_title_and_the_kinds_text(issued, cast, kind):
    doc = issued[kind]
    d, text = docx_text(render_docx(doc))
    assert doc.number in text and doc.title in text and doc.organ.name in text
    assert "2026年6月1日" in text  # the issue date, bottom right
    for phrase in key_text(doc, cast):
        assert phrase in text, phrase
    # Neither the petitioner's nor the receiving organ's letter carries ID numbers or phones.
    assert VALID_ID not in text and PHONE not in text
    title = next(p for p in d.paragraphs if p.text == doc.title)
    assert title.alignment == WD_ALIGN_PARAGRAPH.CENTER and all(r.bold for r in title.runs)
    signed = [p for p in d.paragraphs if p.text in (doc.organ.name, "2026年6月1日")][-2:]
    assert [p.text for p in signed] == [doc.organ.name, "2026年6月1日"]
    assert all(p.alignment == WD_ALIGN_PARAGRAPH.RIGHT for p in signed)


def test_docx_names_chinese_fonts_for_east_asian_text(issued):
    d, _ = docx_text(render_docx(issued[DocKind.ACCEPTANCE]))
    defaults = d.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr")).find(qn("w:rFonts"))
    assert defaults.get(qn("w:eastAsia")) == "仿宋" and defaults.get(qn("w:eastAsiaTheme")) is None
    assert d.styles["Normal"].element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋"
    title = next(p for p in d.paragraphs if p.text == "受理告知书")
    assert title.runs[0]._element.rPr.rFonts.get(qn("w:eastAsia")) == "宋体"


def test_routing_slip_is_addressed_to_the_organ_not_the_petitioner(issued, cast):
    letter = compose(issued[DocKind.FORWARD])
    assert letter.addressee == f"{cast.housing.name}:" and letter.heading == cast.bureau.name
    assert not letter.footer  # no delivery address block: it is not sent to the petitioner


def test_group_letter_goes_to_the_representatives(cast, make_case):
    pets = [workflow.PetitionerData(name="甲代表", address="东湖区一号", is_representative=True),
            workflow.PetitionerData(name="乙代表", address="东湖区二号", is_representative=True),
            workflow.PetitionerData(name="丙群众", address="东湖区三号")]
    case = make_case("handling", petitioners=pets, channel="visit", group_visit=True, head_count=3)
    letter = compose(case.documents.get(kind=DocKind.ACCEPTANCE))
    assert letter.addressee == "甲代表、乙代表:"
    assert letter.footer == ["送达地址:甲代表 东湖区一号;乙代表 东湖区二号"]
    assert letter.body[0].startswith("你们于2026年6月1日提出的")
    assert "丙群众" not in " ".join([letter.addressee, *letter.body, *letter.footer])


@pytest.mark.parametrize("kind", KINDS)
def test_pdf_embeds_the_cjk_font(issued, kind):
    data = render_pdf(issued[kind])
    assert data.startswith(b"%PDF")
    assert b"/FontFile2" in data  # the TrueType font program is inside the file


def test_rendering_is_deterministic(issued):
    doc = issued[DocKind.OPINION]
    assert render_pdf(doc) == render_pdf(doc)
    assert compose(doc) == compose(Document.objects.get(pk=doc.pk))


def test_missing_configured_font_names_the_setting_and_the_package(issued, settings):
    settings.PDF_FONT = "/nonexistent/simsun.ttf"
    with pytest.raises(PdfFontMissing) as exc:
        render_pdf(issued[DocKind.ACCEPTANCE])
    message = str(exc.value)
    assert "XINFANG_PDF_FONT" in message and "fonts-wqy-microhei" in message and "/nonexistent/simsun.ttf" in message


def test_no_usable_font_on_the_known_paths(issued, settings, monkeypatch, tmp_path):
    not_a_font = tmp_path / "broken.ttf"
    not_a_font.write_bytes(b"not a font")
    settings.PDF_FONT = ""
    monkeypatch.setattr(render, "FONT_CANDIDATES", [str(tmp_path / "absent.ttc"), str(not_a_font)])
    with pytest.raises(PdfFontMissing, match="XINFANG_PDF_FONT"):
        render_pdf(issued[DocKind.ACCEPTANCE])


def test_configured_font_is_used(issued, settings, monkeypatch, tmp_path):
    own = tmp_path / "own-font.ttc"
    own.write_bytes(Path(render.FONT_CANDIDATES[0]).read_bytes())
    settings.PDF_FONT = str(own)
    monkeypatch.setattr(render, "FONT_CANDIDATES", [])  # only the configured file can serve
    data = render_pdf(issued[DocKind.ACCEPTANCE])
    assert b"/FontFile2" in data and b"WenQuanYi" in data


@pytest.fixture
def counting(monkeypatch):
    calls = []

    def wrap(name):
        original = getattr(render, name)

        def counted(document):
            calls.append(name)
            return original(document)
        monkeypatch.setattr(render, name, counted)

    wrap("render_docx")
    wrap("render_pdf")
    return calls


def test_files_are_rendered_once_and_kept(issued, counting):
    doc = issued[DocKind.ACCEPTANCE]
    ensure_files(doc)
    assert counting == ["render_docx", "render_pdf"]
    stored = Document.objects.get(pk=doc.pk)
    stem = doc.number.replace("〔", "-").replace("〕", "-")
    assert stored.docx.name.endswith(f"/{stem}.docx") and stored.pdf.name.endswith(f"/{stem}.pdf")
    with stored.docx.open("rb") as fh:
        assert doc.number in docx_text(fh.read())[1]
    with stored.pdf.open("rb") as fh:
        assert fh.read(4) == b"%PDF"

    ensure_files(stored)
    ensure_files(Document.objects.get(pk=doc.pk))
    assert counting == ["render_docx", "render_pdf"]  # the second and third calls rendered nothing


def test_no_file_is_stored_when_the_pdf_cannot_be_rendered(issued, settings):
    settings.PDF_FONT = "/nonexistent/font.ttf"
    doc = issued[DocKind.EXTENSION]
    with pytest.raises(PdfFontMissing):
        ensure_files(doc)
    stored = Document.objects.get(pk=doc.pk)
    assert not stored.docx and not stored.pdf
    assert not (Path(settings.MEDIA_ROOT) / "documents").exists()


def test_a_file_lost_from_storage_is_rendered_again(issued, counting):
    doc = ensure_files(issued[DocKind.REVIEW])
    doc.pdf.storage.delete(doc.pdf.name)
    ensure_files(Document.objects.get(pk=doc.pk))
    assert counting == ["render_docx", "render_pdf", "render_pdf"]
    assert Document.objects.get(pk=doc.pk).pdf.storage.exists(doc.pdf.name)


def test_a_letter_keeps_the_recipient_it_was_issued_to(cast, make_case):
    """A letter already sent names the petitioner and address as they were when it was issued."""
    case = make_case("handling")
    notice = case.documents.get(kind=DocKind.ACCEPTANCE)
    assert notice.addressee == "刘市民"
    assert notice.fields["delivery_addresses"] == ["东湖区幸福里3栋"]
    case.petitioners.update(name="刘改名", address="西湖区新地址")
    _, text = docx_text(render_docx(Document.objects.get(pk=notice.pk)))
    assert "刘市民:" in text and "东湖区幸福里3栋" in text
    assert "刘改名" not in text and "西湖区新地址" not in text
