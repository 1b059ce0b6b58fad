"""The three writers of omero_stack_maintenance_* (pg-maintenance's image, the backup's and the
database maintenance's scripts) agree on every HELP text: node-exporter's textfile collector
merges one metric family from several files only when they do (else it drops or fails)."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
WRITERS = [
    REPO / "files" / "images" / "pg-maintenance" / "pg-maintenance.sh",
    REPO / "roles" / "backup" / "files" / "omero-stack-backup",
    REPO / "roles" / "db_maintenance" / "files" / "omero-stack-db-maintenance",
]
_PRINTF = re.compile(r"# HELP (omero_stack_maintenance_[a-z_]+) ([^\\\n]+)")
_TABLE = re.compile(r"\[([a-z_]+)\]=\"([^\"]+)\"")


def _helps(path):
    text = path.read_text()
    found = dict(_PRINTF.findall(text))
    found.update(("omero_stack_maintenance_" + name, help_text) for name, help_text in _TABLE.findall(text))
    return found


def test_every_writer_gives_the_same_help_for_each_family():
    helps = [_helps(path) for path in WRITERS]
    common = ["omero_stack_maintenance_" + name for name in (
        "last_run_timestamp_seconds", "last_run_ok", "last_duration_seconds", "interval_seconds",
        "last_success_timestamp_seconds")]
    for family in common:
        texts = {str(path.relative_to(REPO)): found.get(family) for path, found in zip(WRITERS, helps, strict=True)}
        assert len(set(texts.values())) == 1 and None not in texts.values(), (family, texts)
