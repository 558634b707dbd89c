"""Request and response shapes of the REST API (pydantic models through django-ninja).

Every string a caller sends is checked for NUL bytes and lone surrogates (a database refuses them
with a server error otherwise), every id and date is bounded, so bad input is a 422, never a 500.
"""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, Optional

from ninja import Schema
from pydantic import AfterValidator, Field

from xinfang.cases.models import REVIEW_OUTCOMES, Category, Channel, HandlingRoute, Outcome, RouteKind, Satisfaction, State
from xinfang.orgs.models import Level, OrganKind

MAX_ID = 2**53  # ids beyond this are not ours and would overflow SQLite's INTEGER
TEXT_MAX = 5000  # as the workbench's forms (handling/forms.py)


def _clean_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("nul")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("surrogate") from None
    return value


def _bounded_date(value: dt.date) -> dt.date:
    if not dt.date(1900, 1, 1) <= value <= dt.date(2100, 12, 31):
        raise ValueError("range")
    return value


def _bounded_datetime(value: dt.datetime) -> dt.datetime:
    _bounded_date(value.date())
    return value


Text = Annotated[str, AfterValidator(_clean_text)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Day = Annotated[dt.date, AfterValidator(_bounded_date)]
Moment = Annotated[dt.datetime, AfterValidator(_bounded_datetime)]


def choice(values):
    """A Literal of the given values (enum in OpenAPI, 422 with the choices otherwise)."""
    return Literal[tuple(str(v) for v in values)]  # type: ignore[valid-type]


ChannelCode = choice(Channel.values)
CategoryCode = choice(Category.values)
StateCode = choice(State.values)
RouteKindCode = choice(RouteKind.values)
HandlingRouteCode = choice(HandlingRoute.values)
OutcomeCode = choice(Outcome.values)
ReviewOutcomeCode = choice(o.value for o in REVIEW_OUTCOMES)
SatisfactionCode = choice(Satisfaction.values)


# --------------------------------------------------------------------------- reference data


class OrganOut(Schema):
    id: int
    name: str
    short_name: str
    code: str
    level: choice(Level.values)
    kind: choice(OrganKind.values)
    kind_label: str
    parent_id: Optional[int]
    region: str
    is_active: bool


class TopicOut(Schema):
    id: int
    name: str
    full_name: str
    parent_id: Optional[int]
    is_active: bool


# --------------------------------------------------------------------------- cases


class PetitionerIn(Schema):
    name: Annotated[Text, Field(max_length=50)]
    id_number: Annotated[Text, Field(max_length=18)] = ""
    phone: Annotated[Text, Field(max_length=20)] = ""
    address: Annotated[Text, Field(max_length=200)] = ""
    is_representative: bool = False


class CaseIn(Schema):
    """A petition to register (Art.17, 19, 21); the token's user must be a registrar."""

    channel: ChannelCode = "online"
    received_at: Optional[Moment] = Field(None, description="收到时间(ISO 8601);缺省为当前时间")
    title: Annotated[Text, Field(max_length=200)]
    content: Annotated[Text, Field(max_length=20000)]
    category: CategoryCode
    topic_id: Optional[Id] = None
    region_code: Optional[Annotated[Text, Field(max_length=12)]] = None
    head_count: Annotated[int, Field(ge=1, le=100000)] = 1
    skip_level: bool = False
    group_visit: bool = False
    major_urgent: bool = False
    law_related: bool = False
    accused_organ_id: Optional[Id] = None
    related_case_id: Optional[Id] = None
    same_facts: bool = False
    petitioners: Annotated[list[PetitionerIn], Field(max_length=200)]


class PetitionerOut(Schema):
    name: str
    id_number: str
    phone: str
    address: str
    is_representative: bool


class CaseSummary(Schema):
    id: int
    number: str
    title: str
    state: StateCode
    state_label: str
    closure: str
    category: CategoryCode
    category_label: str
    channel: ChannelCode
    received_at: dt.datetime
    registered_at: dt.datetime
    bureau_id: int
    current_organ_id: int
    current_organ: str
    handling_organ_id: Optional[int]
    topic_id: Optional[int]
    due_on: Optional[dt.date]
    grade: Optional[str]
    replied_at: Optional[dt.datetime]
    closed_at: Optional[dt.datetime]
    updated_at: dt.datetime


class CaseDetail(CaseSummary):
    content: str
    head_count: int
    region_code: Optional[str]
    skip_level: bool
    group_visit: bool
    major_urgent: bool
    law_related: bool
    accused_organ_id: Optional[int]
    related_case_id: Optional[int]
    same_facts: bool
    route_kind: str
    handling_route: str
    outcome: str
    review_outcome: str
    assigned_due: Optional[dt.date]
    extended: bool
    delivered_on: Optional[dt.date]
    satisfaction_organ: str
    satisfaction_bureau: str
    petitioners: list[PetitionerOut]
    petitioners_revealed: bool = Field(description="true 时为完整个人信息(已记入审计日志),否则为脱敏信息")
    allowed_actions: list[str] = Field(description="令牌用户当前可以进行的办理环节")


class CasePage(Schema):
    count: int
    limit: int
    offset: int
    items: list[CaseSummary]


class EventOut(Schema):
    id: int
    action: str
    label: str
    at: dt.datetime
    actor: str
    organ_id: Optional[int]
    organ: str
    target_organ_id: Optional[int]
    from_state: str
    to_state: str
    note: str


class DocumentOut(Schema):
    id: int
    number: str
    title: str
    kind: str
    kind_label: str
    organ_id: int
    organ: str
    issued_at: dt.datetime
    for_petitioner: bool
    docx_url: str
    pdf_url: str


class ActionResult(Schema):
    case: CaseDetail
    documents: list[DocumentOut] = Field(description="本次办理出具的文书")


class ActionOut(Schema):
    name: str
    label: str
    article: str
    allowed: bool
    refusal: str


class EvaluationOut(Schema):
    case_id: int
    number: str
    handling_organ_id: Optional[int]
    satisfaction_organ: str
    satisfaction_bureau: str
    evaluated_at: Optional[dt.datetime]
    window_due_on: Optional[dt.date]


class EvaluationPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[EvaluationOut]


class ProblemField(Schema):
    field: str
    detail: str


class ProblemOut(Schema):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    instance: Optional[str] = None
    errors: Optional[list[ProblemField]] = None


# --------------------------------------------------------------------------- transitions


Note = Annotated[Text, Field(max_length=TEXT_MAX)]


class RouteIn(Schema):
    kind: RouteKindCode
    organ_id: Id
    note: Note = ""
    assigned_due: Optional[Day] = None


class InformIn(Schema):
    channel: Annotated[Text, Field(max_length=50)] = Field(description="应当通过的法定途径,如“诉讼”“仲裁”“行政复议”")
    reason: Note


class ReasonIn(Schema):
    reason: Note


class AcceptIn(Schema):
    route: HandlingRouteCode
    note: Note = ""


class DecideObjectionIn(Schema):
    agree: bool
    note: Note = ""


class ExtendIn(Schema):
    days: Annotated[int, Field(ge=1, le=365)]
    reason: Note


class ReplyIn(Schema):
    outcome: OutcomeCode
    opinion: Note
    facts: Note = ""
    basis: Note = ""
    delivered_on: Optional[Day] = None
    report: Note = ""


class EvaluateIn(Schema):
    organ_satisfaction: SatisfactionCode
    bureau_satisfaction: Literal[("", *Satisfaction.values)] = ""  # type: ignore[valid-type]


class RequestReviewIn(Schema):
    reason: Note
    requested_on: Optional[Day] = None


class ReviewIn(Schema):
    outcome: ReviewOutcomeCode
    opinion: Note


class HearingIn(Schema):
    days: Annotated[int, Field(ge=1, le=90)]
    note: Note
