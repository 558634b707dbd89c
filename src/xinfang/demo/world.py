"""The fictional city of the demo: 临江市 in 南岭省, its regions, organs, staff and topic tree.

Everything here is created idempotently (looked up by region code, organ code, username and topic
path), so running the demo on a database that already holds the city only adds cases. Demo data is
recognised by these keys: regions whose code starts with DEMO_REGION_PREFIX (no real province code
starts with 99), organs in those regions, and users whose e-mail ends with DEMO_EMAIL_DOMAIN.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils.translation import gettext as _

from xinfang.cases.models import Topic
from xinfang.orgs.models import Level, Organ, OrganKind, Region, Role, User

DEMO_PASSWORD = "linjiang-demo-2026"
DEMO_EMAIL_DOMAIN = "demo.linjiang.invalid"
DEMO_REGION_PREFIX = "99"

# --------------------------------------------------------------------------- regions

PROVINCE = ("990000", "南岭省")
CITY = ("990100", "临江市")
# district code, name, short (for organ codes and short names), weight of cases coming from it
DISTRICTS = [
    ("990102", "江城区", "JC", "江城", 35),
    ("990103", "江北区", "JB", "江北", 28),
    ("990104", "南湖区", "NH", "南湖", 22),
    ("990121", "青石县", "QS", "青石", 15),
]
# street/town code, name, its communities or villages
STREETS = {
    "990102": [("990102001", "滨河街道", ["滨河社区", "锦绣社区", "春晖社区"]),
               ("990102002", "望江街道", ["望江社区", "江景社区"])],
    "990103": [("990103001", "北站街道", ["站前社区", "新村社区"]),
               ("990103002", "枫林街道", ["枫林社区", "丹桂社区"])],
    "990104": [("990104001", "南湖街道", ["南湖社区", "荷花社区"]),
               ("990104002", "湖滨街道", ["湖滨社区", "柳岸社区"])],
    "990121": [("990121100", "青石镇", ["青石村", "东岭村", "石门社区"]),
               ("990121200", "石桥乡", ["石桥村", "河口村"])],
}

# --------------------------------------------------------------------------- organs


@dataclass(frozen=True)
class OrganSpec:
    code: str
    name: str
    short: str
    level: str
    kind: str
    region: str  # region code
    parent: str | None  # organ code of the superior organ (receives 复查/复核, Art.35–36)
    dept: str = ""  # the competence key used to route matters (see texts.MATTERS)
    address: str = ""
    phone: str = ""


def _organs() -> list[OrganSpec]:
    L, K = Level, OrganKind
    city = CITY[0]
    specs = [
        OrganSpec("NLSZF", "南岭省人民政府", "岭政", L.PROVINCE, K.GOVERNMENT, PROVINCE[0], None, "gov"),
        OrganSpec("LJSZF", "临江市人民政府", "临政", L.CITY, K.GOVERNMENT, city, "NLSZF", "gov"),
        # The district bureaus sit below the city bureau (as in the test cast), so the city's
        # supervisors and analysts oversee every case registered anywhere in the city.
        OrganSpec("LJXF", "临江市信访局", "临信", L.CITY, K.BUREAU, city, "LJSZF"),
    ]
    city_depts = [
        ("LJZJ", "临江市住房和城乡建设局", "临住建", K.FUNCTIONAL, "zj"),
        ("LJRS", "临江市人力资源和社会保障局", "临人社", K.FUNCTIONAL, "rs"),
        ("LJCG", "临江市城市管理局", "临城管", K.FUNCTIONAL, "cg"),
        ("LJZR", "临江市自然资源和规划局", "临自然资源", K.FUNCTIONAL, "zr"),
        ("LJHB", "临江市生态环境局", "临环", K.FUNCTIONAL, "hb"),
        ("LJJY", "临江市教育局", "临教", K.FUNCTIONAL, "jy"),
        ("LJWJ", "临江市卫生健康委员会", "临卫健", K.FUNCTIONAL, "wj"),
        ("LJJT", "临江市交通运输局", "临交", K.FUNCTIONAL, "jt"),
        ("LJSJ", "临江市市场监督管理局", "临市监", K.FUNCTIONAL, "sj"),
        ("LJGA", "临江市公安局", "临公", K.POLICE, "ga"),
        ("LJLZ", "临江市劳动人事争议仲裁委员会", "临劳仲", K.ARBITRATION, ""),
    ]
    for code, name, short, kind, dept in city_depts:
        specs.append(OrganSpec(code, name, short, L.CITY, kind, city, "LJSZF", dept))
    # Courts, procuratorates, party committees and mediation bodies are not under the government:
    # they have no superior organ here and take no 复查 (their matters follow their own procedures).
    specs += [
        OrganSpec("LJFY", "临江市中级人民法院", "临中法", L.CITY, K.COURT, city, None, "fy"),
        OrganSpec("LJJCY", "临江市人民检察院", "临检", L.CITY, K.PROCURATORATE, city, None, "jc"),
        OrganSpec("LJZFW", "中共临江市委政法委员会", "临政法", L.CITY, K.POLITICAL_LEGAL, city, None, "zfw"),
        OrganSpec("LJJW", "临江市纪委监委", "临纪", L.CITY, K.DISCIPLINE, city, None, "jw"),
        OrganSpec("LJTJ", "临江市人民调解委员会", "临调", L.CITY, K.MEDIATION, city, None),
    ]
    for dcode, dname, dshort, short, _w in DISTRICTS:
        gov = f"{dshort}ZF"
        specs.append(OrganSpec(gov, f"{dname}人民政府", f"{short}政", L.COUNTY, K.GOVERNMENT, dcode, "LJSZF", "gov"))
        specs.append(OrganSpec(f"{dshort}XF", f"{dname}信访局", f"{short}信", L.COUNTY, K.BUREAU, dcode, "LJXF"))
    specs += [
        OrganSpec("JCZJ", "江城区住房和城乡建设局", "江城住建", L.COUNTY, K.FUNCTIONAL, "990102", "JCZF", "zj"),
        OrganSpec("JCCG", "江城区城市管理局", "江城城管", L.COUNTY, K.FUNCTIONAL, "990102", "JCZF", "cg"),
        OrganSpec("JBZJ", "江北区住房和城乡建设局", "江北住建", L.COUNTY, K.FUNCTIONAL, "990103", "JBZF", "zj"),
        OrganSpec("JCBH", "江城区滨河街道办事处", "滨河街", L.TOWNSHIP, K.GOVERNMENT, "990102001", "JCZF", "local"),
        OrganSpec("JCWJ", "江城区望江街道办事处", "望江街", L.TOWNSHIP, K.GOVERNMENT, "990102002", "JCZF", "local"),
        OrganSpec("JBBZ", "江北区北站街道办事处", "北站街", L.TOWNSHIP, K.GOVERNMENT, "990103001", "JBZF", "local"),
        OrganSpec("QSQS", "青石县青石镇人民政府", "青石镇", L.TOWNSHIP, K.GOVERNMENT, "990121100", "QSZF", "local"),
    ]
    roads = ["人民路", "建设大道", "滨江路", "解放路", "府前街", "新华路", "江北大道", "中山路", "长江路", "文化街"]
    out = []
    for i, s in enumerate(specs):
        addr = f"{_region_name(s.region)}{roads[i % len(roads)]}{(i * 37) % 300 + 1}号"
        out.append(OrganSpec(**{**s.__dict__, "address": addr, "phone": f"0990-{6100000 + i * 1111:07d}"}))
    return out


def _region_name(code: str) -> str:
    if code == PROVINCE[0]:
        return PROVINCE[1]
    if code == CITY[0]:
        return CITY[1]
    for dcode, dname, *_rest in DISTRICTS:
        if code == dcode:
            return CITY[1] + dname
        for scode, sname, _c in STREETS[dcode]:
            if code == scode:
                return CITY[1] + dname + sname
    return CITY[1]


ORGANS = _organs()

# --------------------------------------------------------------------------- staff

# Fixed names so that the printed logins stay the same on every run.
_STAFF_NAMES = [
    "李明华", "王建国", "张丽娟", "刘志强", "陈晓燕", "杨国庆", "赵文静", "黄海涛", "周立新", "吴秀英",
    "徐振华", "孙红梅", "胡建军", "朱玉兰", "高志远", "林晓东", "何丽萍", "郭永康", "马俊杰", "罗春梅",
    "梁家辉", "宋晓丽", "郑国华", "谢婷婷", "韩立军", "唐秀珍", "冯志刚", "于海燕", "董建平", "萧雅琴",
    "程卫东", "曹丽华", "袁志明", "邓晓红", "许文斌", "傅雪梅", "沈国强", "曾丽君", "彭学军", "吕晓霞",
    "苏建华", "卢美玲", "蒋志勇", "蔡红英", "贾国栋", "丁晓梅", "魏振东", "薛丽娜", "叶建新", "阎春燕",
    "余志华", "潘丽芳", "杜永强", "戴晓玲", "夏建民", "钟丽萍", "汪国平", "田秀兰", "任志坚", "姜晓燕",
    "范建伟", "方丽娟", "石志国", "姚晓梅", "谭建勇", "廖丽华", "邹国庆", "熊晓静", "金志强", "陆丽娜",
]


@dataclass(frozen=True)
class UserSpec:
    username: str
    organ: str | None  # organ code
    roles: tuple[str, ...]
    superuser: bool = False


def _users() -> list[UserSpec]:
    R = Role
    users = [UserSpec("admin", "LJXF", (R.ADMIN,), superuser=True)]
    for s in ORGANS:
        low = s.code.lower()
        if s.kind == OrganKind.BUREAU:
            users.append(UserSpec(f"{low}_dj", s.code, (R.REGISTRAR,)))
        elif s.kind == OrganKind.MEDIATION:
            users.append(UserSpec(f"{low}_tj", s.code, (R.MEDIATOR,)))
        elif s.code == "NLSZF":
            users.append(UserSpec(f"{low}_cb", s.code, (R.HANDLER,)))
        else:
            users.append(UserSpec(f"{low}_cb", s.code, (R.HANDLER,)))
            users.append(UserSpec(f"{low}_fz", s.code, (R.HEAD,)))
    users += [
        UserSpec("ljxf_dc", "LJXF", (R.SUPERVISOR,)),
        UserSpec("ljxf_fx", "LJXF", (R.ANALYST,)),
        UserSpec("ljszf_ld", "LJSZF", (R.LEADER,)),
    ]
    return users


USERS = _users()

# --------------------------------------------------------------------------- topics

TOPICS: list[tuple[str, list[str]]] = [
    ("城乡建设", ["物业管理", "房屋质量", "房屋征收与安置", "住房保障", "老旧小区改造", "商品房交付与办证"]),
    ("劳动和社会保障", ["拖欠工资", "社会保险", "劳动关系", "工伤认定", "退休待遇"]),
    ("城市管理", ["违法建设", "占道经营", "市容环境卫生", "停车管理", "建筑施工噪声"]),
    ("自然资源", ["土地征收补偿", "不动产登记", "规划审批"]),
    ("生态环境", ["大气污染", "水污染", "噪声污染", "固体废物"]),
    ("教育", ["招生入学", "校外培训", "教师待遇", "校园安全"]),
    ("卫生健康", ["医疗纠纷", "医德医风", "公共卫生"]),
    ("交通运输", ["公交服务", "出租车与网约车", "道路建设养护"]),
    ("市场监管", ["食品安全", "消费维权", "价格收费"]),
    ("政法", ["治安管理", "诉讼执行", "司法公正"]),
    ("纪检监察", ["违纪违法", "作风问题", "党员申诉"]),
    ("农业农村", ["土地承包", "宅基地", "村务管理"]),
]


# --------------------------------------------------------------------------- building it


@dataclass
class World:
    """The demo city as loaded from the database (ids, plus the objects the generator needs)."""

    regions: dict[str, Region] = field(default_factory=dict)
    organs: dict[str, Organ] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    topics: dict[tuple[str, str], Topic] = field(default_factory=dict)
    created: dict[str, int] = field(default_factory=dict)
    skipped_users: list[str] = field(default_factory=list)

    def staff(self, organ_code: str, role: str) -> User | None:
        """The demo user of `organ_code` holding `role` (first by username)."""
        for spec in USERS:
            if spec.organ == organ_code and role in spec.roles and not spec.superuser:
                user = self.users.get(spec.username)
                if user is not None:
                    return user
        return None

    def organ_ids(self) -> set[int]:
        return {o.pk for o in self.organs.values()}


class DemoConflict(Exception):
    """A demo key (organ code, username) is already used by data that is not demo data."""


def ensure_world() -> World:
    """Create (or find) the demo regions, organs, users and topics. Idempotent."""
    world = World()
    created = {"regions": 0, "organs": 0, "users": 0, "topics": 0}
    with transaction.atomic():
        def region(code, name, level, parent):
            obj, new = Region.objects.get_or_create(code=code, defaults=dict(name=name, level=level, parent=parent))
            created["regions"] += new
            world.regions[code] = obj
            return obj

        prov = region(*PROVINCE, Level.PROVINCE, None)
        city = region(*CITY, Level.CITY, prov)
        for dcode, dname, *_rest in DISTRICTS:
            district = region(dcode, dname, Level.COUNTY, city)
            for scode, sname, communities in STREETS[dcode]:
                street = region(scode, sname, Level.TOWNSHIP, district)
                for i, cname in enumerate(communities, 1):
                    region(f"{scode}{i:03d}", cname, Level.VILLAGE, street)

        for spec in ORGANS:
            organ = Organ.objects.filter(code=spec.code).select_related("region").first()
            if organ is None:
                organ = Organ.objects.create(
                    code=spec.code, name=spec.name, short_name=spec.short, level=spec.level, kind=spec.kind,
                    region=world.regions[spec.region], parent=world.organs.get(spec.parent) if spec.parent else None,
                    address=spec.address, phone=spec.phone,
                )
                created["organs"] += 1
            elif not organ.region.code.startswith(DEMO_REGION_PREFIX):
                raise DemoConflict(_("机构代码 %(code)s 已被非演示机关“%(name)s”使用,无法创建演示数据。") % {"code": spec.code, "name": organ.name})
            world.organs[spec.code] = organ

        password = None  # hashed once: hashing is deliberately slow and every demo user shares it
        for spec in USERS:
            user = User.objects.filter(username=spec.username).first()
            if user is None:
                password = password or make_password(DEMO_PASSWORD)
                user = User.objects.create(
                    username=spec.username, password=password, email=f"{spec.username}@{DEMO_EMAIL_DOMAIN}",
                    full_name=_STAFF_NAMES[len(world.users) % len(_STAFF_NAMES)],
                    organ=world.organs[spec.organ] if spec.organ else None, roles=list(spec.roles),
                    is_staff=spec.superuser, is_superuser=spec.superuser,
                )
                created["users"] += 1
            elif not user.email.endswith("@" + DEMO_EMAIL_DOMAIN):
                # A real account already has this name. The demo can do without its own superuser
                # (the real one stays untouched); every other demo user acts on demo cases.
                if spec.superuser:
                    world.skipped_users.append(spec.username)
                    continue
                raise DemoConflict(_("用户名 %(username)s 已被非演示账号使用,无法创建演示数据。") % {"username": spec.username})
            world.users[spec.username] = user

        _mediators(world)

        for sort, (top, children) in enumerate(TOPICS, 1):
            parent = Topic.objects.filter(parent=None, name=top).first()
            if parent is None:
                parent = Topic.objects.create(name=top, sort=sort)
                created["topics"] += 1
            for csort, child in enumerate(children, 1):
                obj, new = Topic.objects.get_or_create(parent=parent, name=child, defaults={"sort": csort})
                created["topics"] += new
                world.topics[(top, child)] = obj
    world.created = created
    return world


# The demo mediation committee's register: the account holder and three more, one of them for
# foreign parties and one for parties from Hong Kong, Macao or Taiwan.
MEDIATORS = [
    ("ljtj_tj", "物业纠纷、邻里纠纷", "普通话", False, False),
    ("", "劳动争议、工资纠纷", "普通话", False, False),
    ("", "涉外民商事纠纷", "普通话、英语", True, False),
    ("", "婚姻家庭、涉港澳台纠纷", "普通话、粤语", False, True),
]
_MEDIATOR_NAMES = ["梁调解", "何淑芬", "陶文博", "区嘉欣"]


def _mediators(world: World) -> None:
    from xinfang.mediation.models import Mediator

    for spec in ORGANS:
        if spec.kind != OrganKind.MEDIATION or spec.code not in world.organs:
            continue
        organ = world.organs[spec.code]
        for (username, specialties, languages, foreign, hk_macao), name in zip(MEDIATORS, _MEDIATOR_NAMES):
            user = world.users.get(username) if username else None
            Mediator.objects.get_or_create(organ=organ, name=user.full_name if user else name, defaults=dict(
                user=user, specialties=specialties, languages=languages, serves_foreign=foreign,
                serves_hk_macao=hk_macao, phone=organ.phone))


def demo_user_queryset():
    return User.objects.filter(email__endswith="@" + DEMO_EMAIL_DOMAIN).select_related("organ")


def demo_logins() -> list[tuple[str, str, str]]:
    """(username, roles, organ) of every demo user, in the order of the city's organ list."""
    order = {spec.username: i for i, spec in enumerate(USERS)}
    rows = []
    for user in demo_user_queryset():
        roles = "、".join(str(Role(r).label) for r in user.roles if r in Role.values)
        if user.is_superuser:
            roles = _("系统管理员(超级用户)")
        rows.append((order.get(user.username, len(order)), user.username, roles, user.organ.name if user.organ else ""))
    rows.sort()
    return [r[1:] for r in rows]


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def format_logins(rows: list[tuple[str, str, str]] | None = None) -> str:
    """The demo logins as an aligned table (CJK characters count double), with the password."""
    rows = demo_logins() if rows is None else rows
    if not rows:
        return ""
    head = (_("账号"), _("角色"), _("机关"))
    w0 = max(_width(r[0]) for r in [head, *rows]) + 2
    w1 = max(_width(r[1]) for r in [head, *rows]) + 2
    lines = [_("演示账号(密码均为 %(password)s):") % {"password": DEMO_PASSWORD},
             "  " + _pad(head[0], w0) + _pad(head[1], w1) + head[2]]
    for username, roles, organ in rows:
        lines.append("  " + _pad(username, w0) + _pad(roles, w1) + organ)
    return "\n".join(lines)
