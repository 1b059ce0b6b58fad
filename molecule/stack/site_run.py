"""Run a playbook of the collection against this scenario's inventory, from verify.

Usage: site_run.py PLAYBOOK [EXTRA_VARS_FILE]
Prints one JSON object: the PLAY RECAP counters of the test host (ok, changed,
failed, ...) and the return code. The full output goes to
$MOLECULE_EPHEMERAL_DIRECTORY/site_run-<n>.log for debugging.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

RECAP = re.compile(r"^(?P<host>\S+)\s+:\s+(?P<counts>(?:\w+=\d+\s*)+)$")


def main():
    playbook = sys.argv[1]
    cmd = ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], playbook]
    if len(sys.argv) > 2:
        cmd += ["-e", "@" + sys.argv[2]]
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_STDOUT_CALLBACK="default")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    logdir = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
    n = len(list(logdir.glob("site_run-*.log")))
    log = logdir / f"site_run-{n}.log"
    log.write_text(proc.stdout + proc.stderr)
    counts = {}
    for line in proc.stdout.splitlines():
        m = RECAP.match(line.strip())
        if m and m.group("host") != "localhost":
            counts = {k: int(v) for k, v in (kv.split("=") for kv in m.group("counts").split())}
    print(json.dumps({"rc": proc.returncode, "log": str(log), **counts,
                      "tail": (proc.stdout + proc.stderr).splitlines()[-40:] if proc.returncode else []}))


if __name__ == "__main__":
    main()
