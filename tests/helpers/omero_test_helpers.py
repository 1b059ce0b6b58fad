"""Helpers of the omero_* module tests: run a module's main() and catch its result."""

from __future__ import annotations

import json

ROOT_PASSWORD = "root-password-for-tests"  # noqa: S105 - the fake server's


class ModuleExit(Exception):
    def __init__(self, result):
        super().__init__(json.dumps(result, default=str))
        self.result = result


class ModuleFail(Exception):
    def __init__(self, result):
        super().__init__(result.get("msg"))
        self.result = result
