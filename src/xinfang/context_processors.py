"""Template context shared by every workbench page."""
from __future__ import annotations


def workbench(request):
    user = getattr(request, "user", None)
    if not getattr(user, "is_authenticated", False):
        return {}
    return {"user_roles": user.role_set, "user_organ": user.organ}
