"""Rendering a Document record as an official letter: DOCX (editable) and PDF (CJK font embedded).

The text of every letter is composed once, per kind, into a `Letter` (heading, title, number,
addressee, body paragraphs, signature, date, footer); the two renderers only lay it out. The
composition reads the Document record (its number, organ, `fields`, issue date) and its case (number,
title, received date, petitioners), so the same record always gives the same letter.

Documents sent to the petitioner are addressed to the petitioner by name and delivery address.
转送单 and 交办单 are addressed to the receiving organ and carry what it needs to act on the case
(petitioner name and address, the matter), never ID numbers or phone numbers.
"""
from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import prefetch_related_objects
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from docx import Document as Docx
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from xinfang.cases.models import Category, HandlingRoute

from .models import DocKind, Document
from .numbering import letter_recipients

REGULATION = gettext_lazy("《信访工作条例》")

# TrueType CJK fonts reportlab can embed, in order of preference, with the Debian package that
# ships each. Noto CJK is not listed: its .ttc files carry CFF (PostScript) outlines, which
# reportlab cannot embed ("postscript outlines are not supported").
FONT_CANDIDATES = [
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",  # fonts-wqy-microhei
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",  # fonts-wqy-zenhei
    "/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf",  # fonts-arphic-gbsn00lp (宋体 style)
    "/usr/share/fonts/truetype/arphic/uming.ttc",  # fonts-arphic-uming
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",  # fonts-droid-fallback
]

# Word font names: 仿宋 for the body and 宋体 for the heading and title, as in GB/T 9704 letters.
DOCX_BODY_FONT = "仿宋"
DOCX_TITLE_FONT = "宋体"
RED = "C00000"

CONTENT_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}


class PdfFontMissing(RuntimeError):
    """No CJK TrueType font usable for PDF documents was found (a deployment problem)."""


# --------------------------------------------------------------------------- composition


@dataclass
class Letter:
    heading: str  # the issuing organ
    title: str
    number: str
    addressee: str  # the 主送 line, ending in a colon
    body: list[str]
    signature: str
    date: str
    footer: list[str] = field(default_factory=list)


def cn_date(value: dt.date | dt.datetime | str | None) -> str:
    """2026年6月1日 (the date style of GB/T 9704-2012); '' for no date."""
    if not value:
        return ""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        value = timezone.localdate(value)
    return f"{value.year}年{value.month}月{value.day}日"


TERMINAL = "。!?….!?”"


def _sentence(text) -> str:
    """Free text written by staff, ended with a full stop if it has none, so it reads as a sentence."""
    text = str(text or "").strip()
    return text if not text or text.endswith(tuple(TERMINAL)) else text + "。"


def _clause(text) -> str:
    """Free text used inside a sentence (因…,…): its own closing punctuation dropped."""
    return str(text or "").strip().rstrip("。.;;,,!!")


_addressees = letter_recipients


def _you(case) -> str:
    return _("你们") if len(_addressees(case)) > 1 else _("你")


def _matter(document: Document) -> str:
    """The phrase naming the petition in a letter to the petitioner."""
    case = document.case
    return _("%(you)s于%(date)s提出的“%(title)s”信访事项(编号:%(number)s)") % {
        "you": _you(case), "date": cn_date(case.received_at), "title": case.title, "number": case.number}


def _superior_name(document: Document) -> str:
    parent = document.organ.parent
    return parent.name if parent else _("本机关的上一级机关")


def _acceptance(document: Document) -> list[str]:
    f, case = document.fields, document.case
    paras = [
        _("%(matter)s,本机关已于%(date)s依法受理(%(reg)s第二十三条)。") % {
            "matter": _matter(document), "date": cn_date(document.issued_at), "reg": REGULATION},
        _("办理途径:%(route)s。") % {"route": f.get("route", "")},
    ]
    if case.handling_route == HandlingRoute.SUGGESTION:
        paras.append(_("本机关将对建议意见认真研究论证,并将研究结果答复%(you)s(%(reg)s第二十九条)。") % {
            "you": _you(case), "reg": REGULATION})
    elif case.handling_route == HandlingRoute.REPORT:
        paras.append(_("本机关将依规依纪依法处理,并对检举控告人的信息严格保密(%(reg)s第三十条)。") % {"reg": REGULATION})
    elif f.get("simple_days"):
        paras.append(_("本事项事实清楚、争议不大,适用简易办理,本机关将自受理之日起%(days)s日内办结。") % {
            "days": f["simple_days"]})
    elif case.handling_route in (HandlingRoute.DUTY, HandlingRoute.OPINION):
        paras.append(_("依照%(reg)s第三十四条,信访事项应当自受理之日起60日内办结;情况复杂的,经本机关负责人批准,"
                       "可以适当延长办理期限,但延长期限不得超过30日,并告知延期理由。") % {"reg": REGULATION})
    else:
        paras.append(_("该事项将依照有关法律、行政法规规定的程序办理(%(reg)s第三十一条)。") % {"reg": REGULATION})
    if f.get("due"):
        paras.append(_("本事项办理期限至%(due)s。") % {"due": cn_date(f["due"])})
    paras.append(_("特此告知。"))
    return paras


def _not_accepted(document: Document) -> list[str]:
    f = document.fields
    paras = [_("%(matter)s,经审查,本机关决定不予受理。") % {"matter": _matter(document)},
             _("理由:%(reason)s") % {"reason": _sentence(f.get("reason"))}]
    if f.get("related"):
        paras.append(_("关联原信访事项:%(number)s。") % {"number": f["related"]})
    paras.append(_("特此告知。"))
    return paras


def _not_again(document: Document) -> list[str]:
    f = document.fields
    return [
        _("%(matter)s,经审查,与已经复核终结的原信访事项%(related)s系同一事实和理由,本机关决定不再受理。") % {
            "matter": _matter(document), "related": f.get("related", "")},
        _("理由:%(reason)s") % {"reason": _sentence(f.get("reason"))},
        _("依照%(reg)s第三十六条第三款,信访人对复核意见不服,仍然以同一事实和理由提出信访请求的,不再受理。") % {"reg": REGULATION},
        _("特此告知。"),
    ]


def _inform(document: Document) -> list[str]:
    f = document.fields
    return [
        _("%(matter)s,经审查,%(reason)s") % {"matter": _matter(document), "reason": _sentence(f.get("reason"))},
        _("依照%(reg)s第二十二条,该事项应当通过%(channel)s等法定途径解决,请%(you)s依照有关法律、行政法规规定的程序"
          "向有关机关提出。") % {"reg": REGULATION, "channel": _clause(f.get("channel")), "you": _you(document.case)},
        _("特此告知。"),
    ]


def _routing(document: Document) -> list[str]:
    """转送单 and 交办单: what the receiving organ needs to act, and its duties (Art.22, 23, 30)."""
    f, case = document.fields, document.case
    people = "、".join(
        f"{p.name}({p.address})" if p.address else p.name for p in _addressees(case))
    paras = [
        _("现将信访事项(编号:%(number)s)%(route)s你单位,请依法处理。") % {
            "number": case.number, "route": _("交办") if document.kind == DocKind.ASSIGN else _("转送")},
        _("收到日期:%(date)s;信访形式:%(channel)s;信访类别:%(category)s;人数:%(n)s。") % {
            "date": cn_date(case.received_at), "channel": case.get_channel_display(),
            "category": case.get_category_display(), "n": case.head_count},
        _("信访人:%(people)s。") % {"people": people},
        _("标题:%(title)s") % {"title": case.title},
        _("主要内容:%(content)s") % {"content": _sentence(case.content)},
        _("交转方式:%(route)s。") % {"route": f.get("route", "")},
    ]
    if f.get("note"):
        paras.append(_("交转意见:%(note)s") % {"note": _sentence(f["note"])})
    target = document.event.target_organ if document.event_id and document.event else None
    if target is not None and target.is_bureau and not f.get("assigned_due"):
        paras.append(_("请依照%(reg)s第二十二条,自收到之日起15日内按规定转送、交办或者告知信访人。") % {"reg": REGULATION})
    else:
        paras.append(_("请依照%(reg)s第二十三条,自收到之日起15日内决定是否受理并书面告知信访人;认为不属于本单位职权范围的,"
                       "应当自收到之日起5个工作日内书面说明理由,经本机关同意后退回。") % {"reg": REGULATION})
    if f.get("assigned_due"):
        paras.append(_("本事项为交办件,请于%(due)s前办结,并向本机关报送办结报告(%(reg)s第二十二条)。") % {
            "due": cn_date(f["assigned_due"]), "reg": REGULATION})
    if case.category == Category.REPORT:
        paras.append(_("本事项为检举控告类,检举控告材料及检举控告人的信息不得透露或者转给被检举控告的单位和人员"
                       "(%(reg)s第三十条)。") % {"reg": REGULATION})
    return paras


def _extension(document: Document) -> list[str]:
    f = document.fields
    return [
        _("%(matter)s,本机关正在办理。") % {"matter": _matter(document)},
        _("因%(reason)s,依照%(reg)s第三十四条,经本机关负责人批准,办理期限延长%(days)s日,由%(old)s延长至%(new)s。") % {
            "reason": _clause(f.get("reason")), "reg": REGULATION, "days": f.get("days", ""),
            "old": cn_date(f.get("old_due")), "new": cn_date(f.get("new_due"))},
        _("特此告知。"),
    ]


def _numbered(sections: list[tuple[str, str]]) -> list[str]:
    """一、… 二、… for the sections that have text (an empty one is left out, not invented)."""
    numerals = "一二三四五六七八九十"
    present = [(h, t) for h, t in sections if (t or "").strip()]
    return [f"{numerals[i]}、{h}:{_sentence(t)}" for i, (h, t) in enumerate(present)]


def _opinion(document: Document) -> list[str]:
    f = document.fields
    paras = [_("%(matter)s,本机关已依法调查核实,现提出处理意见如下。") % {"matter": _matter(document)}]
    paras += _numbered([(_("信访请求"), f.get("request", "")), (_("调查核实的事实"), f.get("facts", "")),
                        (_("处理意见"), f.get("opinion", "")), (_("处理依据"), f.get("basis", "")),
                        (_("处理结果"), f.get("outcome", ""))])
    paras.append(_("本处理意见依照%(reg)s第三十二条作出。") % {"reg": REGULATION})
    paras.append(_("%(you)s如对本处理意见不服,可以自收到本意见书之日起30日内,向%(superior)s请求复查(%(reg)s第三十五条)。") % {
        "you": _you(document.case), "superior": _superior_name(document), "reg": REGULATION})
    return paras


def _reply(document: Document) -> list[str]:
    f, case = document.fields, document.case
    article = {Category.SUGGESTION: "第二十九条", Category.REPORT: "第三十条"}.get(case.category, "第三十一条")
    paras = [_("%(matter)s收悉。依照%(reg)s%(article)s,现答复如下。") % {
        "matter": _matter(document), "reg": REGULATION, "article": article}]
    paras += _numbered([(_("答复意见"), f.get("opinion", "")), (_("有关事实"), f.get("facts", "")),
                        (_("依据"), f.get("basis", "")), (_("处理结果"), f.get("outcome", ""))])
    paras.append(_("感谢%(you)s对本机关工作的关心和支持。") % {"you": _you(case)} if case.category == Category.SUGGESTION
                 else _("特此答复。"))
    return paras


def _earlier(document: Document, kind: str) -> Document | None:
    """The latest document of `kind` issued on the same case before this one."""
    return document.case.documents.filter(kind=kind, pk__lt=document.pk).select_related("organ").order_by("-pk").first()


def _request_reason(document: Document, action: str) -> str:
    """The petitioner's stated reason for the 复查/复核 request that led to this document."""
    events = document.case.events.filter(action=action)
    if document.event_id:
        events = events.filter(pk__lt=document.event_id)
    event = events.order_by("-pk").first()
    return event.note if event else ""


def _review(document: Document) -> list[str]:
    f = document.fields
    earlier = _earlier(document, DocKind.OPINION)
    against = (_("%(organ)s作出的%(number)s《信访处理意见书》") % {"organ": earlier.organ.name, "number": earlier.number}
               if earlier else _("原信访处理意见"))
    paras = [_("%(you)s对%(against)s不服,请求复查。本机关依照%(reg)s第三十五条进行了复查,现提出复查意见如下。") % {
        "you": _you(document.case), "against": against, "reg": REGULATION}]
    paras += _numbered([(_("复查请求"), _request_reason(document, "request_review")),
                        (_("复查意见"), f.get("opinion", "")), (_("复查结果"), f.get("outcome", ""))])
    paras.append(_("%(you)s如对本复查意见不服,可以自收到本意见书之日起30日内,向%(superior)s请求复核(%(reg)s第三十六条)。") % {
        "you": _you(document.case), "superior": _superior_name(document), "reg": REGULATION})
    return paras


def _re_review(document: Document) -> list[str]:
    f = document.fields
    earlier = _earlier(document, DocKind.REVIEW)
    against = (_("%(organ)s作出的%(number)s《复查意见书》") % {"organ": earlier.organ.name, "number": earlier.number}
               if earlier else _("复查意见"))
    paras = [_("%(you)s对%(against)s不服,请求复核。本机关依照%(reg)s第三十六条进行了复核,现提出复核意见如下。") % {
        "you": _you(document.case), "against": against, "reg": REGULATION}]
    paras += _numbered([(_("复核请求"), _request_reason(document, "request_re_review")),
                        (_("复核意见"), f.get("opinion", "")), (_("复核结果"), f.get("outcome", ""))])
    paras.append(_("本复核意见为该信访事项的最终处理意见。依照%(reg)s第三十六条第三款,信访人对复核意见不服,"
                   "仍然以同一事实和理由提出信访请求的,不再受理。") % {"reg": REGULATION})
    return paras


def _case_facts(document: Document) -> str:
    """The case a supervision letter is about, as its receiving organ knows it (no ID numbers or
    phones: the letter goes to an organ, not to the petitioner)."""
    f, case = document.fields, document.case
    text = _("信访事项(编号:%(number)s,标题:“%(title)s”,收到日期:%(date)s,当前办理机关:%(organ)s,办理状态:%(state)s") % {
        "number": case.number, "title": case.title, "date": cn_date(case.received_at),
        "organ": f.get("current_organ", ""), "state": f.get("state", "")}
    if f.get("due_on"):
        text += _(",当前期限:%(due)s") % {"due": cn_date(f["due_on"])}
        if f.get("overdue_days"):
            text += _(",已超期%(n)s日") % {"n": f["overdue_days"]}
    return text + ")"


# Per kind: the opening (what the letter does and on which article) and the closing request.
_SUPERVISION_TEXT = {
    DocKind.SUPERVISE: (
        gettext_lazy("依照%(reg)s第十四条、第三十九条,现对你单位办理的%(facts)s进行督办。"),
        gettext_lazy("请你单位高度重视,按照要求抓紧办理,并于%(due)s前将办理情况书面报送本机关。"),
    ),
    DocKind.WORK_REMINDER: (
        gettext_lazy("依照%(reg)s第十四条,现就你单位办理的%(facts)s作出工作提醒。"),
        gettext_lazy("请你单位依法按期办理,并于%(due)s前将办理情况书面反馈本机关。"),
    ),
    DocKind.RISK_REMINDER: (
        gettext_lazy("依照%(reg)s第十四条,现就你单位办理的%(facts)s提示风险。"),
        gettext_lazy("请你单位切实做好风险研判和化解稳控工作,并于%(due)s前将采取的措施书面反馈本机关。"),
    ),
    DocKind.IMPROVE_PROPOSAL: (
        gettext_lazy("本机关在督办%(facts)s中发现,你单位存在推诿、敷衍、拖延、弄虚作假或者拒不执行信访处理意见等情形。"
                     "依照%(reg)s第十四条、第四十条,现向你单位提出改进工作的建议,并予以督办。"),
        gettext_lazy("请你单位研究办理,并于%(due)s前将是否采纳本建议及改进情况书面答复本机关。"),
    ),
    DocKind.POLICY_PROPOSAL: (
        gettext_lazy("本机关在办理%(facts)s中发现,有关政策存在需要完善的问题。依照%(reg)s第十四条、第四十条,"
                     "现向你单位提出完善政策的建议。"),
        gettext_lazy("请研究处理,并于%(due)s前将是否采纳本建议的情况书面答复本机关。"),
    ),
    DocKind.ACCOUNTABILITY_PROPOSAL: (
        gettext_lazy("本机关在督办%(facts)s中发现,有关单位和人员在信访工作中失职失责,造成严重后果。依照%(reg)s第十四条、第四十条,"
                     "现向你单位提出追究责任的建议。"),
        gettext_lazy("请你单位依规依纪依法处理,并于%(due)s前将是否采纳本建议及处理情况书面答复本机关。"),
    ),
}


def _supervision(document: Document) -> list[str]:
    """督办函, 工作提醒函, 风险提醒函 and the 三项建议 (Art.14, 39, 40): addressed to an organ, which
    must answer in writing by the date the letter names."""
    f, kind = document.fields, DocKind(document.kind)
    opening, closing = _SUPERVISION_TEXT[kind]
    paras = [str(opening) % {"reg": REGULATION, "facts": _case_facts(document)}]
    if f.get("listed"):
        paras.append(_("该事项已列为挂牌督办事项(%(reg)s第三十九条)。") % {"reg": REGULATION})
    heading = _("建议内容") if kind in (DocKind.IMPROVE_PROPOSAL, DocKind.POLICY_PROPOSAL, DocKind.ACCOUNTABILITY_PROPOSAL) \
        else _("工作要求")
    paras += _numbered([(_("主要问题"), f.get("reason", "")), (heading, f.get("requirement", ""))])
    paras.append(str(closing) % {"due": cn_date(f.get("answer_due"))})
    return paras


def _agreement(document: Document) -> list[str]:
    """人民调解协议书 / 和解协议书 (Art.33): the dispute, the terms the parties agreed, and what the
    agreement means for them."""
    f, case = document.fields, document.case
    mediated = document.kind == DocKind.MEDIATION_AGREEMENT
    paras = [_("信访人%(names)s就信访事项(编号:%(number)s,“%(title)s”)所涉纠纷,经%(organ)s委托,%(how)s,"
               "与有关当事人达成如下协议:") % {
        "names": document.addressee, "number": case.number, "title": case.title, "organ": f.get("referring_organ", ""),
        "how": (_("在调解员%(name)s主持下经%(n)s次调解") % {"name": f.get("mediator") or _("本组织"), "n": f.get("sessions", 1)}
                if mediated else _("各方自行协商"))}]
    paras += [_sentence(line) for line in (f.get("terms") or "").splitlines() if line.strip()]
    if mediated:
        paras.append(_("本协议经各方签字(盖章)后生效,具有法律约束力,当事人应当按照约定履行。当事人可以自本协议生效之日起"
                       "三十日内共同向人民法院申请司法确认(《中华人民共和国人民调解法》第三十一条、第三十三条)。"))
    else:
        paras.append(_("本协议由各方自愿达成,各方应当诚实守信,按照约定履行。"))
    return paras


BODIES = {
    DocKind.ACCEPTANCE: _acceptance,
    DocKind.NOT_ACCEPTED: _not_accepted,
    DocKind.NOT_AGAIN: _not_again,
    DocKind.INFORM: _inform,
    DocKind.FORWARD: _routing,
    DocKind.ASSIGN: _routing,
    DocKind.EXTENSION: _extension,
    DocKind.OPINION: _opinion,
    DocKind.REPLY: _reply,
    DocKind.REVIEW: _review,
    DocKind.RE_REVIEW: _re_review,
    **{kind: _supervision for kind in _SUPERVISION_TEXT},
    DocKind.MEDIATION_AGREEMENT: _agreement,
    DocKind.SETTLEMENT_AGREEMENT: _agreement,
}


def compose(document: Document) -> Letter:
    """The text of `document` as a letter, always in Chinese whatever language the viewer uses."""
    with translation.override(settings.LANGUAGE_CODE):
        case = document.case
        prefetch_related_objects([case], "petitioners")  # read once, used by every sentence
        footer = []
        addresses = document.fields.get("delivery_addresses")
        if document.addressee:
            addressee = document.addressee
            if addresses:
                footer.append(_("送达地址:%(addresses)s") % {"addresses": ";".join(addresses)})
        else:  # documents issued before recipients were recorded at issue time
            people = _addressees(case)
            addressee = "、".join(p.name for p in people)
            addresses = [f"{p.name} {p.address}" if len(people) > 1 else p.address for p in people if p.address]
            if addresses:
                footer.append(_("送达地址:%(addresses)s") % {"addresses": ";".join(addresses)})
        return Letter(
            heading=document.organ.name, title=document.title, number=document.number, addressee=f"{addressee}:",
            body=BODIES[DocKind(document.kind)](document), signature=document.organ.name,
            date=cn_date(document.issued_at), footer=footer,
        )


# --------------------------------------------------------------------------- DOCX


def _east_asian(run_or_style_element, name: str) -> None:
    """Give text a Chinese font: Word picks the East Asian face from w:rFonts/@w:eastAsia."""
    rfonts = run_or_style_element.get_or_add_rPr().get_or_add_rFonts()
    rfonts.set(qn("w:eastAsia"), name)


def render_docx(document: Document) -> bytes:
    """The letter as an editable Word document (A4, GB/T 9704 margins, 仿宋 body, 宋体 title)."""
    letter = compose(document)
    doc = Docx()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)

    # The default template names theme fonts in docDefaults; a theme font outranks an explicit one,
    # so replace them with explicit faces and mark the text as Chinese.
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    rfonts = rpr.find(qn("w:rFonts"))
    for attr in ("w:asciiTheme", "w:eastAsiaTheme", "w:hAnsiTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(attr), None)
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        rfonts.set(qn(attr), "Times New Roman")
    rfonts.set(qn("w:eastAsia"), DOCX_BODY_FONT)
    lang = rpr.find(qn("w:lang"))
    if lang is not None:
        lang.set(qn("w:eastAsia"), "zh-CN")

    normal = doc.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(16)
    _east_asian(normal.element, DOCX_BODY_FONT)
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    normal.paragraph_format.line_spacing = Pt(28)

    def para(text, *, align=None, size=16, bold=False, font=DOCX_BODY_FONT, indent=False, color=None,
             space_after=0, right_indent=0):
        p = doc.add_paragraph()
        if align is not None:
            p.alignment = align
        fmt = p.paragraph_format
        if indent:
            fmt.first_line_indent = Pt(size * 2)
        if right_indent:
            fmt.right_indent = Pt(right_indent)
        fmt.space_after = Pt(space_after)
        if size > 16:
            fmt.line_spacing = Pt(size * 1.5)
        run = p.add_run(text)
        run.font.size, run.font.bold = Pt(size), bold
        run.font.name = "Times New Roman"
        _east_asian(run._element, font)
        if color:
            run.font.color.rgb = RGBColor.from_string(color)
        return p

    center, right = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.RIGHT
    para(letter.heading, align=center, size=26, bold=True, font=DOCX_TITLE_FONT, color=RED, space_after=12)
    para(letter.title, align=center, size=22, bold=True, font=DOCX_TITLE_FONT, space_after=6)
    para(letter.number, align=center, space_after=14)
    para(letter.addressee)
    for text in letter.body:
        para(text, indent=True, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    para("")
    para(letter.signature, align=right, right_indent=32)
    para(letter.date, align=right, right_indent=32)
    if letter.footer:
        para("")
        for text in letter.footer:
            para(text, size=14)

    core = doc.core_properties
    core.title, core.subject = f"{letter.title} {letter.number}", document.case.number
    core.author = core.last_modified_by = document.organ.name
    core.created = core.modified = document.issued_at.astimezone(dt.timezone.utc)  # python-docx writes it as UTC
    core.revision = 1
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


# --------------------------------------------------------------------------- PDF

_registered: dict[str, str] = {}  # font path -> reportlab font name


def pdf_font() -> str:
    """Register the CJK TrueType font for PDF documents and return its reportlab name.

    settings.PDF_FONT (XINFANG_PDF_FONT) wins; otherwise the known Debian paths are tried in order.
    The font is embedded (subset) in every PDF, so readers need no Chinese font of their own.
    Raises PdfFontMissing, naming the setting and the Debian package, when none can be used.
    """
    configured = (getattr(settings, "PDF_FONT", "") or "").strip()
    candidates = [configured] if configured else FONT_CANDIDATES
    problems = []
    for path in candidates:
        if path in _registered:
            return _registered[path]
        if not Path(path).is_file():
            problems.append(_("%(path)s 不存在") % {"path": path})
            continue
        name = f"XinfangCJK{len(_registered) + 1}"
        try:
            # A .ttc holds several faces; the first is the regular one in every candidate above.
            pdfmetrics.registerFont(TTFont(name, path, subfontIndex=0))
        except (TTFError, OSError) as exc:
            problems.append(_("%(path)s 无法使用(%(error)s)") % {"path": path, "error": exc})
            continue
        _registered[path] = name
        return name
    raise PdfFontMissing(_(
        "无法生成PDF文书:未找到可嵌入的中文TrueType字体(%(problems)s)。请安装Debian软件包 fonts-wqy-microhei"
        "(apt-get install fonts-wqy-microhei),或通过环境变量 XINFANG_PDF_FONT 指定中文TrueType字体文件(.ttf/.ttc)的路径。"
    ) % {"problems": ";".join(problems)})


def render_pdf(document: Document) -> bytes:
    """The letter as a PDF/A4 with the CJK font embedded; identical bytes for an unchanged record."""
    font = pdf_font()
    letter = compose(document)

    def style(name, size, leading=None, **kw):
        # wordWrap='CJK' lets a line break between any two Chinese characters.
        return ParagraphStyle(name, fontName=font, fontSize=size, leading=leading or size * 1.6, wordWrap="CJK", **kw)

    heading = style("heading", 24, alignment=TA_CENTER, textColor=colors.HexColor(f"#{RED}"), spaceAfter=12)
    title = style("title", 20, alignment=TA_CENTER, spaceAfter=6)
    number = style("number", 14, alignment=TA_CENTER, spaceAfter=14)
    body = style("body", 14, 25, firstLineIndent=28, alignment=TA_JUSTIFY)
    plain = style("plain", 14, 25)
    signed = style("signed", 14, 25, alignment=TA_RIGHT, rightIndent=28)
    small = style("small", 11, 18)

    def p(text, st):
        return Paragraph(escape(text).replace("\n", "<br/>"), st)

    story = [p(letter.heading, heading), p(letter.title, title), p(letter.number, number), p(letter.addressee, plain)]
    story += [p(text, body) for text in letter.body]
    story += [Spacer(1, 25), p(letter.signature, signed), p(letter.date, signed)]
    if letter.footer:
        story.append(Spacer(1, 18))
        story += [p(text, small) for text in letter.footer]

    out = io.BytesIO()
    SimpleDocTemplate(
        out, pagesize=A4, topMargin=37 * mm, bottomMargin=35 * mm, leftMargin=28 * mm, rightMargin=26 * mm,
        title=f"{letter.title} {letter.number}", author=document.organ.name, subject=document.case.number,
        creator="xinfang", invariant=True,  # no creation time or random id: same record, same bytes
    ).build(story)
    return out.getvalue()


# --------------------------------------------------------------------------- files


def file_stem(document: Document) -> str:
    """The number made safe for a file name: 江信受〔2026〕12号 → 江信受-2026-12号."""
    return re.sub(r"[^\w]+", "-", document.number).strip("-") or f"document-{document.pk}"


def _present(file) -> bool:
    return bool(file) and file.storage.exists(file.name)


def ensure_files(document: Document) -> Document:
    """Render the DOCX and PDF of `document` on first need, store them, and return the document.

    Files already stored are kept (a second call renders nothing). The row is locked while rendering
    so two first downloads at once store one pair of files. A file lost from storage is rendered
    again from the record.
    """
    if _present(document.docx) and _present(document.pdf):
        return document
    with transaction.atomic():
        locked = Document.objects.select_for_update(of=("self",)).select_related("case", "organ").get(pk=document.pk)
        renderers = {"docx": render_docx, "pdf": render_pdf}
        # Render every missing format before storing any, so a failure (no PDF font) leaves no file.
        rendered = {fmt: render(locked) for fmt, render in renderers.items() if not _present(getattr(locked, fmt))}
        for fmt, data in rendered.items():
            getattr(locked, fmt).save(f"{file_stem(locked)}.{fmt}", ContentFile(data), save=False)
        if rendered:
            locked.save(update_fields=list(rendered))
    document.docx, document.pdf = locked.docx, locked.pdf
    return document
