# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)
"""OMERO configuration as data.

``omero_server_config`` / ``omero_web_config`` are dictionaries keyed by dotted
OMERO property names. A value is either

- a scalar (string, number, boolean) or a list/dict: ``config set`` (lists and dicts
  as JSON, as OMERO expects for list properties), or
- ``{"append": [item, ...]}``: one ``config append --set`` per item (``--set``
  appends only when the item is not in the list yet, so restarting a container that
  loads the file again adds no duplicates; the renderer also drops duplicates
  within the site description), or
- ``{"set": value}``: explicit form of the first case.

The official OMERO images load ``/opt/omero/{server,web}/config/*.omero`` with
``omero load`` at start, then apply ``CONFIG_*`` environment variables. A property
travelling as a variable is named by :func:`config_env_name`; the images reverse it
with two regular expressions (:func:`property_from_config_env`, copied from their
start script), which mis-map some names: those are rejected by
:func:`property_name_problem`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
import shlex

CONFIG_ENV_PREFIX = "CONFIG_"
_SEGMENT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]*$")


def config_env_name(prop):
    """``omero.web.secret_key`` -> ``CONFIG_omero_web_secret__key``."""
    return CONFIG_ENV_PREFIX + prop.replace("_", "__").replace(".", "_")


def property_from_config_env(name):
    """What the official images make of a ``CONFIG_`` variable (their exact rule): the one
    reverse rule of the collection (the omero_web_plugins module and the
    ``omero_config_property`` filter use it). ``CONFIG_omero_a_b`` -> ``omero.a_b``."""
    prop = name[len(CONFIG_ENV_PREFIX):]
    prop = re.sub("([^_])_([^_])", r"\1.\2", prop)
    return re.sub("__", "_", prop)


def _segment_problem(seg, prop):
    if not _SEGMENT_RE.match(seg):
        return ("segment '%s' of '%s' is empty, starts with '_' or holds characters other than "
                "letters, digits and '_'" % (seg, prop))
    return None


def _round_trip_problem(prop):
    """Only names the official images would turn into another property are refused."""
    env = config_env_name(prop)
    back = property_from_config_env(env)
    if back == prop:
        return None
    return ("the official OMERO images turn CONFIG_ variables back into property names with the "
            "regular expression ([^_])_([^_]) -> \\1.\\2 (matches cannot overlap), then '__' -> '_': "
            "'%s' would come back from %s as '%s' (a single character segment between two dots does that: "
            "rename it)" % (prop, env, back))


def property_name_problem(prop):
    """Return why ``prop`` is not an acceptable OMERO property name, or None."""
    if not isinstance(prop, str) or not prop:
        return "a property name must be a non-empty string"
    segments = prop.split(".")
    if len(segments) < 2:
        return "'%s' is not a dotted OMERO property name (like omero.web.public.enabled)" % prop
    problems = [p for p in (_segment_problem(seg, prop) for seg in segments) if p]
    return problems[0] if problems else _round_trip_problem(prop)


def scalar_text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    if value is None:
        return ""
    return str(value)


def _item_text(item):
    """An appended item is JSON (``"omero_figure"``, ``["host", 4064, "name"]``)."""
    return json.dumps(item, sort_keys=True, separators=(",", ":"))


def _explicit_ops(prop, value, where, errors):
    """Operations of ``{set: value}`` or ``{append: [items]}`` (duplicates dropped)."""
    if len(value) != 1:
        errors.append((where, "use either 'set' or 'append', not both"))
        return []
    if "set" in value:
        return [("set", prop, scalar_text(value["set"]))]
    items = value["append"]
    if not isinstance(items, list):
        errors.append((where, "'append' takes a list of items to append, got %s" % type(items).__name__))
        return []
    ops = []
    for item in items:
        op = ("append", prop, _item_text(item))
        if op not in ops:
            ops.append(op)
    return ops


def normalize(config, var_name, errors, managed=None, prefix_rule=None):
    """Validate a property dict; return a list of ``(op, prop, text)`` operations.

    ``op`` is ``set`` or ``append``; ``text`` is the value as OMERO's CLI receives it.
    Problems are appended to ``errors`` as ``(variable, message)``.
    """
    ops = []
    if config is None:
        return ops
    if not isinstance(config, dict):
        errors.append((var_name, "must be a dictionary of dotted OMERO property names to values"))
        return ops
    managed = managed or {}
    for prop in sorted(config):
        value = config[prop]
        where = "%s['%s']" % (var_name, prop)
        problem = property_name_problem(prop)
        if problem:
            errors.append((where, "invalid OMERO property name: %s. Fix the name (see the "
                                  "OMERO configuration reference)." % problem))
            continue
        if prefix_rule:
            problem = prefix_rule(prop)
            if problem:
                errors.append((where, problem))
                continue
        if prop in managed:
            errors.append((where, "%s is set by the collection; set %s instead" % (prop, managed[prop])))
            continue
        if isinstance(value, dict) and set(value) <= {"append", "set"} and value:
            new = _explicit_ops(prop, value, where, errors)
        else:
            new = [("set", prop, scalar_text(value))]
        if any(newline_problem(text) for dummy, dummy2, text in new):
            errors.append((where, newline_problem("\n")))
            continue
        ops.extend(new)
    return ops


def newline_problem(text):
    """Why ``text`` cannot be a value in a *.omero file, or None: ``omero load`` reads the
    file line by line, so a line break would cut the command in two."""
    if "\n" in text or "\r" in text:
        return ("the value holds a newline (or carriage return), which a *.omero file cannot carry: "
                "`omero load` reads it line by line; give a single-line value")
    return None


def render(ops, header=None):
    """Render operations as an ``omero load`` file: the one ``*.omero`` renderer (the site's
    files, the OMERO.web plugin registration, the omero_web_plugins module's preview of the
    ``CONFIG_*`` variables). ``text`` is the value as :func:`scalar_text` gives it."""
    lines = []
    if header:
        lines.extend("# " + h if h else "#" for h in header.splitlines())
    for op, prop, text in ops:
        command = "config set" if op == "set" else "config append --set"
        lines.append("%s -- %s %s" % (command, shlex.quote(prop), shlex.quote(text)))
    return "\n".join(lines) + "\n"
