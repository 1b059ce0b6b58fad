# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)
"""Filters for OMERO configuration and env files.

- ``omero_config_env_name``: ``omero.web.secret_key`` -> ``CONFIG_omero_web_secret__key``, the name the
  official OMERO images turn back into the property; names they would mis-map are refused with the reason.
- ``omero_config_property``: the reverse, exactly as the images do it.
- ``env_file_quote``: a value quoted for a Docker Compose env file.
- ``resolve_secret_refs``: ``{KEY: secret name}`` with the secret values -> ``{KEY: value}``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible_collections.omero_docker.stack.plugins.module_utils import env_file as ef
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import omero_config as oc


def omero_config_env_name(prop):
    problem = oc.property_name_problem(prop)
    if problem:
        raise AnsibleFilterError("omero_config_env_name: %s" % problem)
    return oc.config_env_name(prop)


def omero_config_property(name):
    if not isinstance(name, str) or not name.startswith(oc.CONFIG_ENV_PREFIX):
        raise AnsibleFilterError("omero_config_property: '%s' does not start with CONFIG_" % (name,))
    return oc.property_from_config_env(name)


def env_file_quote(value):
    return ef.quote(value)


def resolve_secret_refs(refs, values):
    """``{KEY: secret name}`` and ``{secret name: value}`` -> ``{KEY: value}`` (for no_log tasks)."""
    missing = sorted(set(refs.values()) - set(values))
    if missing:
        raise AnsibleFilterError("resolve_secret_refs: no value for %s" % ", ".join(missing))
    return dict((key, values[name]) for key, name in refs.items())


class FilterModule(object):
    def filters(self):
        return {
            "omero_config_env_name": omero_config_env_name,
            "omero_config_property": omero_config_property,
            "env_file_quote": env_file_quote,
            "resolve_secret_refs": resolve_secret_refs,
        }
