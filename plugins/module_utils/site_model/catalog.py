# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)
"""Load the service catalog (catalog.yml beside this file), checked by catalog_schema.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import os

from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import catalog_schema

try:
    import yaml

    HAS_YAML = True
except ImportError:  # pragma: no cover - the controller always has PyYAML
    HAS_YAML = False

CATALOG_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "catalog.yml")
_CACHE = {}


class CatalogError(ValueError):
    """The catalog does not have the shape catalog_schema.py declares."""


def load_catalog(path=None):
    """Return a deep copy of the catalog as plain dicts; :class:`CatalogError` if it is unsound."""
    path = path or CATALOG_PATH
    if path not in _CACHE:
        if not HAS_YAML:
            raise RuntimeError("PyYAML is required to read the service catalog")
        with open(path) as handle:
            catalog = yaml.safe_load(handle)
        problems = catalog_schema.problems(catalog)
        if problems:
            raise CatalogError("%s: %s" % (path, "; ".join("%s: %s" % problem for problem in problems)))
        _CACHE[path] = catalog
    return copy.deepcopy(_CACHE[path])
