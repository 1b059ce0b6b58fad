"""Run ansible-playbook the one way the tests do: the json stdout callback, parsed.

Every test that runs a playbook (the stack scenario's nested runs, the site playbook
tests) goes through run_playbook(), so they read outcomes the same way: the stats of
each host, the failed tasks with their messages, the return code, and the raw output
(kept whole so a test can search it, e.g. for a secret value that must not be there).
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class PlaybookRun:
    rc: int
    output: str
    data: dict = field(default_factory=dict)

    def stats(self, host: str) -> dict:
        return dict(self.data.get("stats", {}).get(host, {}))

    def hosts(self) -> list:
        return sorted(self.data.get("stats", {}))

    def changed_tasks(self) -> list:
        """'task (host)' of every changed result (names only: results may hold secrets)."""
        out = []
        for play in self.data.get("plays", []):
            for task in play.get("tasks", []):
                for host, res in task.get("hosts", {}).items():
                    if res.get("changed"):
                        out.append("%s (%s)" % (task["task"]["name"], host))
        return out

    def failures(self) -> list:
        """'task (host): message' of every failed, not ignored, result."""
        out = []
        for play in self.data.get("plays", []):
            for task in play.get("tasks", []):
                for host, res in task.get("hosts", {}).items():
                    if res.get("failed") and not res.get("ignore_errors"):
                        out.append("%s (%s): %s" % (task["task"]["name"], host, res.get("msg", "")))
        return out


def run_playbook(playbook, inventory, *args, extra_vars_file=None, env=None, cwd=None, log=None,
                 timeout=None, launcher=None) -> PlaybookRun:
    """ansible-playbook -i INVENTORY PLAYBOOK [-e @EXTRA_VARS_FILE] ARGS..., json callback.

    log: a path to keep the whole output in (for debugging a failed test).
    launcher: a command that runs its own playbook with ansible-playbook's arguments
    (["bash", "tools/site.sh"]), run in place of ansible-playbook PLAYBOOK."""
    cmd = list(launcher or ["ansible-playbook"]) + ["-i", str(inventory)] + ([] if launcher else [str(playbook)])
    if extra_vars_file:
        cmd += ["-e", "@" + str(extra_vars_file)]
    cmd += [str(a) for a in args]
    run_env = dict(os.environ)
    run_env.update(env or {})
    # Other enabled callbacks (Molecule's profile_tasks and timer) may print around the
    # json document: _json_document() finds it.
    run_env.update({"ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json", "ANSIBLE_NOCOLOR": "1",
                    "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_RETRY_FILES_ENABLED": "false"})
    proc = subprocess.run(cmd, capture_output=True, text=True, env=run_env, cwd=cwd, check=False,
                          timeout=timeout)
    output = proc.stdout + proc.stderr
    if log:
        Path(log).write_text(output)
    return PlaybookRun(rc=proc.returncode, output=output, data=_json_document(proc.stdout))


def _json_document(stdout: str) -> dict:
    """The json callback's document: from the first line that is "{" to the last "}"."""
    lines = stdout.splitlines()
    try:
        start = lines.index("{")
        end = len(lines) - 1 - lines[::-1].index("}")
        return json.loads("\n".join(lines[start:end + 1]))
    except ValueError:
        return {}


def debug_messages(run: PlaybookRun, prefix: str = "") -> list:
    """The `msg` of every debug result (in order), those starting with prefix only."""
    out = []
    for play in run.data.get("plays", []):
        for task in play.get("tasks", []):
            for res in task.get("hosts", {}).values():
                msg = res.get("msg")
                if res.get("action") in ("debug", "ansible.builtin.debug") and isinstance(msg, str) \
                        and msg.startswith(prefix):
                    out.append(msg[len(prefix):])
    return out


def main(argv=None) -> int:
    """Command line for shell tests: playbook.py [--log FILE] [--result PREFIX] PLAYBOOK INVENTORY [ARG...].

    Runs the playbook like run_playbook(); prints the text after PREFIX of the last debug
    message starting with it (or the failures); exits with ansible-playbook's code."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--log")
    parser.add_argument("--result", default="")
    parser.add_argument("playbook")
    parser.add_argument("inventory")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    opts = parser.parse_args(argv)
    run = run_playbook(opts.playbook, opts.inventory, *opts.args, log=opts.log)
    if run.rc == 0 and opts.result:
        found = debug_messages(run, opts.result)
        print(found[-1] if found else "")
    elif run.rc:
        print("\n".join(run.failures()) or run.output[-3000:])
    return run.rc


if __name__ == "__main__":
    raise SystemExit(main())
