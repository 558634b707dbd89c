"""Reading a ledger file as a stream of rows: CSV (UTF-8 with or without BOM, GBK/GB18030) or XLSX.

Nothing holds the whole file: CSV is decoded and parsed line by line, XLSX is read with openpyxl's
read-only mode. Formulas are never evaluated: a cell holding =SUM(A1:A3) is read as that text.
Structural problems (not a CSV or XLSX, undecodable text, a broken quote, a giant cell, duplicate
or missing headers) raise `FileProblem` with a Chinese message.
"""
from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from .columns import MAX_FILE_CELL, REQUIRED, LABELS, match_header, normalise_header

csv.field_size_limit(MAX_FILE_CELL)


class FileProblem(Exception):
    """The file as a whole cannot be imported; nothing is written."""


@dataclass
class Layout:
    """Which ledger column each position of the header row holds."""

    headers: list[str]
    keys: list[str | None]  # ledger key, or None for an extra column
    extra: list[tuple[int, str]] = field(default_factory=list)  # (position, header) of extra columns


def sniff_kind(path: str) -> str:
    with open(path, "rb") as fh:
        head = fh.read(8)
    if not head:
        raise FileProblem(_("文件为空。"))
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileProblem(_("不支持旧版 Excel(.xls)文件,请在 Excel 中另存为 .xlsx 或 CSV 后再导入。"))
    return "csv"


def detect_encoding(path: str) -> str:
    """'utf-8-sig' when the whole file is valid UTF-8 (with or without BOM), else 'gb18030' (a
    superset of GBK and GB2312, what Excel writes on Chinese Windows) when that decodes it."""
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with open(path, "rb") as fh:
                while chunk := fh.read(1 << 20):
                    decoder.decode(chunk)
            decoder.decode(b"", final=True)
            return encoding
        except UnicodeDecodeError:
            continue
    raise FileProblem(_("无法识别文件编码:请保存为 UTF-8 或 GBK(GB18030)编码的 CSV,或 XLSX 文件。"))


def layout(header: list) -> Layout:
    names = [normalise_header(h) for h in header]
    while names and not names[-1]:
        names.pop()
    if not any(names):
        raise FileProblem(_("第1行应为表头(列名),但该行为空。"))
    if any("\x00" in name for name in names):
        # A column name is kept (extra data, error lines, messages), and PostgreSQL cannot store NUL.
        raise FileProblem(_("表头含有空字符(NUL),文件可能已损坏。"))
    keys, seen, extra = [], {}, []
    for i, name in enumerate(names):
        if not name:
            keys.append(None)
            continue
        key = match_header(name)
        ident = key or name
        if ident in seen:
            raise FileProblem(_("表头重复:第%(a)s列“%(x)s”与第%(b)s列“%(y)s”是同一列,请删除或改名其中一列。") % {
                "a": seen[ident][0] + 1, "x": seen[ident][1], "b": i + 1, "y": name})
        seen[ident] = (i, name)
        keys.append(key)
        if key is None:
            extra.append((i, name))
    missing = [LABELS[k] for k in REQUIRED if k not in keys]
    if missing:
        raise FileProblem(_("缺少必需的列:%(cols)s(列名可用中文或英文)。") % {"cols": "、".join(missing)})
    return Layout(names, keys, extra)


class LedgerReader:
    """Iterate `(row_number, cells)` over the data rows of a ledger file (row 1 is the header).

    `rows()` may be called more than once (the import reads a file twice: a structural check,
    then the import itself)."""

    def __init__(self, path: str):
        self.path = path
        self.kind = sniff_kind(path)
        self.encoding = detect_encoding(path) if self.kind == "csv" else None
        self.layout: Layout | None = None

    # -- CSV

    def _csv_rows(self) -> Iterator[tuple[int, list]]:
        with open(self.path, "rb") as raw:
            stream = io.TextIOWrapper(raw, encoding=self.encoding, newline="")
            first = stream.readline()
            # Excel's "Unicode text" export is tab-separated; everything else here is commas.
            delimiter = "\t" if first.count("\t") > first.count(",") else ","
            stream.seek(0)
            reader = csv.reader(stream, delimiter=delimiter, strict=True)
            number = 0
            while True:
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    raise FileProblem(_("第%(line)s行附近CSV格式错误(%(err)s),常见原因是引号未闭合或含有空字符。") % {
                        "line": reader.line_num, "err": exc}) from None
                number += 1
                yield number, cells

    # -- XLSX

    def _xlsx_rows(self) -> Iterator[tuple[int, list]]:
        from openpyxl import load_workbook

        # Whatever openpyxl raises while parsing the file means the file is damaged: a broken zip
        # (BadZipFile, zlib.error, EOFError), broken XML inside a sound zip (ParseError, a
        # SyntaxError), a bad cell reference or value (ValueError, TypeError, OverflowError, …).
        try:
            # data_only=False: a formula is read as its text, never evaluated nor its cached result.
            wb = load_workbook(self.path, read_only=True, data_only=False)
        except Exception as exc:
            raise FileProblem(_("无法读取XLSX文件(文件已损坏或不是Excel文件):%(err)s") % {"err": exc}) from None
        try:
            ws = wb.worksheets[0] if wb.worksheets else None
            if ws is None:
                raise FileProblem(_("XLSX文件中没有工作表。"))
            rows = enumerate(ws.iter_rows(values_only=True), 1)
            while True:
                try:
                    number, values = next(rows)
                except StopIteration:
                    return
                except Exception as exc:
                    raise FileProblem(_("XLSX文件内容损坏,无法继续读取:%(err)s") % {"err": exc}) from None
                yield number, list(values)
        finally:
            wb.close()

    def rows(self) -> Iterator[tuple[int, list]]:
        """Data rows as (row number in the file, cells). Wholly blank rows are skipped."""
        source = self._csv_rows() if self.kind == "csv" else self._xlsx_rows()
        header = None
        for number, cells in source:
            if header is None:
                if not any(c not in (None, "") and str(c).strip() for c in cells):
                    continue  # leading blank lines
                header = cells
                self.layout = layout(cells)
                continue
            if not any(c is not None and str(c).strip() for c in cells):
                continue
            yield number, cells
        if header is None:
            raise FileProblem(_("文件为空(没有表头和数据行)。"))

    def check(self, progress=None) -> int:
        """Read the whole file once for structural problems; returns the number of data rows."""
        count = 0
        for _number, cells in self.rows():
            for c in cells:
                if isinstance(c, str) and len(c) > MAX_FILE_CELL:
                    raise FileProblem(_("第%(row)s行有单元格超过%(n)s字符,文件可能已损坏。") % {"row": _number, "n": MAX_FILE_CELL})
            count += 1
            if progress and count % 10000 == 0:
                progress(count)
        return count
