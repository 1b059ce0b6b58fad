# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)
"""Action plugin: hold or release a site's lock on its host (see the site_lock module docs).

Runs on the controller so that it can tell whether the run that holds the lock still
exists: the holder is this controller's ansible-playbook process (the parent of this
worker), identified by its pid and start time. A holder of this controller whose process
has ended (a run killed or failed before it released the lock) is taken over; a holder
that runs, or one of another controller, is waited for (``wait`` seconds) and then
refused with a message naming it and the way out (``break``: take it over anyway).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import socket
import time

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase


def process_start(pid):
    """The start time of a process of this machine (seconds since boot, from /proc), or None
    when it does not exist."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except (IOError, OSError, IndexError):
        return None
    return int(fields[19]) / float(os.sysconf("SC_CLK_TCK"))


def this_run(playbook):
    """The holder record of this run: the ansible-playbook process is this worker's parent."""
    pid = os.getppid()
    return {"controller": socket.gethostname(), "pid": pid, "started": process_start(pid),
            "playbook": playbook, "since": int(time.time())}


def gone(holder):
    """Whether ``holder`` is a run of this controller whose process has ended."""
    if not isinstance(holder, dict) or "unreadable" in holder:
        return False
    if holder.get("controller") != socket.gethostname() or not isinstance(holder.get("pid"), int):
        return False
    return process_start(holder["pid"]) != holder.get("started")


def describe(holder):
    if "unreadable" in holder:
        return "an unreadable lock file"
    return "ansible-playbook pid %s on controller %s (%s), since %s" % (
        holder.get("pid"), holder.get("controller"), holder.get("playbook") or "a playbook",
        time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(holder.get("since") or 0)))


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("path", "state", "wait", "break", "playbook"))

    def _lock(self, task_vars, args, holder, take_over=None):
        module_args = {"path": args["path"], "state": args["state"], "holder": holder}
        if take_over is not None:
            module_args["take_over"] = take_over
        result = self._execute_module(module_name="omero_docker.stack.site_lock", module_args=module_args,
                                      task_vars=task_vars)
        if result.get("failed"):
            raise AnsibleError("site_lock on the host failed: %s" % result.get("msg", result))
        return result

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        dummy, args = self.validate_argument_spec(argument_spec={
            "path": {"type": "path", "required": True},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "wait": {"type": "int", "default": 0},
            "break": {"type": "bool", "default": False},
            "playbook": {"type": "str", "default": ""},
        })
        holder = this_run(args["playbook"])
        answer = self._lock(task_vars, args, holder)
        if args["state"] == "absent" or answer.get("acquired") or self._play_context.check_mode:
            result.update(changed=answer.get("changed", False) and not self._play_context.check_mode,
                          held_by=answer.get("held_by"), acquired=answer.get("acquired", False))
            if self._play_context.check_mode and answer.get("held_by") and not answer.get("changed") \
                    and not gone(answer["held_by"]):
                result["msg"] = "the site is locked by %s" % describe(answer["held_by"])
            return result
        if answer.get("held_by") is not None and answer["held_by"].get("pid") == holder["pid"] \
                and answer["held_by"].get("controller") == holder["controller"]:
            result.update(changed=False, held_by=answer["held_by"], acquired=False)
            return result
        deadline = time.time() + max(args["wait"], 0)
        while True:
            current = answer.get("held_by")
            if current is None:
                answer = self._lock(task_vars, args, holder)
            elif args["break"] or gone(current):
                answer = self._lock(task_vars, args, holder, take_over=current)
                if answer.get("acquired"):
                    result["took_over"] = current
            if answer.get("acquired"):
                result.update(changed=True, acquired=True, held_by=holder)
                return result
            if time.time() >= deadline:
                current = answer.get("held_by") or {}
                result.update(failed=True, held_by=current, msg=(
                    "the site is locked by %s, at %s on the host. Wait for that run to end (or set "
                    "site_lock_wait to the seconds to wait); if it no longer runs on that controller, run again "
                    "with -e site_lock_break=true" % (describe(current), args["path"])))
                return result
            time.sleep(2)
            answer = self._lock(task_vars, args, holder)
