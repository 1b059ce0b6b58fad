# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)
"""Filters of the takeover of a reference installation (module_utils/takeover.py).

``files | omero_docker.stack.takeover_describe(install_dir, base_dir)``: the site description
of the reference installation whose files were read on the host; ``text |
omero_docker.stack.takeover_env`` parses one env file; ``description |
omero_docker.stack.takeover_cross_check(containers)`` compares a description with the
reference's running containers (their docker inspect). Pure: they touch no host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible_collections.omero_docker.stack.plugins.module_utils.takeover import (
    TakeoverError,
    cross_check,
    describe,
    parse_env,
)


def takeover_describe(files, install_dir, base_dir):
    if not isinstance(files, dict):
        raise AnsibleFilterError("takeover_describe: the input must map the reference's files to their text")
    try:
        return describe(files, str(install_dir), str(base_dir))
    except TakeoverError as exc:
        raise AnsibleFilterError("takeover_describe: %s" % exc) from None


def takeover_env(text):
    return parse_env(text if isinstance(text, str) else "")


def takeover_cross_check(description, containers, engine_error=None):
    if not isinstance(description, dict) or "services" not in description:
        raise AnsibleFilterError("takeover_cross_check: the input must be the result of takeover_describe")
    if containers is not None and not isinstance(containers, list):
        raise AnsibleFilterError("takeover_cross_check: containers must be a list of docker inspect results, or null")
    return cross_check(description, containers, None if engine_error is None else str(engine_error))


class FilterModule(object):
    def filters(self):
        return {"takeover_describe": takeover_describe, "takeover_env": takeover_env,
                "takeover_cross_check": takeover_cross_check}
