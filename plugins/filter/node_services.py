# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)
"""Filter: the services of a site that may run on one host.

``omero_site_model | omero_docker.stack.node_services(labels)``:

- a site on one host (``omero_site_engine: compose``): every enabled service;
- a site on a Swarm (``omero_site_model.stack``): the services whose placement constraints
  (``node.labels.<label> == true``, swarm.py) the node's ``labels`` (its
  ``swarm_node_labels``) satisfy, the global ones and those with no constraint among them.

The images stage builds on a node only the site images of these services, and the OMERO.web
plugin check runs where OMERO.web may run. Pure: reads the model, touches no host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.errors import AnsibleFilterError

_CONSTRAINT_RE = re.compile(r"^node\.labels\.([A-Za-z0-9._-]+)\s*==\s*true$")


def node_services(model, labels=None):
    if not isinstance(model, dict) or "enabled_services" not in model:
        raise AnsibleFilterError("node_services: the input must be the site model (omero_site_model)")
    stack = model.get("stack")
    if not stack:
        return list(model["enabled_services"])
    labels = set(labels or [])
    placed = []
    for name in model["enabled_services"]:
        deploy = ((stack.get("services") or {}).get(name) or {}).get("deploy") or {}
        constraints = (deploy.get("placement") or {}).get("constraints") or []
        needed = set()
        for constraint in constraints:
            match = _CONSTRAINT_RE.match(constraint)
            if not match:
                raise AnsibleFilterError("node_services: service %s has a placement constraint this filter does "
                                         "not read: %r" % (name, constraint))
            needed.add(match.group(1))
        if needed <= labels:
            placed.append(name)
    return placed


class FilterModule(object):
    def filters(self):
        return {"node_services": node_services}
