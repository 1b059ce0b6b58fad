# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)
"""The site model of omero_docker.stack (see model.py).

Import the pieces from their modules, e.g.
``from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.model import build_site_model``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type
