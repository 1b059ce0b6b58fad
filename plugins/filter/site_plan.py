# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)
"""Filters for the change plan of a site (plugins/module_utils/site_model/plan.py).

- ``site_plan``: ``omero_site_model | omero_docker.stack.site_plan(containers, images)``:
  per service create / recreate / unchanged / remove, per site image build / present, with
  the reasons, from the containers and images ``community.docker.docker_host_info`` lists.
- ``site_plan_lines``: that plan in words, one line per service and image, then the counts.

Both are pure: they read what they are given and touch no host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections.abc import Mapping, Sequence

from ansible.errors import AnsibleFilterError
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import plan as planlib


def _listed(value, what):
    """docker_host_info's list (or None/empty: a fresh host, or an engine without any)."""
    if value is None or value == "":
        return []
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise AnsibleFilterError("site_plan: %s must be a list (docker_host_info's %s), not %s"
                                 % (what, what, type(value).__name__))
    return list(value)


def _recreates_dependents(compose_version):
    """Whether this Compose version recreates the dependents of a recreated service
    (before 2.30: yes). Unknown (empty): assume it does, the larger plan."""
    parts = str(compose_version or "").strip().lstrip("v").split(".")
    try:
        return tuple(int(p) for p in parts[:2]) < (2, 30)
    except ValueError:
        return True


def site_plan(model, containers=None, images=None, compose_version=None):
    """plan.py ``plan()`` of the site model against the host's containers and images;
    ``compose_version`` (``docker compose version --short``) says whether Compose
    recreates the dependents of a recreated service."""
    if not isinstance(model, Mapping) or not isinstance(model.get("services"), Mapping) \
            or not isinstance(model.get("site"), Mapping):
        raise AnsibleFilterError("site_plan: the input must be the site model (omero_site_model)")
    containers = _listed(containers, "containers")
    for container in containers:
        if not isinstance(container, Mapping) or "Labels" not in container:
            raise AnsibleFilterError("site_plan: a container has no Labels: register docker_host_info with "
                                     "containers: true, containers_all: true and verbose_output: true")
    try:
        return planlib.plan(planlib.desired_from_model(model), containers, project=model["site"]["name"],
                            images=_listed(images, "images"), site_images=model.get("images") or {},
                            recreates_dependents=_recreates_dependents(compose_version))
    except (KeyError, TypeError, AttributeError) as exc:
        raise AnsibleFilterError("site_plan: the site model or the host's lists are not as expected (%s: %s)"
                                 % (type(exc).__name__, exc)) from None


def site_plan_lines(result):
    """plan.py ``lines()``: the plan in words."""
    if not isinstance(result, Mapping) or not all(k in result for k in ("project", "services", "images", "summary")):
        raise AnsibleFilterError("site_plan_lines: the input must be a plan (omero_docker.stack.site_plan)")
    try:
        return planlib.lines(result)
    except (KeyError, TypeError) as exc:
        raise AnsibleFilterError("site_plan_lines: the plan is not as expected (%s: %s)"
                                 % (type(exc).__name__, exc)) from None


class FilterModule(object):
    def filters(self):
        return {
            "site_plan": site_plan,
            "site_plan_lines": site_plan_lines,
        }
