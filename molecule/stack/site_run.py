"""Run a playbook of the collection against this scenario's inventory, from verify.

Usage: site_run.py PLAYBOOK [EXTRA_VARS_FILE [ARG...]]
PLAYBOOK tools/site.sh runs the README's main command (its own virtualenv, playbooks/site.yml)
with this inventory. Runs through tests/helpers/playbook.py (the json callback) and prints one JSON object:
the test host's stats (ok, changed, failed, ...), the return code, the failed tasks, and
the path of the whole output, kept in $MOLECULE_EPHEMERAL_DIRECTORY/site_run-<n>.log.
"""

import json
import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))
from tests.helpers.playbook import run_playbook  # noqa: E402


def main():
    playbook = sys.argv[1]
    extra_vars = sys.argv[2] if len(sys.argv) > 2 else None
    logdir = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
    log = logdir / f"site_run-{len(list(logdir.glob('site_run-*.log')))}.log"
    launcher = ["bash", str(REPO_ROOT / "tools" / "site.sh")] if playbook == "tools/site.sh" else None
    run = run_playbook(playbook, os.environ["MOLECULE_INVENTORY_FILE"], *sys.argv[3:],
                       extra_vars_file=extra_vars, log=log, launcher=launcher)
    counts = {}
    for host in run.hosts():
        if host != "localhost":
            counts = run.stats(host)
    failures = run.failures()
    if not counts:  # no stats: never read as "nothing changed"
        run.rc = run.rc or 99
        failures = failures or ["ansible-playbook printed no json-callback stats for the test host"]
    counts["failed"] = counts.pop("failures", 0)
    print(json.dumps({"rc": run.rc, "log": str(log), **counts, "failures": failures,
                      "tail": (failures or run.output.splitlines()[-40:]) if run.rc else []}))


if __name__ == "__main__":
    main()
