# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)
"""Load the service catalog (catalog.yml beside this file)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import os

try:
    import yaml

    HAS_YAML = True
except ImportError:  # pragma: no cover - the controller always has PyYAML
    HAS_YAML = False

CATALOG_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "catalog.yml")
_CACHE = {}


def load_catalog(path=None):
    """Return a deep copy of the catalog as plain dicts."""
    path = path or CATALOG_PATH
    if path not in _CACHE:
        if not HAS_YAML:
            raise RuntimeError("PyYAML is required to read the service catalog")
        with open(path) as handle:
            _CACHE[path] = yaml.safe_load(handle)
    return copy.deepcopy(_CACHE[path])
