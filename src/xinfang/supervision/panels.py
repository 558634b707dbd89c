"""What the supervision panels show on other apps' pages: the case page and the inbox."""
from __future__ import annotations

from django.utils import timezone

from . import services as sv
from .forms import EscalationForm, InstructionForm, LeaderForm, ReasonForm, ResultForm
from .models import LetterKind, LetterStatus, ReminderTo, SupervisionLetter
from .reminders import unread_for


def case_panel_context(request, case) -> dict:
    """The supervision records of a case the user can see, and the forms of the acts they may take."""
    user = request.user
    supervisor, leader = sv.is_supervisor(user), sv.is_leader(user)
    return {
        "case": case,
        "listing": sv.active_listing(case),
        "letters": list(case.supervision_letters.select_related("document", "organ")),
        "assignments": list(case.leader_assignments.select_related("leader", "leader__organ")),
        "instructions": list(case.instructions.select_related("leader", "organ")),
        "escalations": list(case.escalations.select_related("to_organ", "from_organ", "recorded_by")),
        "can_supervise": supervisor,
        "can_instruct": leader,
        "can_escalate": supervisor or leader,
        "is_leader": leader,
        "letter_kinds": LetterKind.choices if supervisor else [],
        "reason_form": ReasonForm() if supervisor else None,
        "leader_form": LeaderForm(leaders=sv.leaders_for(case)) if supervisor else None,
        "instruction_form": InstructionForm() if leader else None,
        "escalation_form": EscalationForm() if supervisor or leader else None,
        "result_form": ResultForm() if supervisor or leader else None,
        "today": timezone.localdate(),
    }


def inbox_panel_context(request) -> dict:
    """Open letters addressed to the user's organ, their unread 临期/超期 reminders, and 批示 on its
    cases not yet signed for."""
    user = request.user
    if not getattr(user, "organ_id", None):
        return {"letters": [], "instructions": [], "reminders": []}
    letters = (SupervisionLetter.objects.filter(organ_id=user.organ_id, status=LetterStatus.OPEN)
               .select_related("case", "document", "issuer").order_by("answer_due", "pk")[:50])
    return {
        "letters": list(letters),
        "reminders": list(unread_for(user, ReminderTo.ORGAN).order_by("letter__answer_due", "pk")[:50]),
        "instructions": list(sv.unread_instructions(user).order_by("-at")[:50]),
        "today": timezone.localdate(),
        "next": request.get_full_path(),
    }
