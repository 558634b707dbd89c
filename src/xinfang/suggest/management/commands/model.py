"""`xinfang model train|evaluate|stats|versions|seed-rules`: the suggestion model (docs/suggestions.md)."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from xinfang.suggest import service, training
from xinfang.suggest.models import ModelVersion


def _read_csv(path: str) -> list[dict]:
    """Rows of a labelled CSV file, UTF-8 (with or without BOM) or GBK."""
    raw = Path(path).read_bytes()
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise CommandError(_("无法识别文件编码(应为 UTF-8 或 GBK):%(path)s") % {"path": path})
    return list(csv.DictReader(io.StringIO(text)))


class Command(BaseCommand):
    @property
    def help(self) -> str:
        return _("分类建议模型:训练(train)、评估(evaluate)、采纳统计(stats)、版本列表(versions)、载入演示规则(seed-rules)。")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        t = sub.add_parser("train", help=_("用本单位已确认的信访事项训练新版本模型"))
        t.add_argument("--if-stale", action="store_true", help=_("仅当自上一版本以来新增足够多的已确认事项时才训练"))
        t.add_argument("--evaluate", action="store_true", help=_("同时做交叉验证并把宏平均 F1 存入版本指标"))
        t.add_argument("--limit", type=int, help=_("最多使用最近的多少件事项"))
        e = sub.add_parser("evaluate", help=_("k 折交叉验证:逐类精确率、召回率、F1 与混淆矩阵"))
        e.add_argument("--target", choices=list(training.TARGETS), default="topic", help=_("评估对象(默认 %(default)s)"))
        e.add_argument("--folds", type=int, default=5, help=_("折数(默认 %(default)s)"))
        e.add_argument("--csv", dest="csv_file", help=_("改用外部标注文件(CSV)评估"))
        e.add_argument("--text-columns", default="title,content", help=_("文本列,逗号分隔(默认 %(default)s)"))
        e.add_argument("--label-column", default="label", help=_("标注列(默认 %(default)s)"))
        e.add_argument("--limit", type=int, help=_("最多使用最近的多少件事项"))
        sub.add_parser("stats", help=_("建议被采纳的比例"))
        sub.add_parser("versions", help=_("列出模型版本"))
        sub.add_parser("seed-rules", help=_("为演示城市载入分类处理清单(已存在的规则不重复创建)"))

    def handle(self, *args, action, **o):
        getattr(self, "do_" + action.replace("-", "_"))(**o)

    # ------------------------------------------------------------------ train
    def do_train(self, *, if_stale=False, evaluate=False, limit=None, **_o):
        if if_stale:
            stale, new = training.is_stale()
            if not stale:
                self.stdout.write(_("模型无需更新:自上一版本以来新增已确认事项 %(n)d 件(阈值 %(t)d)。")
                                  % {"n": new, "t": training.retrain_after()})
                return
        try:
            version = training.train(evaluate=evaluate, limit=limit, note="xinfang model train")
        except ValueError as exc:
            raise CommandError(_("无法训练:%(reason)s") % {"reason": exc}) from None
        self.stdout.write(self.style.SUCCESS(_("已训练模型 v%(v)d:样本 %(n)d 件,用时 %(s).1f 秒。")
                                             % {"v": version.version, "n": version.n_samples, "s": version.metrics.get("seconds", 0)}))
        for target in training.TARGETS:
            count = version.metrics.get("counts", {}).get(target, 0)
            f1 = version.metrics.get(f"{target}_macro_f1")
            samples, classes = _("样本"), _("类别数")  # outside the f-string, so makemessages finds them
            line = f"  {target:<9} {samples} {count:>7}  {classes} {len(version.labels.get(target, {})):>4}"
            if f1 is not None:
                line += f"  macro-F1 {f1:.3f}"
            self.stdout.write(line)

    # ------------------------------------------------------------------ evaluate
    def do_evaluate(self, *, target="topic", folds=5, csv_file=None, text_columns="title,content",
                    label_column="label", limit=None, **_o):
        if csv_file:
            rows = _read_csv(csv_file)
            cols = [c.strip() for c in text_columns.split(",") if c.strip()]
            if not rows:
                raise CommandError(_("文件中没有数据行。"))
            missing = [c for c in [*cols, label_column] if c not in rows[0]]
            if missing:
                raise CommandError(_("文件缺少列:%(cols)s") % {"cols": "、".join(missing)})
            from xinfang.suggest.pipeline import join_text

            texts, labels = [], []
            for r in rows:
                label = (r.get(label_column) or "").strip()
                if not label:
                    continue
                parts = [(r.get(c) or "") for c in cols]
                texts.append(join_text(parts[0], " ".join(parts[1:])))
                labels.append(label)
            names = {v: v for v in labels}
            source = csv_file
        else:
            texts_all, label_map, _last = training.training_data(limit)
            pairs = [(t, v) for t, v in zip(texts_all, label_map[target]) if v]
            texts, labels = [p[0] for p in pairs], [p[1] for p in pairs]
            names = training._names(target, labels)
            source = _("本单位已确认的信访事项")
        try:
            cv = training.cross_validate(texts, labels, folds=folds)
        except ValueError as exc:
            raise CommandError(_("无法评估:%(reason)s") % {"reason": exc}) from None
        self.print_report(cv, names, source, len(texts))

    def print_report(self, cv: dict, names: dict, source: str, n: int):
        w = self.stdout.write
        w(_("数据:%(source)s,%(n)d 条;%(k)d 折分层交叉验证") % {"source": source, "n": n, "k": cv["folds"]})
        width = max([len(names.get(lab, lab)) for lab in cv["labels"]] + [4]) * 2
        w(f"{_('类别'):<{width}} {'precision':>9} {'recall':>9} {'F1':>9} {'support':>8}")
        for i, lab in enumerate(cv["labels"]):
            name = names.get(lab, lab)
            pad = width - len(name)  # CJK characters take two columns
            w(f"{name}{' ' * max(1, pad - len(name))} {cv['precision'][i]:>9.3f} {cv['recall'][i]:>9.3f} {cv['f1'][i]:>9.3f} {cv['support'][i]:>8}")
        w(f"macro-F1 {cv['macro_f1']:.3f}   accuracy {cv['accuracy']:.3f}")
        w(_("混淆矩阵(行:实际;列:预测,顺序同上)"))
        for i, lab in enumerate(cv["labels"]):
            w(f"{i + 1:>3} " + " ".join(f"{v:>5}" for v in cv["confusion"][i]) + f"   {names.get(lab, lab)}")

    # ------------------------------------------------------------------ stats & versions
    def do_stats(self, **_o):
        version = service.current_version()
        self.stdout.write(_("当前模型:%(v)s") % {"v": f"v{version.version}" if version else _("无")})
        for row in service.acceptance_stats():
            rate = f"{row['rate'] * 100:.1f}%" if row["rate"] is not None else "—"
            self.stdout.write(f"  {row['label']}  {row['source_label']:<8} {_('已决定')} {row['decided']:>7}  "
                              f"{_('采纳')} {row['accepted']:>7}  {rate:>7}")

    def do_versions(self, **_o):
        for v in ModelVersion.objects.defer("blob").order_by("-version"):
            f1 = ", ".join(f"{k}={v.metrics[k]:.3f}" for k in sorted(v.metrics) if k.endswith("_macro_f1"))
            state = _("启用") if v.is_active else _("停用")
            samples = _("样本")
            self.stdout.write(f"v{v.version:<4} {v.trained_at:%Y-%m-%d %H:%M} {state} {samples} {v.n_samples:>7}  {f1}")

    def do_seed_rules(self, **_o):
        from xinfang.suggest.seed import seed_demo_rules

        created = seed_demo_rules()
        self.stdout.write(_("已创建规则 %(n)d 条。") % {"n": created})
