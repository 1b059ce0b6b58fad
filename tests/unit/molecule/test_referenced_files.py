"""Scenarios reach helper files through Molecule's directory variables
(`lookup('ansible.builtin.env', 'MOLECULE_PROJECT_DIRECTORY') ~ '/tests/helpers/x.py'`). A
moved helper turns such a path into a background job that dies at once and a wait that
times out far away from the cause (the stack scenario's concurrent_runs once waited two
minutes for a lock no run could take). Every such path must name a file (or a folder) that exists.
"""

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
REFERENCE = re.compile(
    r"MOLECULE_(PROJECT|SCENARIO)_DIRECTORY'\)\s*(?:\}\}|~\s*')(/[\w./-]+)"
)


def _references():
    for path in sorted((REPO / "molecule").rglob("*.yml")):
        for match in REFERENCE.finditer(path.read_text()):
            yield path, match.group(1), match.group(2)


REFERENCES = list(_references())


def test_the_scenarios_reference_helpers_this_way():
    assert len(REFERENCES) >= 5


@pytest.mark.parametrize(("path", "kind", "target"), REFERENCES,
                         ids=[f"{ref[0].relative_to(REPO)}:{ref[2]}" for ref in REFERENCES])
def test_a_referenced_file_exists(path, kind, target):
    base = REPO if kind == "PROJECT" else path.parent
    while kind == "SCENARIO" and base.parent.name != "molecule":
        base = base.parent
    assert (base / target.lstrip("/")).exists(), f"{path.relative_to(REPO)} references {target}"
