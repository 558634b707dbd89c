import datetime as dt

import pytest

from xinfang.cases import workflow
from xinfang.cases.models import RouteKind
from tests.conftest import NOW, petition_data

START = dt.date(2026, 5, 1)
END = dt.date(2026, 6, 30)


@pytest.fixture
def register(cast):
    """register(**fields) → a case registered at the bureau (received an hour ago by default)."""
    def make(**fields):
        pets = fields.pop("petitioners", None) or [workflow.PetitionerData(name="刘市民", phone="13800138000")]
        return workflow.register_case(cast.registrar, petition_data(**fields), pets)
    return make


@pytest.fixture
def route(cast):
    def go(case, organ=None, **kw):
        return workflow.route_case(cast.registrar, case, kind=kw.pop("kind", RouteKind.FORWARD), organ=organ or cast.housing, **kw)
    return go
