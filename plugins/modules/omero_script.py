#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: omero_docker.stack developers
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Ansible module omero_script: a set of scripts registered on an OMERO.server.

Why a custom module: scripts live in OMERO's script repository and database, reached
through the IScript service. Copying files into the repository directory does not
register them, and `omero script upload` neither tells a changed script from an
unchanged one nor removes what is no longer wanted. This module compares content
hashes with what the server holds and uploads, replaces or deletes only what differs.
Official scripts come from the files of the pinned omero-scripts distribution (read
through its installed metadata), never from a git branch.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: omero_script
short_description: Register OMERO scripts from the pinned omero-scripts distribution, files or URLs
version_added: 0.1.0
description:
  - Makes a set of scripts registered on an OMERO.server as official scripts.
  - Uploads what is missing, replaces what changed (the SHA-1 of the content is compared
    with the hash the server holds), leaves the rest alone and, with O(prune=true),
    removes scripts in O(managed_folders) that are no longer listed.
  - Sources are the official scripts shipped by the C(omero-scripts) distribution
    installed for the Python that runs the module (O(official)), files on the managed
    node (O(scripts[].src)), inline text (O(scripts[].content)) and URLs pinned by
    checksum (O(scripts[].url)).
author:
  - omero_docker.stack developers (!UNKNOWN)
extends_documentation_fragment:
  - omero_docker.stack.omero_connection
options:
  official:
    description:
      - Official scripts to register, as server paths or shell-style patterns matched
        against the scripts the C(omero-scripts) distribution ships, for example
        V(/omero/figure_scripts/*) or V(*) for all. The server path of a script is its
        path in the distribution (C(/omero/<category>/<Name>.py)).
      - Each pattern must match at least one script.
    type: list
    elements: str
    default: []
  official_version:
    description:
      - The version of C(omero-scripts) that must be installed; the module fails when
        another version is found. Not checked when not set.
    type: str
  official_search_path:
    description:
      - Directories searched for the C(omero-scripts) distribution before the module's
        C(sys.path), for example a C(pip install --target) directory.
    type: list
    elements: path
    default: []
  scripts:
    description:
      - Site and third-party scripts. Exactly one of O(scripts[].src),
        O(scripts[].content) and O(scripts[].url) per entry.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description:
          - Path of the script on the server, for example V(/site/analysis/Measure.py).
          - It must end with C(.py); OMERO registers (and lists) only such files, so any other
            name would be uploaded again on every run; it is refused.
        type: str
        required: true
      src:
        description: File on the managed node (where the module runs) holding the script.
        type: path
      content:
        description: The script's text.
        type: str
      url:
        description: URL to download the script from; needs O(scripts[].checksum).
        type: str
      checksum:
        description:
          - Checksum of the downloaded script, V(sha256:<hex>) (also sha512, sha1).
            A mismatch fails the module before anything changes.
        type: str
  prune:
    description:
      - Remove scripts in O(managed_folders) that are not listed.
    type: bool
    default: false
  managed_folders:
    description:
      - Folders (server paths such as V(/site) or V(/omero)) whose unlisted scripts
        O(prune=true) removes. Scripts elsewhere are never removed.
    type: list
    elements: str
    default: []
  validate_certs:
    description: Verify TLS certificates when downloading O(scripts[].url).
    type: bool
    default: true
attributes:
  check_mode:
    description: Reports what would be created or changed without changing the server.
    support: full
  diff_mode:
    description: Lists the scripts that are replaced or removed (before) and added or replaced (after), with SHA-1.
    support: full
"""

EXAMPLES = r"""
- name: All official scripts of the pinned omero-scripts, one site script, one third-party script
  omero_docker.stack.omero_script:
    password: "{{ omero_root_password }}"
    official: ["*"]
    official_version: "5.10.0"
    scripts:
      - path: /site/Measure_Nuclei.py
        src: /tmp/omero-site-scripts/Measure_Nuclei.py
      - path: /thirdparty/Batch_Rename.py
        url: https://example.org/scripts/Batch_Rename.py
        checksum: sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
    prune: true
    managed_folders: [/site, /thirdparty]

- name: Only the figure scripts, from a pip --target directory
  omero_docker.stack.omero_script:
    password: "{{ omero_root_password }}"
    official: [/omero/figure_scripts/*]
    official_search_path: [/tmp/omero-scripts-5.10.0]
"""

RETURN = r"""
added:
  description: Server paths of scripts uploaded (or that would be in check mode).
  returned: always
  type: list
  elements: str
  sample: [/site/Measure_Nuclei.py]
replaced:
  description: Server paths of scripts whose content was replaced.
  returned: always
  type: list
  elements: str
  sample: [/omero/figure_scripts/Split_View_Figure.py]
removed:
  description: Server paths of scripts deleted by O(prune).
  returned: always
  type: list
  elements: str
  sample: []
unchanged:
  description: Server paths of listed scripts already registered with the same content.
  returned: always
  type: list
  elements: str
  sample: [/omero/util_scripts/Combine_Images.py]
official_version:
  description: Version of the omero-scripts distribution the official scripts were read from.
  returned: when O(official) is not empty
  type: str
  sample: 5.10.0
error_kind:
  description: Kind of an expected failure (unreachable, not_ready, bad_credentials, timeout, missing_library, error).
  returned: failure
  type: str
  sample: unreachable
"""

# Ansible modules import after their documentation strings.
# ruff: noqa: E402
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import open_url
from ansible_collections.omero_docker.stack.plugins.module_utils import omero_client
from ansible_collections.omero_docker.stack.plugins.module_utils.omero_module import run_logged_in
from ansible_collections.omero_docker.stack.plugins.module_utils.omero_plan import (
    PlanError,
    content_sha1,
    normalize_script_path,
    official_scripts,
    plan_scripts,
    require_script_file,
    select_official,
    server_script_path,
    verify_checksum,
)


def load_desired(module):
    """{server path: text} for every listed script; raises PlanError on a bad source."""
    params = module.params
    desired, version = {}, None
    if params["official"]:
        version, available = official_scripts(params["official_search_path"], params["official_version"])
        desired.update(select_official(available, params["official"]))
    for entry in params["scripts"]:
        path = require_script_file(normalize_script_path(entry["path"]))
        if path in desired:
            raise PlanError("script %s is listed twice" % path)
        if entry.get("content") is not None:
            desired[path] = entry["content"]
            continue
        if entry.get("src"):
            try:
                with open(entry["src"], "rb") as handle:
                    data = handle.read()
            except (IOError, OSError) as err:
                raise PlanError("cannot read %s for script %s: %s" % (entry["src"], path, err)) from err
        else:
            try:
                data = open_url(entry["url"], validate_certs=params["validate_certs"], timeout=60).read()
            except Exception as err:
                raise PlanError("cannot download %s for script %s: %s" % (entry["url"], path, err)) from err
            verify_checksum(data, entry["checksum"])
        try:
            desired[path] = data.decode("utf-8")
        except UnicodeDecodeError as err:
            raise PlanError("script %s is not UTF-8 text" % path) from err
    return version, desired


def read_server(scripts_service, wanted_paths):
    """{path: {"id", "file", "sha1" or "content"}} for every script the server holds."""
    held = {}
    for ofile in scripts_service.getScripts():
        path = server_script_path(omero_client.unwrap(ofile.getPath()), omero_client.unwrap(ofile.getName()))
        entry = {"id": omero_client.unwrap(ofile.getId()), "file": ofile, "sha1": None}
        hasher = ofile.getHasher() if ofile.isLoaded() else None
        algorithm = omero_client.unwrap(hasher.getValue()) if hasher is not None and hasher.isLoaded() else None
        digest = omero_client.unwrap(ofile.getHash())
        if algorithm == "SHA1-160" and digest:
            entry["sha1"] = digest
        elif path in wanted_paths:
            # Another hash algorithm (or none known): compare the text itself.
            entry["content"] = scripts_service.getScriptText(entry["id"])
        held[path] = entry
    return held


def _listing(paths, server, desired, side):
    lines = []
    for path in sorted(paths):
        if side == "before":
            digest = server[path]["sha1"] or content_sha1(server[path].get("content") or "")
        else:
            digest = content_sha1(desired[path])
        lines.append("%s sha1:%s\n" % (path, digest))
    return "".join(lines)


def run(module, session, version, desired):
    params = module.params
    service = session.scripts
    server = read_server(service, set(desired))
    plan = plan_scripts(server, desired, prune=params["prune"], managed_folders=params["managed_folders"])
    if not module.check_mode:
        for path in plan["add"]:
            service.uploadOfficialScript(path, desired[path])
        for path in plan["replace"]:
            service.editScript(server[path]["file"], desired[path])
        for path in plan["remove"]:
            service.deleteScript(server[path]["id"])
    result = dict(
        changed=bool(plan["add"] or plan["replace"] or plan["remove"]),
        added=plan["add"],
        replaced=plan["replace"],
        removed=plan["remove"],
        unchanged=plan["keep"],
    )
    if version is not None:
        result["official_version"] = version
    if module._diff:
        touched_before = plan["replace"] + plan["remove"]
        touched_after = plan["add"] + plan["replace"]
        result["diff"] = {
            "before_header": "scripts on the server",
            "after_header": "scripts after this run",
            "before": _listing(touched_before, server, desired, "before"),
            "after": _listing(touched_after, server, desired, "after"),
        }
    return result


def main():
    argument_spec = omero_client.omero_argument_spec()
    argument_spec.update(
        official=dict(type="list", elements="str", default=[]),
        official_version=dict(type="str"),
        official_search_path=dict(type="list", elements="path", default=[]),
        scripts=dict(
            type="list",
            elements="dict",
            default=[],
            options=dict(
                path=dict(type="str", required=True),
                src=dict(type="path"),
                content=dict(type="str"),
                url=dict(type="str"),
                checksum=dict(type="str"),
            ),
            mutually_exclusive=[("src", "content", "url")],
            required_one_of=[("src", "content", "url")],
            required_by={"url": "checksum"},
        ),
        prune=dict(type="bool", default=False),
        managed_folders=dict(type="list", elements="str", default=[]),
        validate_certs=dict(type="bool", default=True),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if module.params["prune"] and not module.params["managed_folders"]:
        module.fail_json(msg="prune=true needs managed_folders: the folders whose unlisted scripts are removed")
    # Read and check every source before logging in: a bad file, URL or checksum fails first.
    try:
        version, desired = load_desired(module)
    except PlanError as err:
        module.fail_json(msg=str(err))
    run_logged_in(module, "script change", run, version, desired)


if __name__ == "__main__":
    main()
