"""Machinery for tests/test_probe_visibility.py: walk every URL pattern of the project, fill its
parameters, request it as a given user and read what came back (HTML, JSON, CSV, XLSX/DOCX
unzipped) as plain text in which marker strings can be searched.

Nothing here knows the list of views: the patterns come from Django's resolver, so a view added
tomorrow is probed tomorrow.
"""
from __future__ import annotations

import contextlib
import io
import itertools
import json
import re
import zipfile
from dataclasses import dataclass
from urllib.parse import unquote

from django.http.request import QueryDict
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RegexPattern, RoutePattern
from django.utils.datastructures import MultiValueDict


@dataclass(frozen=True)
class Leaf:
    """One URL pattern at the end of the resolver tree."""

    route: str  # the joined route, for messages: "cases/<int:pk>/"
    name: str  # namespaced name ("ledger:export"), or "" when the pattern has none
    callback: object
    segments: tuple  # the (pattern object, ...) chain from the root to the leaf

    @property
    def params(self) -> list[str]:
        names = []
        for seg in self.segments:
            for n in seg.regex.groupindex:
                if n not in names:
                    names.append(n)
        return names


def all_leaves() -> list[Leaf]:
    """Every leaf pattern of the root URLconf, recursively, in resolver order."""
    out: list[Leaf] = []

    def walk(resolver, chain, route, ns):
        for p in resolver.url_patterns:
            if isinstance(p, URLResolver):
                walk(p, chain + (p.pattern,), route + str(p.pattern), f"{ns}:{p.namespace}".strip(":") if p.namespace else ns)
            elif isinstance(p, URLPattern):
                name = f"{ns}:{p.name}".strip(":") if p.name else ""
                out.append(Leaf(route + str(p.pattern), name, p.callback, chain + (p.pattern,)))

    walk(get_resolver(), (), "", "")
    return out


_ROUTE_PARAM = re.compile(r"<(?:(?P<conv>[^>:]+):)?(?P<name>[^>]+)>")
_REGEX_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?:[^()]|\([^()]*\))*\)")


def _render(segment, values: dict) -> str | None:
    if isinstance(segment, RoutePattern):
        return _ROUTE_PARAM.sub(lambda m: values[m["name"]], str(segment))
    if isinstance(segment, RegexPattern):
        text = str(segment).lstrip("^").rstrip("$").replace("\\", "")
        text = _REGEX_GROUP.sub(lambda m: values[m["name"]], text)
        if re.search(r"[()\[\]*+?|^$]", text):
            return None  # a regex we cannot render as a path
        return text
    return None


def fill(leaf: Leaf, candidates: dict[str, list[str]], default: list[str] = (), limit: int = 120) -> list[str]:
    """Concrete paths for `leaf`: every combination of the candidate values of its parameters
    (at most `limit`) that resolves back to this very pattern. A parameter name without
    candidates takes the `default` pool (so a new view is probed without a new entry here)."""
    names = leaf.params
    pools = [candidates.get(n, default) for n in names]
    paths = []
    for combo in itertools.islice(itertools.product(*pools), limit):
        values = dict(zip(names, combo))
        parts = [_render(seg, values) for seg in leaf.segments]
        if None in parts:
            continue
        path = "/" + "".join(parts)
        try:
            match = resolve(path)
        except Resolver404:
            continue
        # Two patterns may share one path (the API's GET and POST on /cases): the same route counts.
        if match.func is leaf.callback or match.route == leaf.route:
            paths.append(path)
    return list(dict.fromkeys(paths))


# --------------------------------------------------------------------------- reading responses


def body_bytes(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def readable_text(response) -> str:
    """What a human or a program could read out of the response: the body decoded (UTF-8, GB18030,
    UTF-16), JSON with its \\u escapes undone, URL escapes undone, and every member of a ZIP (XLSX,
    DOCX) with its XML tags stripped so that text split over runs joins up again."""
    raw = body_bytes(response)
    texts = []
    if raw[:4] == b"PK\x03\x04":
        with contextlib.suppress(zipfile.BadZipFile):
            with zipfile.ZipFile(io.BytesIO(raw)) as z:
                for member in z.namelist():
                    data = z.read(member).decode("utf-8", "ignore")
                    texts.append(re.sub(r"<[^>]+>", "", data))
    encodings = ("utf-16",) if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else ("utf-8", "gb18030")
    for enc in encodings:
        with contextlib.suppress(UnicodeError):
            texts.append(raw.decode(enc))
    ctype = response.get("Content-Type", "")
    if "json" in ctype:
        with contextlib.suppress(ValueError):
            texts.append(json.dumps(json.loads(raw), ensure_ascii=False))
    for location in (response.get("Location", ""), response.get("Content-Disposition", ""), response.get("HX-Redirect", "")):
        texts.append(location)
    return unquote("\n".join(texts))


_TOKENS = re.compile(r"[A-Za-z0-9+/_=-]{20,}")


def normalised(text: str) -> str:
    """The text without what differs between two identical requests (CSRF tokens, CSP nonces)."""
    return _TOKENS.sub("·", text)


# --------------------------------------------------------------------------- which query keys a view reads


class KeyRecorder:
    """Records every key a view looks up in request.GET / request.POST while active."""

    _methods = ("get", "getlist", "__getitem__", "__contains__")

    def __init__(self):
        self.keys: set[str] = set()

    @contextlib.contextmanager
    def recording(self):
        saved = {m: QueryDict.__dict__.get(m) for m in self._methods}
        recorder = self

        def wrap(method):
            base = getattr(MultiValueDict, method) if method != "__contains__" else dict.__contains__

            def spy(self, key, *args, **kwargs):
                if isinstance(key, str):
                    recorder.keys.add(key)
                return base(self, key, *args, **kwargs)
            return spy

        for m in self._methods:
            setattr(QueryDict, m, wrap(m))
        try:
            yield self
        finally:
            for m, fn in saved.items():
                if fn is None:
                    delattr(QueryDict, m)
                else:
                    setattr(QueryDict, m, fn)
