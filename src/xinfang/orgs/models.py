"""Organs (机关), their regions, and the people who work in them.

An organ sits in a tree (`parent` is its superior organ, which receives 复查/复核 requests under
Art.35–36). A user belongs to one organ and holds one or more roles; what a role allows is decided
in `xinfang.cases.access`, nowhere else.
"""
from __future__ import annotations

from functools import cached_property

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    NATIONAL = "national", _("国家")
    PROVINCE = "province", _("省")
    CITY = "city", _("市")
    COUNTY = "county", _("县区")
    TOWNSHIP = "township", _("乡镇街道")
    VILLAGE = "village", _("村社区")


LEVEL_ORDER = [c.value for c in Level]


class Region(models.Model):
    """An administrative area (行政区划); cases and organs belong to one."""

    code = models.CharField(_("区划代码"), max_length=12, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    level = models.CharField(_("层级"), max_length=16, choices=Level.choices)
    parent = models.ForeignKey("self", models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("上级区划"))

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def full_name(self) -> str:
        names, node = [], self
        while node is not None:
            names.append(node.name)
            node = node.parent
        return "".join(reversed(names))


class OrganKind(models.TextChoices):
    BUREAU = "bureau", _("信访部门")
    GOVERNMENT = "government", _("人民政府")
    FUNCTIONAL = "functional", _("职能部门")
    DISCIPLINE = "discipline", _("纪检监察")
    POLITICAL_LEGAL = "political_legal", _("政法委")
    COURT = "court", _("法院")
    PROCURATORATE = "procuratorate", _("检察院")
    POLICE = "police", _("公安")
    ARBITRATION = "arbitration", _("仲裁委")
    MEDIATION = "mediation", _("调解组织")


# Organs that take 涉法涉诉 matters under 诉访分离 (Art.22, Art.28).
LEGAL_KINDS = {OrganKind.POLITICAL_LEGAL, OrganKind.COURT, OrganKind.PROCURATORATE, OrganKind.POLICE}


class Organ(models.Model):
    """A government organ or other body that registers, handles or reviews petitions."""

    name = models.CharField(_("名称"), max_length=100, unique=True)
    short_name = models.CharField(_("简称"), max_length=20, help_text=_("用于文书编号,如“江信”"))
    code = models.SlugField(_("机构代码"), max_length=20, unique=True, help_text=_("用于信访事项编号,如 JZXF"))
    level = models.CharField(_("层级"), max_length=16, choices=Level.choices)
    kind = models.CharField(_("类型"), max_length=20, choices=OrganKind.choices)
    region = models.ForeignKey(Region, models.PROTECT, related_name="organs", verbose_name=_("所属区划"))
    parent = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="children",
        verbose_name=_("上级机关"), help_text=_("受理对本机关处理意见的复查、复核请求(条例第35、36条)"),
    )
    address = models.CharField(_("地址"), max_length=200, blank=True)
    phone = models.CharField(_("电话"), max_length=40, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("机关")
        verbose_name_plural = _("机关")
        ordering = ["region__code", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_bureau(self) -> bool:
        return self.kind == OrganKind.BUREAU

    def descendant_ids(self) -> set[int]:
        """Ids of this organ and every organ below it (one query per level of the tree)."""
        found, frontier = {self.pk}, [self.pk]
        while frontier:
            frontier = list(Organ.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
            frontier = [pk for pk in frontier if pk not in found]
            found.update(frontier)
        return found


class Role(models.TextChoices):
    REGISTRAR = "registrar", _("登记员")
    HANDLER = "handler", _("承办人")
    HEAD = "head", _("单位负责人")
    SUPERVISOR = "supervisor", _("督查员")
    LEADER = "leader", _("领导")
    MEDIATOR = "mediator", _("调解员")
    ANALYST = "analyst", _("分析员")
    ADMIN = "admin", _("管理员")


class User(AbstractUser):
    """A member of staff (with an organ and roles) or a citizen using the portal (no organ)."""

    full_name = models.CharField(_("姓名"), max_length=50, blank=True)
    organ = models.ForeignKey(Organ, models.PROTECT, null=True, blank=True, related_name="staff", verbose_name=_("所在机关"))
    roles = models.JSONField(_("角色"), default=list, blank=True, help_text=_("角色代码列表"))
    phone = models.CharField(_("电话"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.full_name or self.username

    @cached_property
    def role_set(self) -> frozenset[str]:
        return frozenset(self.roles or [])

    def has_role(self, *roles: str) -> bool:
        return bool(self.role_set.intersection(roles))

    def role_labels(self) -> list[str]:
        return [Role(r).label for r in self.roles if r in Role.values]
