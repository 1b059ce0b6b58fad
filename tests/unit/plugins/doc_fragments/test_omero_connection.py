"""DOCUMENTATION of the omero_* modules parses and matches their argument specs."""

from __future__ import annotations

from unittest import mock

import pytest
import yaml
from ansible_collections.omero_docker.stack.plugins.doc_fragments.omero_connection import ModuleDocFragment
from ansible_collections.omero_docker.stack.plugins.modules import omero_group, omero_script, omero_user

MODULES = [omero_group, omero_script, omero_user]


class _Spec(Exception):
    pass


def _argument_spec(module):
    """The argument spec main() builds, caught at AnsibleModule()."""
    def capture(*args, **kwargs):
        raise _Spec(kwargs["argument_spec"])

    with mock.patch.object(module, "AnsibleModule", side_effect=capture), pytest.raises(_Spec) as caught:
        module.main()
    return caught.value.args[0]


def _compare(doc_options, spec, where):
    assert set(doc_options) == set(spec), where
    for name, doc in doc_options.items():
        arg = spec[name]
        assert doc.get("default") == arg.get("default"), "%s.%s default" % (where, name)
        assert doc.get("type", "str") == arg.get("type", "str"), "%s.%s type" % (where, name)
        assert sorted(doc.get("choices") or []) == sorted(arg.get("choices") or []), "%s.%s choices" % (where, name)
        if doc.get("suboptions"):
            _compare(doc["suboptions"], arg["options"], where + "." + name)


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_documentation_parses_and_matches_the_argument_spec(module):
    doc = yaml.safe_load(module.DOCUMENTATION)
    yaml.safe_load(module.EXAMPLES)
    yaml.safe_load(module.RETURN)
    options = dict(yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"])
    options.update(doc["options"])
    _compare(options, _argument_spec(module), module.__name__)
