"""`xinfang portal_code <case number>`: issue a new query code (查询码) for a case submitted online,
when the petitioner lost theirs and proved who they are at the bureau. The old code stops working;
the new one is printed once and sent through the notifier to the petitioner's phone."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from xinfang.audit.log import append as audit
from xinfang.portal import services
from xinfang.portal.models import Submission
from xinfang.portal.notify import send_query_code


class Command(BaseCommand):
    help = "Issue a new portal query code for an online case (the old code stops working)."

    def add_arguments(self, parser):
        parser.add_argument("number", help="case number, e.g. JZXF-2026-000001")
        parser.add_argument("--no-send", action="store_true", help="print the code only, do not notify the petitioner")

    def handle(self, number, no_send=False, **options):
        number = number.strip().upper()
        with transaction.atomic():
            submission = Submission.objects.select_for_update().select_related("case").filter(case__number=number).first()
            if submission is None:
                raise CommandError(f"{number}: no online submission with this number")
            code = services.new_query_code()
            submission.code_hash = services.hash_query_code(code)
            submission.save(update_fields=["code_hash"])
            audit(None, "portal.code_reissued", submission.case, number=number)
        if not no_send:
            petitioner = submission.case.petitioners.first()
            send_query_code(case_number=number, code=code, phone=petitioner.phone if petitioner else "",
                            email=submission.email)
        self.stdout.write(f"{number} new query code: {code}")
