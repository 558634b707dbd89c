"""`xinfang keys generate | status | rotate`: the key that encrypts personal data at rest.

Rotation (docs/security.md): put the new key in XINFANG_DATA_KEY and the old one in
XINFANG_DATA_KEYS_OLD, restart, run `xinfang keys rotate` (re-encrypts every row still under an
old key, in batches; safe to interrupt and rerun), then drop the old key. Until rotation has
finished, exact searches by ID number or phone miss rows still under the old key.
"""
from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.translation import gettext as _

from xinfang.audit.log import append as audit
from xinfang.cases import crypto
from xinfang.cases.models import Petitioner

FIELDS = ("id_number", "phone", "address")
BATCH = 2000


def raw_rows(after: int, limit: int) -> list[tuple]:
    """(pk, stored id_number, phone, address) as stored, without decrypting."""
    from django.db import connection

    table = connection.ops.quote_name(Petitioner._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(Petitioner._meta.get_field(f).column) for f in FIELDS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {columns} FROM {table} WHERE id > %s ORDER BY id LIMIT %s", [after, limit])
        return cursor.fetchall()


def stale(row: tuple, current: str) -> bool:
    """Whether a stored row holds plaintext or a token under another key."""
    return any(value and crypto.stored_key_id(value) != current for value in row[1:])


class Command(BaseCommand):
    help = "Manage the key that encrypts petitioners' ID numbers, phones and addresses."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("generate", help=_("生成一个新密钥(写入 XINFANG_DATA_KEY)"))
        sub.add_parser("status", help=_("显示当前密钥编号和仍需重新加密的记录数"))
        sub.add_parser("rotate", help=_("用当前密钥重新加密所有记录"))

    def handle(self, *args, action, **options):
        if action == "generate":
            self.stdout.write(crypto.generate_key())
            return
        current = crypto.current_key_id()
        if action == "status":
            left, after = 0, 0
            while rows := raw_rows(after, BATCH):
                left += sum(1 for row in rows if stale(row, current))
                after = rows[-1][0]
            self.stdout.write(_("当前密钥编号:%(kid)s;仍需重新加密的信访人记录:%(n)s条。") % {"kid": current, "n": left})
            return
        done, after = 0, 0
        while rows := raw_rows(after, BATCH):
            todo = [row[0] for row in rows if stale(row, current)]
            with transaction.atomic():
                for p in Petitioner.objects.filter(pk__in=todo).only("pk", *FIELDS):
                    # Reading decrypts with whichever key wrote the row; saving encrypts with the current one.
                    Petitioner.objects.filter(pk=p.pk).update(**{f: getattr(p, f) for f in FIELDS})
            done += len(todo)
            after = rows[-1][0]
        audit(None, "keys.rotate", None, key=current, rows=done)
        self.stdout.write(_("已用密钥%(kid)s重新加密%(n)s条信访人记录。") % {"kid": current, "n": done})
