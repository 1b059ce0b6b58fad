# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)
"""Docker Compose env files: quoting, rendering, parsing, masked diffs.

Compose (v2, compose-go's dotenv parser) reads ``KEY=VALUE`` lines:

- unquoted values end at `` #`` (a comment) and are interpolated (``$VAR``);
- double-quoted values understand ``\\\\``, ``\\"``, ``\\n``, ``\\r``, ``\\t`` and
  are interpolated, ``$$`` standing for a literal ``$``;
- single-quoted values are literal except that ``\\'`` ends nothing.

So :func:`quote` leaves a value bare only when it is made of characters that mean
nothing to that parser, and otherwise writes it double-quoted with every backslash,
double quote, newline, carriage return and dollar escaped. The corpus in
tests/unit/plugins/module_utils/test_env_file.py is checked against the real ``docker compose config``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SAFE_RE = re.compile(r"^[A-Za-z0-9_./:,@%+=\-]+$")
MASK = "********"


def key_problem(key):
    if not isinstance(key, str) or not KEY_RE.match(key):
        return "'%s' is not a valid environment variable name ([A-Za-z_][A-Za-z0-9_]*)" % (key,)
    return None


def to_text(value):
    """Environment values are strings; booleans become true/false, None empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def quote(value):
    """Quote one value for a compose env file."""
    text = to_text(value)
    if text == "" or _SAFE_RE.match(text):
        return text
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "$":
            out.append("$$")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def unquote(raw):
    """Inverse of :func:`quote` (and plain unquoted values, comments stripped)."""
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == '"' and raw[-1] == '"':
        body = raw[1:-1]
        out = []
        i = 0
        escapes = {"\\": "\\", '"': '"', "n": "\n", "r": "\r", "t": "\t", "$": "$"}
        while i < len(body):
            ch = body[i]
            if ch == "\\" and i + 1 < len(body) and body[i + 1] in escapes:
                out.append(escapes[body[i + 1]])
                i += 2
            elif ch == "$" and body[i + 1:i + 2] == "$":
                out.append("$")
                i += 2
            else:
                out.append(ch)
                i += 1
        return "".join(out)
    if len(raw) >= 2 and raw[0] == "'" and raw[-1] == "'":
        return raw[1:-1].replace("\\'", "'")
    return re.split(r"\s+#", raw, maxsplit=1)[0].strip()


def render(env, header=None):
    """Render a dict as an env file, keys sorted, one ``KEY=value`` per line."""
    lines = []
    if header:
        lines.extend("# " + h if h else "#" for h in header.splitlines())
    for key in sorted(env):
        lines.append("%s=%s" % (key, quote(env[key])))
    return "\n".join(lines) + "\n"


def parse(text):
    """Parse an env file this module wrote (comments and blank lines ignored)."""
    env = {}
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or "=" not in stripped:
            continue
        key, raw = stripped.split("=", 1)
        env[key.strip()] = unquote(raw)
    return env


def masked(env, secret_keys):
    return dict((k, MASK if k in secret_keys else to_text(v)) for k, v in env.items())


def changed_keys(before, after):
    """Sorted names of keys added, removed or whose value differs."""
    keys = set(before) | set(after)
    return sorted(k for k in keys if (k in before) != (k in after) or to_text(before.get(k)) != to_text(after.get(k)))


def masked_render_pair(before, after, secret_keys, header=None):
    """Renderings of ``before`` and ``after`` for a diff: secret values are masked,
    but a changed secret still shows as a changed line (``******** (changed)``)."""
    secret_keys = set(secret_keys)
    b = masked(before, secret_keys)
    a = masked(after, secret_keys)
    for key in secret_keys:
        if key in before and key in after and to_text(before[key]) != to_text(after[key]):
            a[key] = MASK + " (changed)"
    return render_plain(b, header), render_plain(a, header)


def render_plain(env, header=None):
    """Like :func:`render` but without quoting: for human-readable diffs only."""
    lines = []
    if header:
        lines.extend("# " + h if h else "#" for h in header.splitlines())
    for key in sorted(env):
        lines.append("%s=%s" % (key, env[key]))
    return "\n".join(lines) + "\n"
