#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)

"""Converge many directories and files in one call.

Why a custom module: M(ansible.builtin.file) and M(ansible.builtin.copy) have no bulk mode,
so a loop over N paths costs N remote round trips (about 0.4 s each through a docker
connection, more over SSH). This module converges N paths in one round trip with the same
semantics: directories are never changed recursively, files are replaced atomically and only
when their content differs, owner/group/mode are fixed when they differ.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: site_files
short_description: Create directories and write files in bulk, in one call, never recursively
description:
  - Converges a whole set of directories and files in one call, where M(ansible.builtin.file) and
    M(ansible.builtin.copy) would cost one remote round trip per path.
  - Directories are processed first, parents before children. Missing directories are created; missing parents
    that are not listed themselves are created with mode C(0755), owned by the user running the module
    (root with become). Owner, group and mode are then set on each listed directory B(itself only), never
    recursively, so the cost does not depend on how many files the directories hold.
  - Files are written atomically (temporary file in the same directory, with the final owner and mode, then
    renamed over the old file) and only when their content differs; owner, group and mode are fixed when they
    differ. The parent directory of a file must exist or be listed in O(directories) of the same call; in check
    mode a missing parent is taken as made by an earlier task of the run (a preview of a fresh host).
  - Everything is checked (paths absolute and listed once, owners and groups known on the host, modes octal, no
    existing path of the wrong type, parents of files) before anything changes.
version_added: 0.1.0
author:
  - omero_docker.stack developers (@omero-docker)
options:
  directories:
    description: Directories to create, with the owner, group and mode of each.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path of the directory. A symbolic link to a directory is followed.
        type: path
        required: true
      owner:
        description: User name or uid. Unset leaves the owner as it is.
        type: raw
      group:
        description: Group name or gid. Unset leaves the group as it is.
        type: raw
      mode:
        description:
          - Octal mode as a string, for example C("0750"). An integer is taken as the mode's number (YAML C(0750)
            unquoted). Symbolic modes are not supported. Unset leaves the mode as it is.
        type: raw
  files:
    description: Regular files to write, with their content, owner, group and mode.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path of the file. A symbolic link or other non-regular file at this path is an error.
        type: path
        required: true
      content:
        description:
          - The exact content of the file (written as UTF-8, without adding a newline).
          - Not marked C(no_log) here, so that non-secret diffs stay readable; see O(secret).
        type: str
        required: true
      owner:
        description: User name or uid. Unset leaves the owner of an existing file as it is.
        type: raw
      group:
        description: Group name or gid. Unset leaves the group of an existing file as it is.
        type: raw
      mode:
        description:
          - Octal mode as a string, for example C("0600"). Unset keeps the mode of an existing file; new files
            get C(0666) minus the umask.
        type: raw
  record:
    description:
      - Path of a JSON file on the host that records the directories this module created (with their inodes).
      - When set, a listed directory is re-owned and re-moded only when the record holds it with its current
        inode. A directory that existed before (not created through this record), or that was replaced since
        (for example by a mount), keeps its owner, group and mode; it is returned in RV(kept_paths), with a
        warning when its attributes differ from those asked for. Directories created are added to the record.
      - Unset, every listed directory gets the owner, group and mode asked for.
    type: path
  adopt:
    description:
      - With O(record), also converge the owner, group and mode of existing directories that are not in the record,
        and record them (to hand existing directories to the site once).
    type: bool
    default: false
  secret:
    description:
      - The contents of O(files) are secrets. They are never returned, the diff shows only the path and
        C((secret content changed)), and they are masked in the module's output.
      - The task must set C(no_log=true), otherwise the module fails (without it the arguments, contents
        included, would be logged on the host and printed on failure).
    type: bool
    default: false
extends_documentation_fragment:
  - omero_docker.stack.posix_platform
attributes:
  check_mode:
    description: Reports what would be created or changed without changing anything.
    support: full
  diff_mode:
    description:
      - Returns a list of diffs, one per changed path; the before and after text of each changed non-secret file
        and a C(owner=... group=... mode=...) line for each directory or file whose attributes change.
    support: full
notes:
  - SELinux contexts and file attributes (C(chattr)) are not managed.
  - Unlike M(ansible.builtin.file), parents created for a listed directory do not get that directory's owner
    and mode, but C(0755), so that a data directory owned by a container user does not give that user its parents.
seealso:
  - module: ansible.builtin.file
  - module: ansible.builtin.copy
"""

EXAMPLES = r"""
- name: Create the site directories (not recursive)
  omero_docker.stack.site_files:
    directories:
      - {path: /srv/omero, owner: 0, group: 0, mode: "0755"}
      - {path: /srv/omero/data/omero, owner: 1000, group: 1000, mode: "0750"}

- name: Write configuration files
  omero_docker.stack.site_files:
    directories:
      - {path: /srv/omero/config/omeroweb, owner: root, group: root, mode: "0755"}
    files:
      - path: /srv/omero/config/omeroweb/60-site.omero
        content: "config set -- omero.web.public.enabled false\n"
        owner: root
        group: root
        mode: "0644"

- name: Write secret files
  omero_docker.stack.site_files:
    secret: true
    files:
      - path: /srv/omero/secrets/database/omero_db_password
        content: "{{ omero_secrets.omero_db_password }}"
        owner: 999
        group: 999
        mode: "0600"
  no_log: true
"""

RETURN = r"""
changed_paths:
  description: Directories and files created or modified (content, owner, group or mode), in the order processed.
  returned: always
  type: list
  elements: str
  sample: ["/srv/omero/data/omero", "/srv/omero/config/omeroweb/60-site.omero"]
created_paths:
  description: Directories and files that did not exist before (also in RV(changed_paths)).
  returned: always
  type: list
  elements: str
  sample: ["/srv/omero/data/omero"]
kept_paths:
  description: Listed directories left with their owner, group and mode because the O(record) does not hold them.
  returned: when O(record) is set
  type: list
  elements: str
  sample: ["/data/shared"]
"""

# ruff: noqa: E402
from ansible.module_utils.basic import AnsibleModule
from ansible_collections.omero_docker.stack.plugins.module_utils import site_files as sf

_ATTRS = dict(owner=dict(type="raw"), group=dict(type="raw"), mode=dict(type="raw"))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            directories=dict(type="list", elements="dict", default=[],
                             options=dict(path=dict(type="path", required=True), **_ATTRS)),
            files=dict(type="list", elements="dict", default=[],
                       options=dict(path=dict(type="path", required=True),
                                    content=dict(type="str", required=True), **_ATTRS)),
            secret=dict(type="bool", default=False),
            record=dict(type="path"),
            adopt=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    secret = module.params["secret"]
    if secret:
        # Mask the contents wherever they could appear in the output (invocation included).
        for item in module.params["files"]:
            if item.get("content"):
                module.no_log_values.add(item["content"])
        if not module.no_log:
            module.fail_json(msg="site_files: secret=true needs no_log: true on the task, or the secret contents "
                                 "are logged on the host and shown on failure")
    try:
        result = sf.converge(module.params["directories"], module.params["files"], secret=secret,
                             check_mode=module.check_mode, want_diff=module._diff, record=module.params["record"],
                             adopt=module.params["adopt"])
    except sf.SiteFilesError as exc:
        module.fail_json(msg="site_files: %s" % exc.msg, changed=bool(exc.changed_paths),
                         changed_paths=exc.changed_paths, created_paths=exc.created_paths)
    for warning in result.pop("warnings", []):
        module.warn(warning)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
