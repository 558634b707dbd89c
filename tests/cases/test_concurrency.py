"""Two people acting on one case at once: exactly one succeeds (the row lock in workflow._lock).

Each worker runs in its own thread with its own database connection, so the services really race:
on PostgreSQL the second SELECT … FOR UPDATE waits for the first transaction and then sees the new
state; on SQLite the IMMEDIATE transaction mode takes the write lock at BEGIN, which serialises
the writers the same way. Both workers are released together by a barrier.

These tests need committed data, hence transaction=True. The flush after a transactional test
empties every table; the cast fixture re-seeds the rules and calendar (serialized_rollback would
collide with the content types that other transactional tests' flush recreates).
"""
from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections, connection

from tests.cases.test_workflow import pet
from tests.conftest import petition_data
from xinfang.audit import log
from xinfang.cases import workflow
from xinfang.cases.access import WorkflowError
from xinfang.cases.models import Case, CaseCounter, State

pytestmark = pytest.mark.django_db(transaction=True)


def race(*jobs):
    """Run each job in its own thread and connection, started together. Returns (results, errors)."""
    barrier = threading.Barrier(len(jobs))
    results, errors = [], []
    lock = threading.Lock()

    def run(job):
        try:
            barrier.wait(timeout=10)
            value = job()
            with lock:
                results.append(value)
        except WorkflowError as exc:
            with lock:
                errors.append(exc)
        except Exception as exc:  # pragma: no cover - reported by the assertion below
            with lock:
                errors.append(exc)
        finally:
            connection.close()  # each thread opened its own connection

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a worker hung"
    close_old_connections()
    return results, errors


def test_two_handlers_accepting_at_once_one_wins_art23(cast, make_case):
    case = make_case("pending")
    results, errors = race(
        lambda: workflow.accept_case(cast.handler, case, route="r6"),
        lambda: workflow.accept_case(cast.head, case, route="r5"),
    )
    assert len(results) == 1 and len(errors) == 1
    assert isinstance(errors[0], WorkflowError) and "当前状态" in errors[0].message
    case.refresh_from_db()
    assert case.state == State.HANDLING and case.handling_route == results[0].handling_route
    assert case.events.filter(action="accept").count() == 1
    assert case.deadlines.filter(rule_id="handle").count() == 1
    assert case.documents.filter(kind="acceptance").count() == 1


def test_accept_and_object_at_once_one_wins_art23(cast, make_case):
    case = make_case("pending")
    results, errors = race(
        lambda: workflow.accept_case(cast.handler, case, route="r6"),
        lambda: workflow.object_case(cast.head, case, reason="不属于本局"),
    )
    assert len(results) == 1 and len(errors) == 1 and isinstance(errors[0], WorkflowError)
    case.refresh_from_db()
    assert case.state in (State.HANDLING, State.RETURNED)
    assert case.events.filter(action__in=["accept", "object"]).count() == 1
    assert log.verify()[1] is None


def test_two_extensions_at_once_only_one_is_granted_art34(cast, make_case):
    case = make_case("handling")
    cast.head2 = type(cast.head).objects.create_user("head2", organ=cast.housing, roles=["head"], password="x-x-x-x-x-x")
    results, errors = race(
        lambda: workflow.extend_deadline(cast.head, case, days=10, reason="鉴定"),
        lambda: workflow.extend_deadline(cast.head2, case, days=20, reason="勘验"),
    )
    assert len(results) == 1 and len(errors) == 1 and "只能延长一次" in errors[0].message
    case.refresh_from_db()
    assert case.extended and case.events.filter(action="extend").count() == 1


def test_registrations_at_once_get_distinct_numbers_art21(cast):
    results, errors = race(*[
        (lambda: workflow.register_case(cast.registrar, petition_data(), [pet()])) for _ in range(3)
    ])
    assert errors == []
    assert sorted(c.number for c in results) == ["JZXF-2026-000001", "JZXF-2026-000002", "JZXF-2026-000003"]
    assert CaseCounter.objects.get(bureau=cast.bureau, year=2026).last == 3
    assert Case.objects.count() == 3
    checked, bad, _reason = log.verify()
    assert bad is None and checked == 3
