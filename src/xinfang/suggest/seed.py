"""The demo city's 分类处理清单 (rules), written for 临江市 (src/xinfang/demo/world.py).

These are illustrative rules for the fictional demo city, not any real city's list. A deployment
writes its own in the admin (分类建议 › 分类处理清单).
"""
from __future__ import annotations

from xinfang.cases.models import Category, RouteKind, Topic
from xinfang.orgs.models import Organ

from .models import Rule

# name, keywords, topic (top, child) or None, organ code, route, set_category, set_topic, priority, basis
DEMO_RULES = [
    ("涉法涉诉:法院判决与执行", "判决 裁定 执行难 法院 起诉 诉讼 审判 再审", None, "LJZFW", RouteKind.LEGAL, "",
     ("政法", "诉讼执行"), 100, "《信访工作条例》第二十二条、第二十八条(诉访分离)"),
    ("涉法涉诉:公安执法", "报警 派出所 立案 公安 民警 刑事", None, "LJGA", RouteKind.LEGAL, "",
     ("政法", "治安管理"), 90, "《信访工作条例》第二十二条(依法应当通过诉讼等程序解决)"),
    ("检举控告:党员干部违纪违法", "贪污 受贿 索贿 挪用 违纪 吃拿卡要 公款 作风", None, "LJJW", RouteKind.DISCIPLINE,
     Category.REPORT, ("纪检监察", "违纪违法"), 100, "《信访工作条例》第三十条"),
    ("拖欠工资", "欠薪 拖欠工资 农民工工资 讨薪", None, "LJRS", RouteKind.FORWARD, "", ("劳动和社会保障", "拖欠工资"),
     50, "《保障农民工工资支付条例》"),
    ("社会保险", "社保 养老保险 医保 失业保险 退休金", None, "LJRS", RouteKind.FORWARD, "", ("劳动和社会保障", "社会保险"),
     40, ""),
    ("物业管理", "物业 业委会 物业费 电梯", None, "LJZJ", RouteKind.FORWARD, "", ("城乡建设", "物业管理"), 40, ""),
    ("房屋征收与安置", "拆迁 征收 安置房 补偿款", None, "LJZJ", RouteKind.FORWARD, "", ("城乡建设", "房屋征收与安置"), 40, ""),
    ("违法建设", "违建 违章搭建 私搭乱建", None, "LJCG", RouteKind.FORWARD, "", ("城市管理", "违法建设"), 40, ""),
    ("占道经营", "占道 摆摊 流动摊贩", None, "LJCG", RouteKind.FORWARD, "", ("城市管理", "占道经营"), 30, ""),
    ("生态环境污染", "排污 污水 废气 异味 粉尘 偷排", None, "LJHB", RouteKind.FORWARD, "", None, 30, ""),
    ("招生入学", "入学 学位 招生 划片", None, "LJJY", RouteKind.FORWARD, "", ("教育", "招生入学"), 30, ""),
    ("医疗纠纷", "医院 误诊 医疗事故 医患", None, "LJWJ", RouteKind.FORWARD, "", ("卫生健康", "医疗纠纷"), 30, ""),
    ("食品安全", "食品 过期 餐馆 卫生许可", None, "LJSJ", RouteKind.FORWARD, "", ("市场监管", "食品安全"), 30, ""),
    ("公交与出租车", "公交 出租车 网约车 线路", None, "LJJT", RouteKind.FORWARD, "", None, 30, ""),
    # Topic-only rules: a case whose topic is known goes to the competent organ.
    ("分类:自然资源", "", ("自然资源", None), "LJZR", RouteKind.FORWARD, "", None, 10, ""),
    ("分类:政法", "", ("政法", None), "LJZFW", RouteKind.LEGAL, "", None, 10, "《信访工作条例》第二十八条"),
    ("分类:纪检监察", "", ("纪检监察", None), "LJJW", RouteKind.DISCIPLINE, "", None, 10, "《信访工作条例》第三十条"),
]


def _topic(spec):
    if spec is None:
        return None
    top, child = spec
    parent = Topic.objects.filter(parent=None, name=top).first()
    if parent is None or child is None:
        return parent
    return Topic.objects.filter(parent=parent, name=child).first()


def seed_demo_rules() -> int:
    """Create the demo rules whose organs exist (idempotent: rules are looked up by name)."""
    organs = {o.code: o for o in Organ.objects.filter(code__in={r[3] for r in DEMO_RULES})}
    created = 0
    for name, keywords, topic, organ_code, route, set_cat, set_topic, priority, basis in DEMO_RULES:
        organ = organs.get(organ_code)
        if organ is None or Rule.objects.filter(name=name).exists():
            continue
        rule = Rule.objects.create(name=name, keywords=keywords, organ=organ, route_kind=route, set_category=set_cat,
                                   set_topic=_topic(set_topic), priority=priority, basis=basis)
        t = _topic(topic)
        if topic is not None and t is None:
            rule.delete()  # a topic-only rule without its topic would never match
            continue
        if t is not None:
            rule.topics.add(t)
        created += 1
    return created


def after_demo_load(*, limit: int = 5000):
    """After demo cases are generated: train a model on them (the newest `limit` confirmed cases)
    and refresh the suggestions of cases still waiting to be routed, so the demo shows model
    suggestions at once. Returns the new ModelVersion, or None when there is too little to train."""
    from xinfang.cases.models import Case, State

    from .service import suggest_cases
    from .training import train

    try:
        version = train(limit=limit, note="demo")
    except ValueError:
        return None
    waiting = list(Case.objects.filter(state=State.REGISTERED).values_list("pk", flat=True)[:20000])
    suggest_cases(waiting, source="demo")
    return version
