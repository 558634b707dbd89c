"""Signals other parts of the system listen to.

`cases_created` is sent, inside the creating transaction, whenever cases come into being: by a
registrar's form, the portal, the API, a ledger import or the demo generator. Receivers (duplicate
detection, suggestions) get the new primary keys and load what they need in bulk, so one import
batch costs them a few queries, not a few per case. A receiver that raises rolls the creation back.

    cases_created.send(sender=Case, case_ids=[...], source="form" | "portal" | "api" | "import" | "demo")
"""
from django.dispatch import Signal

cases_created = Signal()
