# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)

# Note that this module util is private to this collection. It can change at any time.
# Do not use it from other collections or standalone plugins/modules!
"""The stack's Grafana dashboards: compact YAML specs expanded into Grafana's JSON model.

The specs are data, one file per dashboard in ``dashboard_specs/`` beside this file (not
``dashboards/``: Ansible's collection loader would take a directory of this module's
name for a package and never load this file). They name services and metrics; this
code names none.

A spec::

    name: overview                 # uid omero-stack-overview, file omero-stack-overview.json
    title: Site overview           # shown as "OMERO stack / Site overview"
    description: ...               # optional
    when_enabled: <service>        # optional (or a list: all of them): else left out
    datasource: <uid>              # optional: of every panel (default: the catalog's default)
    variables:                     # optional
      - {name: job, label: Database, options: [{text: ..., value: ..., when_enabled: ...}]}
      - {name: service, query: "label_values(metric, label)", multi: true, all: true}
    rows:
      - title: Status
        when_enabled: <service>    # optional
        panels:
          - title: Services up
            type: stat             # timeseries | stat | table | logs
            unit: none             # Grafana's unit id (not for logs)
            queries:
              - {expr: "sum(up)", legend: "{{job}}"}

A panel may also have ``description``, ``when_enabled``, ``datasource`` (a data source
uid of the catalog), ``width`` and ``height`` (grid units), ``min``, ``max``,
``decimals``, ``thresholds`` (a base colour, then ``value: colour`` steps:
``[green, 1: red]``), ``mappings`` (``{value: text}``), ``stack: true`` (timeseries),
``instant: true`` (instant queries) and ``columns`` (table: the fields shown).

Panels, rows and dashboards are left out while a service of their ``when_enabled`` is
not enabled, and so is a panel whose data source belongs to a service that is not
(the catalog's ``datasource`` of that service); a row or dashboard left without panels
is left out. The panels of a row are laid out on Grafana's 24-column grid: as many to
a line as their type's minimum width allows, the line's columns shared among them.

Grafana's template variables in an expression (:func:`queries`) are replaced so that
the expression can be sent to Prometheus or Loki as it is: ``$__rate_interval`` by
``5m``, ``$__interval`` by ``1m``, ``$__range`` by ``1h``, and every dashboard variable
(``$name``, ``${name}``, ``${name:format}``, ``[[name]]``) by ``.+``. That is a valid
regular expression matching any value, and :func:`check_model` refuses a dashboard
variable anywhere but in the value of a ``=~`` or ``!~`` matcher, so the result is a
valid expression that selects every value the variable could take.
"""

from __future__ import annotations

import copy
import os
import re

from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.catalog import load_catalog

try:
    import yaml

    HAS_YAML = True
except ImportError:  # pragma: no cover - the controller always has PyYAML
    HAS_YAML = False

SPECS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dashboard_specs")
UID_PREFIX = "omero-stack-"
TITLE_PREFIX = "OMERO stack / "
TAG = "omero-docker-stack"
SCHEMA_VERSION = 39
GRID_COLUMNS = 24

PANEL_TYPES = ("timeseries", "stat", "table", "logs")
DEFAULT_HEIGHT = {"timeseries": 8, "stat": 4, "table": 8, "logs": 12}
MIN_WIDTH = {"timeseries": 8, "stat": 3, "table": 12, "logs": 24}
ROW_TYPE = "row"

# Grafana's built-in variables and what queries() puts in their place.
BUILTINS = {"__rate_interval": "5m", "__interval": "1m", "__range": "1h"}
ANY_VALUE = ".+"

DASHBOARD_KEYS = {"name", "title", "description", "when_enabled", "datasource", "variables", "rows"}
VARIABLE_KEYS = {"name", "label", "query", "options", "datasource", "multi", "all"}
OPTION_KEYS = {"text", "value", "when_enabled"}
ROW_KEYS = {"title", "when_enabled", "panels"}
PANEL_KEYS = {"title", "type", "unit", "description", "when_enabled", "datasource", "width", "height", "min",
              "max", "decimals", "thresholds", "mappings", "stack", "instant", "columns", "queries"}
QUERY_KEYS = {"expr", "legend"}

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# $name, ${name}, ${name:format}, [[name]], [[name:format]]
_REFERENCE = re.compile(r"\$\{([A-Za-z_]\w*)(?::[^}]*)?\}|\$([A-Za-z_]\w*)|\[\[([A-Za-z_]\w*)(?::[^\]]*)?\]\]")
# the value of a regex matcher: label=~"..." or label!~"..."
_REGEX_MATCHER = re.compile(r"""\w+\s*[=!]~\s*("(?:[^"\\]|\\.)*"|`[^`]*`)""")
_DURATION = re.compile(r"^(\d+(ms|[smhdwy]))+$")
_CLOSING = {")": "(", "]": "[", "}": "{"}
_CACHE = {}


class DashboardSpecError(ValueError):
    """A dashboard spec does not have the shape this module expects."""


# ---------------------------------------------------------------------------- specs


def _unknown(problems, where, item, known):
    if not isinstance(item, dict):
        problems.append("%s: must be a mapping" % where)
        return False
    problems.extend("%s: unknown key %r" % (where, key) for key in sorted(set(item) - known, key=str))
    return True


def _services_problem(value):
    if isinstance(value, str) or (isinstance(value, list) and value and all(isinstance(v, str) for v in value)):
        return None
    return "when_enabled must be a service name or a list of them"


def _panel_problems(problems, where, panel):
    if not _unknown(problems, where, panel, PANEL_KEYS):
        return
    if not isinstance(panel.get("title"), str) or not panel.get("title"):
        problems.append("%s: title is required" % where)
    if panel.get("type") not in PANEL_TYPES:
        problems.append("%s: type must be one of %s" % (where, ", ".join(PANEL_TYPES)))
    if panel.get("type") != "logs" and not isinstance(panel.get("unit"), str):
        problems.append("%s: unit is required (a Grafana unit id)" % where)
    if "when_enabled" in panel and _services_problem(panel["when_enabled"]):
        problems.append("%s: %s" % (where, _services_problem(panel["when_enabled"])))
    queries = panel.get("queries")
    if not isinstance(queries, list) or not queries:
        problems.append("%s: queries must be a non-empty list" % where)
        return
    for q, query in enumerate(queries):
        qwhere = "%s.queries[%d]" % (where, q)
        if _unknown(problems, qwhere, query, QUERY_KEYS) and (not isinstance(query.get("expr"), str)
                                                              or not query["expr"].strip()):
            problems.append("%s: expr is required" % qwhere)


def _variable_problems(problems, where, variable):
    if not _unknown(problems, where, variable, VARIABLE_KEYS):
        return
    if not isinstance(variable.get("name"), str) or not re.match(r"^[A-Za-z]\w*$", variable["name"]):
        problems.append("%s: name must be an identifier" % where)
    if ("query" in variable) == ("options" in variable):
        problems.append("%s: needs either query or options" % where)
    for o, option in enumerate(variable.get("options") or []):
        if _unknown(problems, "%s.options[%d]" % (where, o), option, OPTION_KEYS) and "value" not in option:
            problems.append("%s.options[%d]: value is required" % (where, o))


def spec_problems(spec):
    """The problems of one dashboard spec (unknown keys, missing ones): empty when it is fine."""
    problems = []
    if not _unknown(problems, "dashboard", spec, DASHBOARD_KEYS):
        return problems
    name = spec.get("name")
    where = "dashboard %s" % name
    if not isinstance(name, str) or not _NAME.match(name):
        problems.append("%s: name must be lower-case letters, digits and dashes" % where)
    if not isinstance(spec.get("title"), str) or not spec.get("title"):
        problems.append("%s: title is required" % where)
    if "when_enabled" in spec and _services_problem(spec["when_enabled"]):
        problems.append("%s: %s" % (where, _services_problem(spec["when_enabled"])))
    for v, variable in enumerate(spec.get("variables") or []):
        _variable_problems(problems, "%s.variables[%d]" % (where, v), variable)
    rows = spec.get("rows")
    if not isinstance(rows, list) or not rows:
        problems.append("%s: rows must be a non-empty list" % where)
        return problems
    for r, row in enumerate(rows):
        rwhere = "%s.rows[%d]" % (where, r)
        if not _unknown(problems, rwhere, row, ROW_KEYS):
            continue
        if not isinstance(row.get("panels"), list) or not row["panels"]:
            problems.append("%s: panels must be a non-empty list" % rwhere)
            continue
        for p, panel in enumerate(row["panels"]):
            _panel_problems(problems, "%s.panels[%d]" % (rwhere, p), panel)
    return problems


def load_specs(path=None):
    """The dashboard specs (a deep copy), in the order of their file names; checked by :func:`spec_problems`."""
    path = path or SPECS_DIR
    if path not in _CACHE:
        if not HAS_YAML:
            raise RuntimeError("PyYAML is required to read the dashboard specs")
        specs, problems = [], []
        for entry in sorted(os.listdir(path)):
            if not entry.endswith(".yml"):
                continue
            with open(os.path.join(path, entry)) as handle:
                spec = yaml.safe_load(handle)
            found = spec_problems(spec)
            if not found and spec["name"] != entry[:-len(".yml")]:
                found = ["dashboard %s: must be in %s.yml" % (spec["name"], spec["name"])]
            problems.extend("%s: %s" % (entry, problem) for problem in found)
            specs.append(spec)
        if problems:
            raise DashboardSpecError("; ".join(problems))
        _CACHE[path] = specs
    return copy.deepcopy(_CACHE[path])


# ------------------------------------------------------------------ data sources


def _datasources(catalog):
    """``({uid: {"type", "service"}}, default uid)`` of the catalog's ``datasource`` entries."""
    sources, default = {}, None
    for service, definition in catalog["services"].items():
        source = definition.get("datasource") or {}
        if source.get("uid"):
            sources[source["uid"]] = {"type": source.get("type"), "service": service}
            if source.get("isDefault"):
                default = source["uid"]
    return sources, default


def _ref(sources, uid):
    return {"type": sources[uid]["type"], "uid": uid}


# ---------------------------------------------------------------------- expansion


def _as_list(value):
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _wanted(enabled, *items):
    """Whether every service of the items' ``when_enabled`` is enabled."""
    return all(service in enabled for item in items for service in _as_list(item.get("when_enabled")))


def _thresholds(steps):
    result = []
    for step in steps or ["green"]:
        if isinstance(step, dict):
            result.extend({"color": color, "value": value} for value, color in step.items())
        else:
            result.append({"color": step, "value": None})
    return {"mode": "absolute", "steps": result}


def _mappings(mappings):
    if not mappings:
        return []
    options = {str(value): {"text": str(text), "index": i} for i, (value, text) in enumerate(mappings.items())}
    return [{"type": "value", "options": options}]


def _field_defaults(panel):
    defaults = {}
    if panel["type"] != "logs":
        defaults["unit"] = panel["unit"]
        defaults["thresholds"] = _thresholds(panel.get("thresholds"))
        defaults["mappings"] = _mappings(panel.get("mappings"))
        defaults["color"] = {"mode": "thresholds" if panel["type"] == "stat" else "palette-classic"}
    for key in ("min", "max", "decimals"):
        if key in panel:
            defaults[key] = panel[key]
    if panel["type"] == "timeseries":
        defaults["custom"] = {
            "drawStyle": "line", "lineWidth": 1, "fillOpacity": 10, "showPoints": "never", "spanNulls": False,
            "stacking": {"mode": "normal" if panel.get("stack") else "none", "group": "A"},
        }
    return defaults


def _options(panel):
    kind = panel["type"]
    if kind == "timeseries":
        return {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                "tooltip": {"mode": "multi", "sort": "desc"}}
    if kind == "stat":
        return {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                "colorMode": "value", "graphMode": "none", "justifyMode": "auto", "orientation": "auto",
                "textMode": "auto"}
    if kind == "table":
        return {"showHeader": True, "cellHeight": "sm"}
    return {"showTime": True, "wrapLogMessage": True, "sortOrder": "Descending", "enableLogDetails": True,
            "dedupStrategy": "none", "prettifyLogMessage": False, "showLabels": False, "showCommonLabels": False}


def _ref_id(index):
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _targets(panel, source):
    targets = []
    kind = panel["type"]
    for i, query in enumerate(panel["queries"]):
        target = {"refId": _ref_id(i), "datasource": dict(source), "expr": query["expr"].strip(),
                  "editorMode": "code"}
        if query.get("legend"):
            target["legendFormat"] = query["legend"]
        if kind == "logs":
            target["queryType"] = "range"
        else:
            instant = bool(panel.get("instant")) or kind == "table"
            target.update({"range": not instant, "instant": instant,
                           "format": "table" if kind == "table" else "time_series"})
        targets.append(target)
    return targets


def _panel(panel, source):
    model = {
        "type": panel["type"],
        "title": panel["title"],
        "datasource": dict(source),
        "targets": _targets(panel, source),
        "fieldConfig": {"defaults": _field_defaults(panel), "overrides": []},
        "options": _options(panel),
    }
    if panel.get("description"):
        model["description"] = panel["description"]
    if panel.get("columns"):
        model["transformations"] = [{"id": "filterFieldsByName",
                                     "options": {"include": {"names": list(panel["columns"])}}}]
    return model


def _lines(panels):
    """The row's panels in lines, each ``[(panel, width)]`` sharing the grid's columns."""
    per_line = min([len(panels)] + [GRID_COLUMNS // MIN_WIDTH[p["type"]] for p in panels])
    lines = []
    for start in range(0, len(panels), per_line):
        line = panels[start:start + per_line]
        fixed = sum(p.get("width", 0) for p in line)
        free = [p for p in line if "width" not in p]
        if fixed + len(free) > GRID_COLUMNS:
            raise DashboardSpecError("panels %s are wider than %d columns"
                                     % (", ".join(p["title"] for p in line), GRID_COLUMNS))
        share, extra = divmod(GRID_COLUMNS - fixed, len(free)) if free else (0, 0)
        placed = []
        for p in line:
            if "width" in p:
                placed.append((p, p["width"]))
            else:
                placed.append((p, share + (1 if extra > 0 else 0)))
                extra -= 1
        lines.append(placed)
    return lines


def _expand(spec, enabled, sources, default):
    dashboard_source = spec.get("datasource") or default
    panels, next_id, y = [], 1, 0
    for row in spec["rows"]:
        chosen = []
        for panel in row["panels"]:
            uid = panel.get("datasource") or dashboard_source
            if uid not in sources:
                raise DashboardSpecError("dashboard %s, panel %s: no data source %r in the catalog"
                                         % (spec["name"], panel["title"], uid))
            if _wanted(enabled, spec, row, panel) and sources[uid]["service"] in enabled:
                chosen.append((panel, _ref(sources, uid)))
        if not chosen:
            continue
        panels.append({"type": ROW_TYPE, "id": next_id, "title": row.get("title", ""), "collapsed": False,
                       "gridPos": {"h": 1, "w": GRID_COLUMNS, "x": 0, "y": y}, "panels": []})
        next_id, y = next_id + 1, y + 1
        source_of = {id(panel): source for panel, source in chosen}
        for line in _lines([panel for panel, _source in chosen]):
            height = max(p.get("height", DEFAULT_HEIGHT[p["type"]]) for p, _width in line)
            x = 0
            for panel, width in line:
                model = _panel(panel, source_of[id(panel)])
                model["id"] = next_id
                model["gridPos"] = {"h": height, "w": width, "x": x, "y": y}
                panels.append(model)
                next_id, x = next_id + 1, x + width
            y += height
    return panels


def _all(multi):
    """The current value "All" of a variable with includeAll."""
    return {"text": ["All"], "value": ["$__all"]} if multi else {"text": "All", "value": "$__all"}


def _variable(variable, enabled, sources, default):
    model = {"name": variable["name"], "label": variable.get("label", variable["name"]), "hide": 0,
             "skipUrlSync": False, "multi": bool(variable.get("multi")),
             "includeAll": bool(variable.get("all"))}
    if model["includeAll"]:
        model["allValue"] = ANY_VALUE
    if "options" in variable:
        options = [o for o in variable["options"] if _wanted(enabled, o)]
        if not options:
            return None
        texts = [(str(o.get("text", o["value"])), str(o["value"])) for o in options]
        model.update({
            "type": "custom",
            "query": ",".join(value if text == value else "%s : %s" % (text, value) for text, value in texts),
            "options": [{"text": text, "value": value, "selected": i == 0} for i, (text, value) in enumerate(texts)],
            "current": {"text": texts[0][0], "value": texts[0][1], "selected": True},
        })
        return model
    uid = variable.get("datasource") or default
    if uid not in sources or sources[uid]["service"] not in enabled:
        return None
    model.update({"type": "query", "datasource": _ref(sources, uid), "query": variable["query"],
                  "definition": variable["query"], "refresh": 2, "sort": 1, "regex": "", "options": [],
                  "current": _all(model["multi"]) if model["includeAll"] else {}})
    return model


def file_name(spec_name):
    """The file name of a dashboard: ``omero-stack-<name>.json``."""
    return "%s%s.json" % (UID_PREFIX, spec_name)


def dashboard(spec, enabled, catalog=None):
    """Grafana's JSON model of one spec for the ``enabled`` services, or None when no panel is left."""
    enabled = set(enabled)
    sources, default = _datasources(catalog or load_catalog())
    if not _wanted(enabled, spec):
        return None
    panels = _expand(spec, enabled, sources, default)
    if not panels:
        return None
    variables = [_variable(v, enabled, sources, default) for v in spec.get("variables") or []]
    return {
        "uid": UID_PREFIX + spec["name"],
        "title": TITLE_PREFIX + spec["title"],
        "description": spec.get("description", ""),
        "tags": [TAG],
        "editable": False,
        "graphTooltip": 1,
        "timezone": "browser",
        "time": {"from": "now-6h", "to": "now"},
        "refresh": "1m",
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "links": [{"type": "dashboards", "tags": [TAG], "asDropdown": True, "title": "OMERO stack",
                   "includeVars": False, "keepTime": True}],
        "annotations": {"list": []},
        "templating": {"list": [v for v in variables if v]},
        "panels": panels,
    }


def dashboards(enabled, specs=None, catalog=None):
    """``{file name: dashboard}`` of the specs (default :func:`load_specs`) for the ``enabled`` services."""
    result = {}
    for spec in specs if specs is not None else load_specs():
        model = dashboard(spec, enabled, catalog)
        if model:
            result[file_name(spec["name"])] = model
    return result


# ------------------------------------------------------------------------ queries


def _panels(model):
    for panel in model.get("panels") or []:
        yield panel
        yield from panel.get("panels") or []


def _references(expr):
    """The names of the variables an expression uses (``$name``, ``${name:fmt}``, ``[[name]]``)."""
    return [next(group for group in match.groups() if group) for match in _REFERENCE.finditer(expr)]


def substitute(expr, variables):
    """``expr`` with Grafana's built-ins and the dashboard's ``variables`` (names) replaced (see the module doc)."""
    def replace(match):
        name = next(group for group in match.groups() if group)
        if name in BUILTINS:
            return BUILTINS[name]
        if name in variables:
            return ANY_VALUE
        return match.group(0)

    return _REFERENCE.sub(replace, expr)


def _variable_names(model):
    return [v.get("name") for v in (model.get("templating") or {}).get("list") or []]


def queries(model):
    """Every target of a dashboard: ``{"dashboard", "panel", "datasource" (its type), "expr"}``, substituted."""
    names = _variable_names(model)
    result = []
    for panel in _panels(model):
        for target in panel.get("targets") or []:
            result.append({"dashboard": model.get("uid"), "panel": panel.get("title"),
                           "datasource": (target.get("datasource") or {}).get("type"),
                           "expr": substitute(target.get("expr") or "", names)})
    return result


# -------------------------------------------------------------------------- check


def syntax_problems(expr):
    """Unbalanced brackets, an unclosed string, a range that is no duration: the problems of an expression."""
    problems, stack, i = [], [], 0
    while i < len(expr):
        char = expr[i]
        if char in "\"'`":
            end = i + 1
            while end < len(expr) and expr[end] != char:
                end += 2 if expr[end] == "\\" and char != "`" else 1
            if end >= len(expr):
                return problems + ["unclosed string at %d" % i]
            i = end + 1
            continue
        if char in "([{":
            stack.append((char, i))
        elif char in ")]}":
            if not stack or stack[-1][0] != _CLOSING[char]:
                return problems + ["unbalanced %r at %d" % (char, i)]
            start = stack.pop()[1]
            if char == "]":
                inside = expr[start + 1:i].strip()
                parts = [part.strip() for part in inside.split(":")]
                bad_step = len(parts) == 2 and parts[1] and not _DURATION.match(parts[1])
                if len(parts) > 2 or not _DURATION.match(parts[0]) or bad_step:
                    problems.append("[%s] is not a duration" % inside)
        i += 1
    if stack:
        problems.append("unclosed %r at %d" % stack[-1])
    return problems


def _grid_problems(where, grid):
    problems = []
    if not isinstance(grid, dict) or not all(isinstance(grid.get(k), int) for k in ("x", "y", "w", "h")):
        return ["%s: gridPos needs integer x, y, w, h" % where]
    if grid["x"] < 0 or grid["y"] < 0 or grid["w"] < 1 or grid["h"] < 1 or grid["x"] + grid["w"] > GRID_COLUMNS:
        problems.append("%s: gridPos %s is outside the %d columns" % (where, grid, GRID_COLUMNS))
    return problems


def _overlap(a, b):
    return (a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"]
            and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"])


def _expr_problems(where, expr, names):
    problems = []
    for name in _references(expr):
        if name.startswith("__") and name not in BUILTINS:
            problems.append("%s: unknown built-in variable $%s" % (where, name))
        elif not name.startswith("__") and name not in names:
            problems.append("%s: variable $%s is not defined in templating" % (where, name))
    outside = _REGEX_MATCHER.sub("", expr)
    misplaced = [name for name in _references(outside) if name in names]
    if misplaced:
        problems.append("%s: variable $%s outside the value of a =~ matcher" % (where, misplaced[0]))
    problems.extend("%s: %s" % (where, problem) for problem in syntax_problems(substitute(expr, names)))
    return problems


def _target_problems(where, panel, sources, names):
    problems = []
    source = panel.get("datasource")
    if not isinstance(source, dict) or source.get("uid") not in sources or not source.get("type"):
        problems.append("%s: datasource must be {type, uid} of one of %s" % (where, ", ".join(sorted(sources))))
    targets = panel.get("targets")
    if not isinstance(targets, list) or not targets:
        return problems + ["%s: no targets" % where]
    ref_ids = [t.get("refId") for t in targets if isinstance(t, dict)]
    if len(ref_ids) != len(targets) or not all(ref_ids) or len(set(ref_ids)) != len(ref_ids):
        problems.append("%s: every target needs a refId of its own" % where)
    for target in targets:
        twhere = "%s, target %s" % (where, target.get("refId") if isinstance(target, dict) else target)
        if not isinstance(target, dict):
            problems.append("%s: not a mapping" % twhere)
            continue
        tsource = target.get("datasource")
        if not isinstance(tsource, dict) or tsource.get("uid") not in sources:
            problems.append("%s: datasource must be {type, uid} of one of %s" % (twhere, ", ".join(sorted(sources))))
        elif tsource.get("type") != sources[tsource["uid"]]["type"]:
            problems.append("%s: datasource type %r is not that of %r" % (twhere, tsource.get("type"), tsource["uid"]))
        expr = target.get("expr")
        if not isinstance(expr, str) or not expr.strip():
            problems.append("%s: expr is required" % twhere)
        else:
            problems.extend(_expr_problems(twhere, expr, names))
    return problems


def _panel_model_problems(panel, sources, names):
    where = "panel %s (%s)" % (panel.get("id"), panel.get("title"))
    problems = _grid_problems(where, panel.get("gridPos"))
    if panel.get("type") == ROW_TYPE:
        return problems
    if panel.get("type") not in PANEL_TYPES:
        problems.append("%s: type %r is not one of %s" % (where, panel.get("type"), ", ".join(PANEL_TYPES)))
    if not panel.get("title"):
        problems.append("%s: no title" % where)
    defaults = (panel.get("fieldConfig") or {}).get("defaults")
    if not isinstance(defaults, dict):
        problems.append("%s: no fieldConfig.defaults" % where)
    elif panel.get("type") != "logs" and not defaults.get("unit"):
        problems.append("%s: no fieldConfig.defaults.unit" % where)
    return problems + _target_problems(where, panel, sources, names)


def check_model(model, catalog=None):
    """The problems of a dashboard's JSON model (an empty list when it is fine)."""
    sources, _default = _datasources(catalog or load_catalog())
    problems = ["missing key %r" % key for key in ("uid", "title", "tags", "editable", "time", "refresh",
                                                   "schemaVersion", "panels", "templating")
                if key not in model]
    if not str(model.get("uid", "")).startswith(UID_PREFIX):
        problems.append("uid %r does not start with %r" % (model.get("uid"), UID_PREFIX))
    if model.get("editable") is not False:
        problems.append("editable must be false")
    names = _variable_names(model)
    if not all(names) or len(set(names)) != len(names):
        problems.append("template variables need names of their own: %s" % names)
    for variable in (model.get("templating") or {}).get("list") or []:
        if variable.get("type") not in ("query", "custom"):
            problems.append("variable %s: type %r" % (variable.get("name"), variable.get("type")))
    panels = list(_panels(model))
    if not [p for p in panels if p.get("type") != ROW_TYPE]:
        problems.append("no panels")
    ids = [p.get("id") for p in panels]
    if not all(isinstance(i, int) for i in ids) or len(set(ids)) != len(ids):
        problems.append("panel ids must be integers of their own: %s" % ids)
    for panel in panels:
        problems.extend(_panel_model_problems(panel, sources, names))
    grids = [(p.get("title"), p["gridPos"]) for p in panels
             if not _grid_problems("", p.get("gridPos"))]
    for i, (title, grid) in enumerate(grids):
        problems.extend("panels %r and %r overlap" % (title, other) for other, other_grid in grids[i + 1:]
                        if _overlap(grid, other_grid))
    return problems
