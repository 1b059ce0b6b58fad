#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: env_file
short_description: Write a Docker Compose env file atomically, with secrets masked in diffs
description:
  - Writes C(KEY=value) lines, sorted by key, quoted the way Docker Compose v2 reads them (values with C($),
    C(#), quotes, spaces, backslashes or newlines are double-quoted and escaped; C($) is written C($$)).
  - The file is replaced atomically (temporary file in the same directory, then rename) and only when its
    content, owner, group or mode differ.
  - With C(--diff), the diff names the changed keys; values of O(secret_env) keys are shown as C(********).
  - With O(files), writes many env files in one call (one remote round trip instead of one per file, which is
    what makes a no-op site run fast); each entry takes the options of a single file.
version_added: 0.1.0
author:
  - omero_docker.stack developers (@omero-docker)
options:
  path:
    description: Absolute path of the env file. Required unless O(files) is given.
    type: path
  files:
    description:
      - Several env files at once, instead of O(path), O(env), O(secret_env) and the file attributes.
    type: list
    elements: dict
    suboptions:
      path:
        description: Absolute path of the env file.
        type: path
        required: true
      env:
        description: Plain variables.
        type: dict
        default: {}
      secret_env:
        description: Secret variables (never shown).
        type: dict
        default: {}
      owner:
        description: Owner of the file.
        type: str
      group:
        description: Group of the file.
        type: str
      mode:
        description: Mode of the file (default C(0600)).
        type: raw
  env:
    description: Plain variables (values are converted to strings; booleans to C(true)/C(false)).
    type: dict
    default: {}
  secret_env:
    description:
      - Secret variables. Their values never appear in the diff or in the module's output.
      - A key may not be in both O(env) and O(secret_env).
    type: dict
    default: {}
  header:
    description: Comment written at the top of the file (each line prefixed with C(#)).
    type: str
    default: Rendered by omero_docker.stack; local edits are overwritten.
extends_documentation_fragment:
  - ansible.builtin.files
  - omero_docker.stack.posix_platform
attributes:
  check_mode:
    description: Reports whether the file would change (and the changed keys) without writing it.
    support: full
  diff_mode:
    description: Shows the old and new content with secret values masked.
    support: full
notes:
  - O(mode) defaults to C(0600) because env files usually hold secrets.
"""

EXAMPLES = r"""
- name: Write every env file of the site in one call
  omero_docker.stack.env_file:
    files:
      - path: /srv/omero/env/redis.env
        env: {TZ: UTC}
        owner: root
        group: root
        mode: "0600"
      - path: /srv/omero/env/omeroweb.env
        env: {TZ: UTC}
        secret_env:
          CONFIG_omero_web_secret__key: "{{ omero_secrets.omero_web_secret_key }}"

- name: Write the env file of omeroserver
  omero_docker.stack.env_file:
    path: /srv/omero/env/omeroserver.env
    env:
      TZ: UTC
    secret_env:
      ROOTPASS: "{{ omero_secrets.omero_root_password }}"
    owner: root
    group: root
    mode: "0600"
"""

RETURN = r"""
files:
  description: With O(files), per file its C(path), C(changed) and C(changed_keys).
  returned: when O(files) is given
  type: list
  elements: dict
changed_paths:
  description: With O(files), the paths of the files that changed (or would change in check mode).
  returned: when O(files) is given
  type: list
  elements: str
changed_keys:
  description: Keys added, removed or changed (names only).
  returned: always
  type: list
  elements: str
  sample: ["CONFIG_omero_db_pass", "TZ"]
path:
  description: The env file.
  returned: always
  type: str
"""

# ruff: noqa: E402
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native, to_text
from ansible_collections.omero_docker.stack.plugins.module_utils import env_file as ef


def _check_keys(module, path, env, secret_env):
    for key in list(env) + list(secret_env):
        problem = ef.key_problem(key)
        if problem:
            module.fail_json(msg="env_file %s: %s" % (path, problem))
    both = sorted(set(env) & set(secret_env))
    if both:
        module.fail_json(msg="env_file %s: keys in both env and secret_env: %s" % (path, ", ".join(both)))


def _read(module, path):
    if not os.path.exists(path):
        return None
    if not os.path.isfile(path):
        module.fail_json(msg="env_file %s exists and is not a regular file" % path)
    with open(path, "rb") as handle:
        return to_text(handle.read(), errors="surrogate_or_strict")


def _write(module, path, content):
    """Write to a temporary file in the same directory, then rename it over ``path``."""
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        module.fail_json(msg="env_file %s: directory %s does not exist" % (path, directory))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".%s." % os.path.basename(path), suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(to_bytes(content))
            handle.flush()
            os.fsync(handle.fileno())
        module.atomic_move(tmp, path, unsafe_writes=False)
    except Exception as exc:  # noqa: BLE001 - clean the temporary file on any failure
        if os.path.exists(tmp):
            os.unlink(tmp)
        module.fail_json(msg="env_file %s: cannot write: %s" % (path, to_native(exc)))


def converge_file(module, params):
    """One env file: returns its result (changed, path, changed_keys, diff)."""
    path = params["path"]
    env = params.get("env") or {}
    secret_env = params.get("secret_env") or {}
    _check_keys(module, path, env, secret_env)

    wanted = dict((k, ef.to_text(v)) for k, v in env.items())
    wanted.update((k, ef.to_text(v)) for k, v in secret_env.items())
    content = ef.render(wanted, module.params["header"])
    before_text = _read(module, path)
    before = ef.parse(before_text) if before_text is not None else {}
    content_changed = before_text != content
    result = dict(changed=content_changed, path=path,
                  changed_keys=ef.changed_keys(before, wanted) if content_changed else [])

    if module._diff and content_changed:
        b, a = ef.masked_render_pair(before, wanted, set(secret_env), module.params["header"])
        result["diff"] = {
            "before_header": path if before_text is not None else "%s (absent)" % path,
            "after_header": path,
            "before": b if before_text is not None else "",
            "after": a,
        }
    if content_changed and not module.check_mode:
        _write(module, path, content)
    if os.path.exists(path):
        attributes = dict(module.params, path=path, owner=params.get("owner"), group=params.get("group"),
                          mode=params.get("mode") if params.get("mode") is not None else "0600")
        file_args = module.load_file_common_arguments(attributes)
        result["changed"] = module.set_fs_attributes_if_different(file_args, result["changed"])
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path"),
            env=dict(type="dict", default={}),
            secret_env=dict(type="dict", default={}, no_log=True),
            files=dict(type="list", elements="dict", options=dict(
                path=dict(type="path", required=True),
                env=dict(type="dict", default={}),
                secret_env=dict(type="dict", default={}, no_log=True),
                owner=dict(type="str"),
                group=dict(type="str"),
                mode=dict(type="raw"),
            )),
            header=dict(type="str", default="Rendered by omero_docker.stack; local edits are overwritten."),
        ),
        add_file_common_args=True,
        mutually_exclusive=[("path", "files")],
        required_one_of=[("path", "files")],
        supports_check_mode=True,
    )
    if module.params["files"] is None:
        module.exit_json(**converge_file(module, module.params))
    results = [converge_file(module, item) for item in module.params["files"]]
    diffs = [r.pop("diff") for r in results if "diff" in r]
    result = dict(changed=any(r["changed"] for r in results), files=results,
                  changed_paths=[r["path"] for r in results if r["changed"]])
    if diffs:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
