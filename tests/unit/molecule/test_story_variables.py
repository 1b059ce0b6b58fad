"""The stack scenario's stories share one play: a name one story registers or sets as a
fact wins over a block or task variable of the same name in a later story (Ansible's
precedence), silently. secret_rotation's login script once became omeroweb's registered
`_login` dict, so every login "passed". No variable of a story's `vars:` may be
registered or set as a fact anywhere in the scenario.
"""

from pathlib import Path

import yaml

SCENARIO = Path(__file__).resolve().parents[3] / "molecule" / "stack"


def _walk(node, where, found):
    if isinstance(node, list):
        for item in node:
            _walk(item, where, found)
    elif isinstance(node, dict):
        if isinstance(node.get("register"), str):
            found["registered"].setdefault(node["register"], set()).add(where)
        for key in ("ansible.builtin.set_fact", "set_fact"):
            if isinstance(node.get(key), dict):
                for name in node[key]:
                    found["facts"].setdefault(name, set()).add(where)
        if isinstance(node.get("vars"), dict):
            for name in node["vars"]:
                found["vars"].setdefault(name, set()).add(where)
        for value in node.values():
            _walk(value, where, found)


def scan():
    found = {"registered": {}, "facts": {}, "vars": {}}
    for path in sorted(SCENARIO.rglob("*.yml")):
        _walk(yaml.safe_load(path.read_text()), path.relative_to(SCENARIO).as_posix(), found)
    return found


def test_the_scan_sees_the_stories():
    found = scan()
    assert "_rotation_login" in found["vars"]
    assert "_run" in found["facts"]


def test_no_story_variable_is_overridden_by_a_registered_result_or_fact():
    found = scan()
    clashes = {name: {"vars in": sorted(where), "registered/set in": sorted(
        found["registered"].get(name, set()) | found["facts"].get(name, set()))}
        for name, where in found["vars"].items()
        if name in found["registered"] or name in found["facts"]}
    assert clashes == {}
