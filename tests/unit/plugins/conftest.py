"""Fixtures of the omero_* module tests: a FAKE OMERO.server and a way to run a module.

The fake (tests/helpers/fake_omero.py) needs omero-py. When it is missing, a test that
uses the ``server`` fixture FAILS with the fix in the message instead of skipping: the
test command installs omero-py with tools/omero-py.sh, so its absence is a broken
environment, not an optional feature. The tests of the other plugins do not need it.
"""

from __future__ import annotations

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from tests.helpers.omero_test_helpers import ROOT_PASSWORD, ModuleExit, ModuleFail


def _omero():
    try:
        import omero
        import omero.gateway  # noqa: F401
    except ImportError as exc:  # pragma: no cover - exercised only in a broken environment
        raise ImportError(
            "omero-py is not importable (%s); install it into the test virtualenv with "
            "`tools/omero-py.sh \"$VENV\"` (it builds the patched zeroc-ice wheel once)" % exc
        ) from exc
    return omero


@pytest.fixture
def server(monkeypatch):
    """The fake server; omero.client is replaced by its autospecced client class."""
    omero = _omero()
    from tests.helpers.fake_omero import FakeOmeroServer

    fake = FakeOmeroServer(root_password=ROOT_PASSWORD)
    monkeypatch.setattr(omero, "client", fake.client_class)
    return fake


@pytest.fixture
def run_module(monkeypatch):
    """run_module(module, args, check=False, diff=False) -> result dict (ModuleFail on failure)."""

    def exit_json(self, **kwargs):
        kwargs.setdefault("changed", False)
        raise ModuleExit(kwargs)

    def fail_json(self, msg, **kwargs):
        kwargs["failed"] = True
        kwargs["msg"] = msg
        raise ModuleFail(kwargs)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)

    def run(module, args, check=False, diff=False):
        full = {"password": ROOT_PASSWORD, "_ansible_check_mode": check, "_ansible_diff": diff}
        full.update(args)
        with patch_module_args(full):
            try:
                module.main()
            except ModuleExit as done:
                return done.result
        raise AssertionError("module returned without exit_json/fail_json")

    return run
