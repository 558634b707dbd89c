"""xinfang token create|revoke|list — API tokens for organ systems (docs/api.md)."""
from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from xinfang.api.models import ApiToken


class Command(BaseCommand):
    help = "Create, revoke and list API tokens (Authorization: Bearer <token>)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="op", required=True)
        create = sub.add_parser("create", help="Create a token acting as USER; prints the secret once.")
        create.add_argument("username", help="the user the token acts as (its organ and roles apply)")
        create.add_argument("--name", required=True, help="the system using it, e.g. 12345热线")
        create.add_argument("--days", type=int, default=None, help="expire after this many days (default: never)")
        revoke = sub.add_parser("revoke", help="Revoke a token by its prefix (as shown by list) or id.")
        revoke.add_argument("token", help="the token's prefix (xf_…), id, or the full secret")
        lst = sub.add_parser("list", help="List tokens.")
        lst.add_argument("--user", default=None, help="only this user's tokens")
        lst.add_argument("--all", action="store_true", help="include revoked and expired tokens")

    def handle(self, *args, op, **options):
        getattr(self, f"_{op}")(**options)

    def _create(self, username, name, days, **_):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no such user: {username}")
        if not user.is_active:
            raise CommandError(f"user {username} is inactive")
        if not name.strip():
            raise CommandError("--name must not be empty")
        if days is not None and days < 1:
            raise CommandError("--days must be at least 1")
        expires = timezone.now() + dt.timedelta(days=days) if days else None
        token, raw = ApiToken.issue(user, name.strip(), expires_at=expires)
        self.stdout.write(raw)
        self.stderr.write(f"token {token.prefix}… (id {token.pk}) for {username}"
                          + (f", expires {timezone.localtime(expires):%Y-%m-%d %H:%M}" if expires else ", no expiry")
                          + ". Store it now: it is not shown again.")

    def _revoke(self, token, **_):
        from xinfang.api.models import digest

        value = token.strip()
        qs = ApiToken.objects.all()
        if value.isascii() and value.isdigit():
            found = list(qs.filter(pk=int(value)))
        else:
            found = list(qs.filter(key_hash=digest(value))) or list(qs.filter(prefix=value.rstrip("…")))
        if not found:
            raise CommandError(f"no token matches {value}")
        if len(found) > 1:
            raise CommandError(f"{len(found)} tokens match {value}; use the id")
        t = found[0]
        if t.revoke():
            self.stdout.write(f"revoked {t.prefix}… ({t.name}, user {t.user.username})")
        else:
            self.stdout.write(f"{t.prefix}… was already revoked")

    def _list(self, user=None, all=False, **_):
        qs = ApiToken.objects.select_related("user").order_by("pk")
        if user:
            qs = qs.filter(user__username=user)
        if not all:
            qs = qs.usable()
        for t in qs:
            fmt = lambda v: timezone.localtime(v).strftime("%Y-%m-%d %H:%M") if v else "-"  # noqa: E731
            self.stdout.write(f"{t.pk}\t{t.prefix}…\t{t.user.username}\t{t.name}\t{t.status_label}\t"
                              f"expires {fmt(t.expires_at)}\tlast used {fmt(t.last_used_at)}")
