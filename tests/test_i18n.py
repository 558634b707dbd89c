"""The interface in two languages: Chinese (the source strings, the default) and English (the
catalogue src/xinfang/locale/en/LC_MESSAGES/django.po, compiled by `make install`).

Pages are in English only when the user chose it with the top bar's switch (the language cookie);
with no choice, whatever the browser's Accept-Language, they are Chinese. The catalogue itself
must be complete: no untranslated or fuzzy entry, placeholders kept, every string the templates
and the code mark for translation present in it and translated by the compiled .mo.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation.template import templatize

import xinfang
from xinfang.cases import workflow
from xinfang.cases.models import RouteKind, State
from xinfang.documents.models import DocKind

PACKAGE = Path(xinfang.__file__).resolve().parent
PO_FILE = PACKAGE / "locale" / "en" / "LC_MESSAGES" / "django.po"
MO_FILE = PO_FILE.with_suffix(".mo")
HOW_TO_FIX = ("update the catalogue: (cd src/xinfang && ../../.venv/bin/xinfang makemessages -l en "
              "--add-location=file --no-obsolete), translate the new entries in django.po, then `make install`")


# --------------------------------------------------------------------------- the catalogue


def parse_po(path: Path) -> list[dict]:
    """The entries of a .po file: msgid, msgid_plural, msgstr (list), flags, refs. Enough of the
    format for what makemessages writes; obsolete (#~) entries are skipped."""
    entries: list[dict] = []
    entry: dict | None = None
    key = None

    def start() -> dict:
        return {"msgid": None, "msgid_plural": None, "msgstr": [], "flags": set(), "refs": []}

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            entry = None
            continue
        if line.startswith("#~"):  # an obsolete entry (its string left the code): not in use
            continue
        if entry is None or (line.startswith("#") and entry["msgstr"]):
            entry = start()
            entries.append(entry)
        if line.startswith("#,"):
            entry["flags"].update(f.strip() for f in line[2:].split(","))
        elif line.startswith("#:"):
            entry["refs"].extend(line[2:].split())
        elif line.startswith("#"):
            continue
        else:
            match = re.fullmatch(r'(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(".*")', line)
            if match:
                key, text = match.group(1), ast.literal_eval(match.group(2))
                if key.startswith("msgstr"):
                    entry["msgstr"].append(text)
                else:
                    entry[key] = text
            else:  # a continuation line of the last keyword
                assert line.startswith('"'), f"cannot read {path.name}: {raw!r}"
                text = ast.literal_eval(line)
                if key.startswith("msgstr"):
                    entry["msgstr"][-1] += text
                else:
                    entry[key] += text
    return entries


@pytest.fixture(scope="module")
def catalogue() -> list[dict]:
    entries = parse_po(PO_FILE)
    assert entries and entries[0]["msgid"] == "", "the catalogue has no header"
    return entries


def test_the_catalogue_header_is_english_and_checked(catalogue):
    header = catalogue[0]
    assert "fuzzy" not in header["flags"]
    assert "Language: en\n" in header["msgstr"][0]
    assert "charset=UTF-8" in header["msgstr"][0]


def test_every_entry_is_translated_and_none_is_fuzzy(catalogue):
    untranslated = [e["msgid"] for e in catalogue[1:] if not all(s.strip() for s in e["msgstr"])]
    fuzzy = [e["msgid"] for e in catalogue[1:] if "fuzzy" in e["flags"]]
    assert not untranslated, f"untranslated: {untranslated[:10]}; {HOW_TO_FIX}"
    assert not fuzzy, f"fuzzy (check the translation, then remove the flag): {fuzzy[:10]}"


PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[sdifr]")


def test_translations_keep_every_placeholder(catalogue):
    broken = []
    for e in catalogue[1:]:
        wanted = set(PLACEHOLDER.findall(e["msgid"]))
        for text in e["msgstr"]:
            if set(PLACEHOLDER.findall(text)) != wanted:
                broken.append((e["msgid"], text))
    assert not broken, broken[:5]


def test_source_strings_are_chinese_so_no_zh_hans_catalogue_is_needed(catalogue):
    """The msgids are the Chinese interface: zh-hans needs no catalogue of its own."""
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert not (PACKAGE / "locale" / "zh_Hans").exists()
    cjk = re.compile(r"[\u4e00-\u9fff]")
    assert sum(bool(cjk.search(e["msgid"])) for e in catalogue[1:]) > 0.95 * (len(catalogue) - 1)


def template_msgids() -> dict[str, Path]:
    """Every string the templates mark for translation ({% translate %}, {% blocktranslate %},
    _("…") in filter arguments), extracted the way makemessages does it (Django's templatize)."""
    literal = r"""u?(?:'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*")"""
    call = re.compile(rf"(?<![\w.])(gettext|ngettext|_|pgettext|npgettext)\(\s*({literal})(?:\s*,\s*({literal}))?")
    found: dict[str, Path] = {}
    for path in sorted(PACKAGE.rglob("templates/**/*.html")):
        pseudo_python = templatize(path.read_text(encoding="utf-8"), origin=str(path))
        for name, first, second in call.findall(pseudo_python):
            found[ast.literal_eval(second if name.startswith(("pgettext", "npgettext")) else first)] = path
    return found


def code_msgids() -> dict[str, Path]:
    """Every literal passed to gettext, gettext_lazy or their `_` alias in the package's code."""
    names = {"_", "gettext", "gettext_lazy", "_lazy", "gettext_noop"}
    found: dict[str, Path] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                    and getattr(node.func, "id", getattr(node.func, "attr", None)) in names):
                found[node.args[0].value] = path
    return found


def test_the_extractors_find_what_they_should():
    """Guards the two helpers below: a broken extractor would make the coverage tests vacuous."""
    templates, code = template_msgids(), code_msgids()
    assert "工作台" in templates and "界面语言" in templates           # {% translate %}
    assert "共 %(n)s 条" in templates                                   # {% blocktranslate %}
    assert "没有符合条件的信访事项。" in templates                       # default:_("…")
    assert "待转送" in code and "“%(action)s”须由%(roles)s办理。" in code


def test_every_template_string_is_in_the_catalogue_and_translated(catalogue):
    msgids = {e["msgid"] for e in catalogue}
    strings = template_msgids()
    missing = {s: str(p.relative_to(PACKAGE)) for s, p in strings.items() if s not in msgids}
    assert not missing, f"not in the catalogue: {missing}; {HOW_TO_FIX}"
    # The compiled catalogue (what the running site uses) translates each of them: a stale or
    # missing django.mo fails here.
    assert MO_FILE.exists(), "django.mo is missing: run `make install` (it compiles the messages)"
    with translation.override("en"):
        untranslated = [s for s in strings if translation.gettext(s) == s]
    assert not untranslated, f"django.mo does not translate {untranslated[:10]}: run `make install`"


def test_every_code_string_is_in_the_catalogue_and_translated(catalogue):
    msgids = {e["msgid"] for e in catalogue}
    strings = code_msgids()
    missing = {s: str(p.relative_to(PACKAGE)) for s, p in strings.items() if s not in msgids}
    assert not missing, f"not in the catalogue: {missing}; {HOW_TO_FIX}"
    with translation.override("en"):
        untranslated = [s for s in strings if translation.gettext(s) == s]
    assert not untranslated, f"django.mo does not translate {untranslated[:10]}: run `make install`"


def test_the_glossary_terms_are_used():
    with translation.override("en"):
        terms = {str(label) for label in (State.REGISTERED.label, RouteKind.FORWARD.label, RouteKind.ASSIGN.label,
                                          DocKind.OPINION.label)}
        assert terms == {"Awaiting routing", "Forward", "Assign", "Petition handling opinion"}
        assert translation.gettext("临期") == "Due soon"
        assert translation.gettext("超期") == "Overdue"
        assert translation.gettext("复核") == "re-review"
        assert translation.gettext("不再受理") == "Not accepted again"
        assert translation.gettext("承办人") == "Case handler"
    with translation.override("zh-hans"):
        assert str(RouteKind.FORWARD.label) == "转送"


# --------------------------------------------------------------------------- the pages


def english(client: Client) -> Client:
    """Choose English the way the top bar's switch does: Django's language cookie."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def registrar(cast, client):
    client.force_login(cast.registrar)
    return client


def test_with_no_preference_the_pages_are_chinese(registrar, make_case):
    case = make_case("registered")
    home = registrar.get(reverse("home"))
    assert home.status_code == 200
    assert home["Content-Language"] == "zh-hans"
    html = home.content.decode()
    assert '<html lang="zh-hans">' in html
    assert "工作台" in html and "收件箱" in html and "Dashboard" not in html
    page = registrar.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert "事项信息" in page and "待转送" in page and "Case details" not in page


@pytest.mark.parametrize("accept", ["en", "en-US,en;q=0.9", "fr", "de-DE,de;q=0.9"])
def test_the_browsers_language_does_not_change_the_interface(registrar, accept):
    response = registrar.get(reverse("home"), HTTP_ACCEPT_LANGUAGE=accept)
    assert response["Content-Language"] == "zh-hans"
    html = response.content.decode()
    assert "工作台" in html and "Dashboard" not in html


@pytest.mark.parametrize("accept", ["", "zh-CN,zh;q=0.9", "en-US,en;q=0.9"])
def test_the_english_choice_gives_the_english_home_page(registrar, accept):
    response = english(registrar).get(reverse("home"), HTTP_ACCEPT_LANGUAGE=accept)
    assert response.status_code == 200
    assert response["Content-Language"] == "en"
    html = response.content.decode()
    assert '<html lang="en">' in html
    for text in ("Dashboard", "Inbox", "Petition cases", "Register a petition case", "To do in this organ",
                 "Log out", "Petition Work Platform", "Registrar"):
        assert text in html, text
    assert "工作台" not in html and "收件箱" not in html


@pytest.mark.parametrize("cookie", ["fr", "xx", ""])
def test_a_choice_the_site_does_not_offer_gives_chinese(registrar, cookie):
    registrar.cookies[settings.LANGUAGE_COOKIE_NAME] = cookie
    html = registrar.get(reverse("home")).content.decode()
    assert "工作台" in html and "Dashboard" not in html


def test_the_case_list_in_english(registrar, make_case):
    case = make_case("registered", title="小区电梯长期故障无人维修")
    html = english(registrar).get(reverse("case_list")).content.decode()
    for text in ("Petition cases", "Received on", "Petitioner", "Channel", "Search", "Clear", "Awaiting routing",
                 "Letter", "Complaints and claims", "Deadline status", case.number):
        assert text in html, text
    # Data stays as entered: the case's own text is not translated.
    assert "小区电梯长期故障无人维修" in html
    assert "查询" not in html and "待转送" not in html


def test_the_case_page_in_english(registrar, make_case):
    case = make_case("registered")
    html = english(registrar).get(reverse("case_detail", args=[case.pk])).content.decode()
    for text in ("Case details", "Available actions", "Forward / assign", "Handling record", "Documents",
                 "Attachments", "Petition category", "Complaints and claims", "Awaiting routing", "Register"):
        assert text in html, text
    assert "事项信息" not in html and "办理记录" not in html


def test_an_action_form_in_english(registrar, make_case):
    case = make_case("registered")
    response = english(registrar).get(reverse("case_action", args=[case.pk, "route"]))
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("Routing method", "Destination organ", "Assigned deadline", "Forward", "Assign", "Cancel",
                 "Litigation–petition separation (to political-legal organs)", "Choose an organ"):
        assert text in html, text
    assert "交转方式" not in html


def test_an_assignment_without_deadline_is_refused_in_english(cast, registrar, make_case):
    case = make_case("registered")
    url = reverse("case_action", args=[case.pk, "route"])
    response = english(registrar).post(url, {"kind": RouteKind.ASSIGN, "organ": cast.housing.pk})
    assert response.status_code == 400
    assert "An assignment needs a deadline for completion." in response.content.decode()
    case.refresh_from_db()
    assert case.state == State.REGISTERED and not case.documents.exists()


def test_a_refused_action_explains_itself_in_english(cast, client, make_case):
    case = make_case("handling")
    client.force_login(cast.handler)  # a case handler, not the head of organ
    response = english(client).get(reverse("case_action", args=[case.pk, "extend"]))
    assert response.status_code == 403
    assert "&quot;Extend&quot; may only be done by: Head of organ." in response.content.decode()


def test_login_page_in_english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(reverse("login")).content.decode()
    for text in ("Log in", "User name", "Password", "Petition Work Platform"):
        assert text in html, text
    assert "登录" not in html


# --------------------------------------------------------------------------- the switch


def switch_form(html: str) -> str:
    match = re.search(r'<form[^>]*action="/i18n/setlang/"[^>]*>(.*?)</form>', html, re.S)
    assert match, "no language switch on the page"
    return match.group(1)


def test_the_switch_is_in_the_top_bar_of_every_page_and_the_login_page(registrar, client):
    logged_in = switch_form(registrar.get(reverse("case_list"), {"q": "电梯"}).content.decode())
    assert 'name="csrfmiddlewaretoken"' in logged_in
    # `next` is the page itself, query included, so switching keeps the user's search.
    assert 'name="next" value="/cases/?q=%E7%94%B5%E6%A2%AF"' in logged_in
    # The current language is marked, the other one is a button naming itself in its own language.
    assert '<strong lang="zh-hans" aria-current="true">简体中文</strong>' in logged_in
    assert 'name="language" value="en" lang="en"' in logged_in and ">English</button>" in logged_in

    anonymous = switch_form(Client().get(reverse("login")).content.decode())
    assert 'name="next" value="/accounts/login/"' in anonymous
    assert 'value="en"' in anonymous


def test_switching_language_returns_to_the_page_and_sticks(registrar):
    response = registrar.post("/i18n/setlang/", {"language": "en", "next": "/cases/?page=1"})
    assert response.status_code == 302 and response["Location"] == "/cases/?page=1"
    assert registrar.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert "Petition cases" in registrar.get(reverse("home")).content.decode()

    registrar.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    html = registrar.get(reverse("home")).content.decode()
    assert "工作台" in html and "Dashboard" not in html


def test_the_switch_refuses_unknown_languages_and_foreign_redirects(registrar):
    # Django knows French (its own catalogues), the site does not offer it (LANGUAGES): Chinese.
    registrar.post("/i18n/setlang/", {"language": "fr", "next": "/cases/"})
    assert "工作台" in registrar.get(reverse("home")).content.decode()
    response = registrar.post("/i18n/setlang/", {"language": "xx", "next": "/cases/"})
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies

    response = registrar.post("/i18n/setlang/", {"language": "en", "next": "https://evil.example/"})
    assert response.status_code == 302
    assert "evil.example" not in response["Location"]


def test_the_switch_needs_a_csrf_token(cast):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.registrar)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 403


# --------------------------------------------------------------------------- official documents


def test_official_documents_stay_chinese_when_the_actor_uses_english(cast, make_case):
    from xinfang.documents.render import compose

    case = make_case("registered")
    with translation.override("en"):
        workflow.route_case(cast.registrar, case, kind=RouteKind.FORWARD, organ=cast.housing)
    slip = case.documents.get(kind=DocKind.FORWARD)
    text = "\n".join(compose(slip).body)
    assert "Forward" not in text and "交转方式:转送。" in text
