"""Shared helpers of the tests of the exporters built here (files/images/*-exporter): load
a program by path (it is installed as a script, not a module), parse its Prometheus text
exposition strictly, and talk to its HTTP server."""

from __future__ import annotations

import http.client
import importlib.util
import re
import socket
import sys


def load_program(path, name):
    """The script at ``path`` imported as module ``name``."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>.*)\})? (?P<value>\S+)$")
LABEL = re.compile(r'(?P<key>[a-zA-Z_][a-zA-Z0-9_]*)="(?P<value>(?:[^"\\]|\\.)*)"(?:,|$)')


def unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "\\": "\\", '"': '"'}[m.group(1)], value)


def parse(text: str) -> dict[tuple[str, tuple], float]:
    """Parse text format 0.0.4 strictly enough to catch mistakes: every sample belongs to
    the family announced by the HELP and TYPE lines just before it."""
    assert text.endswith("\n")
    samples: dict[tuple[str, tuple], float] = {}
    family = kind = None
    seen_families = set()
    for line in text.splitlines():
        if line.startswith("# HELP "):
            family = line.split(" ", 3)[2]
            assert family not in seen_families, f"family {family} twice"
            seen_families.add(family)
            kind = None
            continue
        if line.startswith("# TYPE "):
            name, kind = line.split(" ")[2:]
            assert name == family and kind in {"gauge", "counter"}
            continue
        m = SAMPLE.match(line)
        assert m, f"bad sample line {line!r}"
        assert m["name"] == family and kind, f"sample {line!r} outside its family"
        labels = ()
        if m["labels"] is not None:
            pairs = LABEL.findall(m["labels"])
            assert "".join(f'{k}="{v}",' for k, v in pairs).rstrip(",") == m["labels"], line
            labels = tuple((k, unescape(v)) for k, v in pairs)
        key = (m["name"], labels)
        assert key not in samples, f"duplicate sample {key}"
        samples[key] = float(m["value"])
    return samples


def get(port, path, timeout=10):
    """``(status, content type, body)`` of GET http://127.0.0.1:PORT/PATH."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.getheader("Content-Type"), resp.read().decode()
    finally:
        conn.close()


def free_port():
    """A TCP port of 127.0.0.1 nothing listens on (now)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
