"""The names a PromQL expression uses, for tests that check expressions (the dashboards'
and the alert rules') against the metrics a Prometheus has.

Standard library only: the stack scenario copies this file to its test host, beside
molecule/stack/files/check_queries.py. A small tokenizer, not a parser: :func:`names`
says which identifiers are metrics, functions and labels (see its docstring);
:func:`metric_names` the metrics alone. ``{__name__="x"}`` counts as the metric ``x``.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"""
    (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<duration>(?:\d+(?:ms|[smhdwy]))+)(?![\w.])
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
  | (?P<ident>[A-Za-z_:][\w:]*)
  | (?P<op>=~|!~|!=|==|>=|<=|\|=|\|~|[-+*/%^<>=,@|]|[(){}\[\]])
  | (?P<space>\s+)
""", re.VERBOSE)
_GROUPING = {"by", "without", "on", "ignoring", "group_left", "group_right"}
_KEYWORDS = _GROUPING | {"bool", "offset", "and", "or", "unless", "atan2", "inf", "nan"}


def tokens(expr):
    """``[(kind, text)]`` of a PromQL (or LogQL) expression, spaces left out; AssertionError on a stray character."""
    result, pos = [], 0
    while pos < len(expr):
        match = _TOKEN.match(expr, pos)
        assert match, "cannot read %r at %d" % (expr[pos:pos + 20], pos)
        if match.lastgroup != "space":
            result.append((match.lastgroup, match.group()))
        pos = match.end()
    return result


def names(expr):
    """``(metrics, functions, labels)`` an expression names.

    A metric is an identifier outside ``{...}`` and ``[...]``, not followed by ``(``, not a
    keyword (by, bool, offset, and, ...), not in the label list after by/without/on/
    ignoring/group_left/group_right. Labels are the identifiers inside ``{...}`` (before a
    matcher) and in those label lists; functions the identifiers followed by ``(``.
    """
    toks = tokens(expr)
    metrics, functions, labels = set(), set(), set()
    i = 0
    while i < len(toks):
        kind, text = toks[i]
        following = toks[i + 1][1] if i + 1 < len(toks) else None
        if text == "{":
            end = next(j for j in range(i, len(toks)) if toks[j][1] == "}")
            labels.update(t for k, t in toks[i + 1:end] if k == "ident")
            i = end + 1
            continue
        if text == "[":
            i = next(j for j in range(i, len(toks)) if toks[j][1] == "]") + 1
            continue
        if kind == "ident" and text in _GROUPING and following == "(":
            end = next(j for j in range(i, len(toks)) if toks[j][1] == ")")
            labels.update(t for k, t in toks[i + 2:end] if k == "ident")
            i = end + 1
            continue
        if kind == "ident" and text == "offset":
            i += 2  # the duration
            continue
        if kind == "ident" and text not in _KEYWORDS:
            # sum(...), and an aggregation with its grouping first: sum by (job) (...)
            after = toks[i + 2][1] if i + 2 < len(toks) else None
            called = following == "(" or (following in ("by", "without") and after == "(")
            (functions if called else metrics).add(text)
        i += 1
    return metrics, functions, labels


_NAME_MATCHER = re.compile(r'__name__\s*=\s*"([a-zA-Z_:][a-zA-Z0-9_:]*)"')


def metric_names(expr):
    """The sorted metric names ``expr`` reads."""
    return sorted(names(expr)[0] | set(_NAME_MATCHER.findall(expr)))
