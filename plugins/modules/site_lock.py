#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)

"""One run at a time per site on a host: a lock file that records its holder.

Why a custom module: Ansible has no lock across the tasks of a run (a lock that a task
takes with flock ends with the task), and a run must hold one from its first stage to its
last, and a run that was killed (SIGKILL of ansible-playbook) must not leave a lock that
stops the next one for ever. So the lock is a file that names its holder (the controller,
the ansible-playbook process and when it started): the action plugin of the same name
decides, on the controller, whether a recorded holder is gone (its process ended) and
asks this module to take the lock over from exactly that holder.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: site_lock
short_description: Hold or release the lock of an OMERO site on its host, one run at a time
description:
  - Creates a lock file that names its holder (controller, ansible-playbook process and its start time,
    playbook), or removes it. A second run of site.yml, backup.yml or upgrade.yml against the same site
    waits for the lock or refuses with a message naming the holder.
  - The action plugin of the same name runs on the controller; it passes the holder of this run and, when
    the recorded holder is a process of this controller that has ended (a run killed or failed before it
    released the lock), takes the lock over from it. Use the action, not this module alone.
  - Creation is atomic (O_EXCL); a take-over replaces the file only while it still names the expected holder.
version_added: 0.2.0
author:
  - omero_docker.stack developers (@omero-docker)
options:
  path:
    description: The lock file (its directory is created, mode 0755, when missing).
    type: path
    required: true
  state:
    description: C(present) holds the lock, C(absent) releases it (only when this run holds it).
    type: str
    choices: [present, absent]
    default: present
  holder:
    description: Who holds the lock (set by the action plugin).
    type: dict
    required: true
  take_over:
    description: Replace the lock when it names exactly this holder (set by the action plugin).
    type: dict
attributes:
  check_mode:
    description: Reports whether the lock is free, held by this run or by another holder; changes nothing.
    support: full
  diff_mode:
    description: No diff; the lock file is a record, not configuration.
    support: none
"""

EXAMPLES = r"""
- name: Hold the site's lock for this run (use the action through this name)
  omero_docker.stack.site_lock:
    path: /run/lock/omero-docker-stack/omero.lock
    holder: {controller: ctl, pid: 4242, started: 1700000000.5}
"""

RETURN = r"""
held_by:
  description: The holder the lock file names after the call (none when it is released or free in check mode).
  returned: always
  type: dict
acquired:
  description: Whether this call created or took over the lock.
  returned: always
  type: bool
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule

FIELDS = ("controller", "pid", "started", "playbook", "since")


def read_holder(path):
    """The holder the lock file names, or None when there is no file."""
    try:
        with open(path, "r") as handle:
            text = handle.read()
    except (IOError, OSError) as exc:
        if getattr(exc, "errno", None) == 2:
            return None
        raise
    try:
        holder = json.loads(text)
    except ValueError:
        return {"unreadable": text[:200]}
    return holder if isinstance(holder, dict) else {"unreadable": text[:200]}


def same(one, other):
    """Two holders are the same run: controller, process and its start time."""
    keys = ("controller", "pid", "started")
    return bool(one) and bool(other) and all(one.get(k) == other.get(k) for k in keys)


def create(path, holder):
    """Create the lock atomically; False when it exists."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except OSError as exc:
        if exc.errno == 17:
            return False
        raise
    with os.fdopen(fd, "w") as handle:
        json.dump(holder, handle, sort_keys=True)
    return True


def replace(path, expected, holder):
    """Replace the lock while it names ``expected``; False when it names someone else now."""
    if not same(read_holder(path) or {}, expected):
        return False
    tmp = "%s.%d" % (path, os.getpid())
    with open(tmp, "w") as handle:
        json.dump(holder, handle, sort_keys=True)
    os.chmod(tmp, 0o644)
    os.rename(tmp, path)
    return same(read_holder(path) or {}, holder)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            holder=dict(type="dict", required=True),
            take_over=dict(type="dict"),
        ),
        supports_check_mode=True,
    )
    path, holder = module.params["path"], module.params["holder"]
    current = read_holder(path)
    if module.params["state"] == "absent":
        if current is None or not same(current, holder):
            module.exit_json(changed=False, acquired=False, held_by=current)
        if not module.check_mode:
            os.remove(path)
        module.exit_json(changed=True, acquired=False, held_by=None)
    if same(current or {}, holder):
        module.exit_json(changed=False, acquired=False, held_by=current)
    if module.check_mode:
        module.exit_json(changed=current is None, acquired=False, held_by=current)
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    take_over = module.params["take_over"]
    if take_over is not None and current is not None:
        if replace(path, take_over, holder):
            module.exit_json(changed=True, acquired=True, held_by=holder, took_over=current)
        module.exit_json(changed=False, acquired=False, held_by=read_holder(path))
    if create(path, holder):
        module.exit_json(changed=True, acquired=True, held_by=holder)
    module.exit_json(changed=False, acquired=False, held_by=read_holder(path))


if __name__ == "__main__":
    main()
