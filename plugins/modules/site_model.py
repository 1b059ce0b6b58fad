#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)
# This file only documents the action plugin plugins/action/site_model.py, which runs on the controller.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: site_model
short_description: Validate the site description and compute the OMERO site model
description:
  - Reads the site variables of the current host (C(omero_site_*), C(omero_services), C(omero_server_config),
    C(omero_web_config), C(omero_web_plugins), C(omero_scripts), C(omero_script_folders), C(omero_groups),
    C(omero_users), C(omero_secrets))
    on the controller, validates them against the service catalog, applies defaults and derives paths, owners,
    images (with the registry mirror), ports, secret references, OMERO configuration files, monitoring
    configuration, env files and the compose manifest with per-service input hashes.
  - Every problem is reported at once, each naming its variable and the fix, before any host is changed.
  - Secret values never appear in the returned fact; secrets are named by reference.
  - With the site variable C(omero_site_generate_secrets=true), missing secrets are generated once and kept on the
    controller in C(omero_site_secrets_store) (default C(~/.local/share/omero_docker_stack/sites/<site>/secrets.yml),
    or under C($XDG_DATA_HOME)), mode 0600. A secret an external server holds (the password of an existing
    database given as C(omero_services.database.external)) is never generated, it must be in C(omero_secrets).
  - OMERO.web plugins given as plain app folders (C(omero_web_plugins[].src), a folder or a git repository's folder
    at a commit) are packaged here as wheels in the controller's cache (C(~/.cache/omero-docker-stack), or under
    C($XDG_CACHE_HOME)); their C(requirements.txt) must be pinned.
  - A C(src) folder that is a Python project (C(pyproject.toml), C(setup.py)) is built here into a wheel with the
    controller's Python, offline (C(pip wheel --no-build-isolation --no-index)) with the setuptools installed beside
    Ansible (another build backend is refused); its dependencies must be pinned; the build is cached by content.
  - This is an action plugin; it runs on the controller and needs no connection to the host.
version_added: 0.1.0
author:
  - omero_docker.stack developers (@omero-docker)
options:
  fact_name:
    description: Name of the fact the model is returned in.
    type: str
    default: omero_site_model
  return_secret_values:
    description:
      - Also return the secret values in RV(secret_values), for tasks that write secret files, and the
        passwords of C(omero_users) in RV(user_passwords).
      - The whole result is then marked C(no_log), and no fact is set.
    type: bool
    default: false
  image_ids:
    description:
      - The uid and gid of the image accounts the model asks for in C(image_users), read from the images on the
        host (C(id <user>) in each image), as a dictionary of service name to C(uid) and C(gid).
        Used as the owners of the service's directories unless the site sets C(omero_services.<name>.uid/gid).
      - Set by the site_layout role; without it the catalog's uid/gid are used.
    type: dict
    default: {}
attributes:
  check_mode:
    description: Computes the model; secrets that would be generated are used for that run only.
    support: full
  diff_mode:
    description: Nothing to show.
    support: none
  platform:
    description: Runs on the controller only.
    support: full
    platforms: all
notes:
  - In check mode, secrets that would be generated are used for that run only and not stored.
"""

EXAMPLES = r"""
- name: Compute the site model
  omero_docker.stack.site_model:

- name: Compute it again with the uid/gid read from the images
  omero_docker.stack.site_model:
    image_ids: {omeroweb: {uid: 999, gid: 998}}

- name: Get the secret values to write secret files
  omero_docker.stack.site_model:
    return_secret_values: true
  register: _secrets
  no_log: true
"""

RETURN = r"""
ansible_facts:
  description: The site model under O(fact_name).
  returned: success
  type: dict
  contains:
    omero_site_model:
      description:
        - Plain dict with keys C(schema), C(site), C(enabled_services), C(services), C(paths), C(directories),
          C(secrets), C(secret_files), C(env_files), C(files), C(compose), C(service_hashes), C(image_users),
          C(databases), C(init_only_secrets), C(omero) (with C(omero.script_folders)), C(web_plugins),
          C(bootstrap).
        - C(bootstrap) is what the omero_bootstrap role applies - C(read_write), C(groups) and C(users)
          (without passwords) as the omero_group and omero_user modules take them, C(scripts) as
          C({official, official_version, site}) for omero_script (a C(src) read on the controller);
          C(external_server) (C({host, port})) only when the OMERO.server is an existing one, which the role skips.
        - A service given as C(omero_services.<name>.external) is not in C(enabled_services); its
          C(services.<name>) and C(databases.<name>) entries carry C(external) (C({host, port})).
      type: dict
      returned: success
errors:
  description: The problems found, each with the variable it concerns.
  returned: failure
  type: list
  elements: dict
  sample: [{"variable": "omero_site_base_dir", "message": "'srv' must be an absolute, normalised path"}]
secret_values:
  description: Secret names to values (only with O(return_secret_values)).
  returned: when O(return_secret_values=true)
  type: dict
user_passwords:
  description: The passwords given in C(omero_users), by user name (only with O(return_secret_values)).
  returned: when O(return_secret_values=true)
  type: dict
"""
