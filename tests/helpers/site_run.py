"""Run a playbook of the collection against a Molecule scenario's inventory, from verify
(molecule/stack/tasks/run_site.yml, which the multinode scenario uses too).

Usage: site_run.py PLAYBOOK [EXTRA_VARS_FILE [ARG...]]
PLAYBOOK tools/site.sh runs the README's main command (its own virtualenv, playbooks/site.yml)
with this inventory. Runs through tests/helpers/playbook.py (the json callback) and prints one
JSON object: the test hosts' stats summed (ok, changed, failed, ...), the changed tasks
(names), the return code, the failed tasks, and the path of the whole output, kept in
$MOLECULE_EPHEMERAL_DIRECTORY/site_run-<n>.log and copied to
$OMERO_STACK_CACHE/logs/molecule/<scenario>.site_run-<n>.log (Molecule prunes the first).

With SITE_RUN_NO_DOCKER_CLI=1 the run gets no docker CLI on the controller: a `docker`
first on PATH that refuses and records its call (a recorded call fails the run), and the
test host reached with community.docker.docker_api (the engine's API, no CLI) instead of
the CLI-based docker connection Molecule's inventory uses.
"""

import json
import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))
from tests.helpers.playbook import run_playbook  # noqa: E402


def _without_docker_cli(logdir):
    """(env, extra args, calls file): PATH with a refusing `docker` first, docker_api."""
    shim = logdir / "no-docker-cli"
    shim.mkdir(exist_ok=True)
    calls = shim / "calls.log"
    calls.unlink(missing_ok=True)
    script = shim / "docker"
    script.write_text("#!/bin/sh\n"
                      "echo \"docker $*\" >> %s\n"
                      "echo 'docker CLI called on the controller (SITE_RUN_NO_DOCKER_CLI)' >&2\n"
                      "exit 127\n" % calls)
    script.chmod(0o755)
    env = {"PATH": "%s:%s" % (shim, os.environ.get("PATH", ""))}
    return env, ["-e", "ansible_connection=community.docker.docker_api"], calls


def _keep(log):
    """Copy the run's output next to the scenario's log in the cache (Molecule prunes its
    ephemeral directory when a scenario ends; a failed CI run is read from these copies)."""
    cache, scenario = os.environ.get("OMERO_STACK_CACHE"), os.environ.get("MOLECULE_SCENARIO_NAME")
    if not cache or not scenario or not log.exists():
        return
    keep = Path(cache) / "logs" / "molecule"
    keep.mkdir(parents=True, exist_ok=True)
    if log.name == "site_run-0.log":  # the scenario's first run: the last test's copies go
        for old in keep.glob(f"{scenario}.site_run-*.log"):
            old.unlink()
    (keep / f"{scenario}.{log.name}").write_bytes(log.read_bytes())


def main():
    playbook = sys.argv[1]
    extra_vars = sys.argv[2] if len(sys.argv) > 2 else None
    logdir = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
    log = logdir / f"site_run-{len(list(logdir.glob('site_run-*.log')))}.log"
    launcher = ["bash", str(REPO_ROOT / "tools" / "site.sh")] if playbook == "tools/site.sh" else None
    env, extra, calls = {}, [], None
    if os.environ.get("SITE_RUN_NO_DOCKER_CLI") == "1":
        env, extra, calls = _without_docker_cli(logdir)
    run = run_playbook(playbook, os.environ["MOLECULE_INVENTORY_FILE"], *sys.argv[3:], *extra,
                       extra_vars_file=extra_vars, log=log, launcher=launcher, env=env)
    _keep(log)
    if calls is not None and calls.exists():
        run.rc = run.rc or 98
        print_calls = calls.read_text().splitlines()
    else:
        print_calls = []
    counts = {}
    for host in run.hosts():
        if host != "localhost":
            for key, value in run.stats(host).items():
                counts[key] = counts.get(key, 0) + value
    failures = run.failures() + ["the docker CLI was called on the controller: %s" % c for c in print_calls]
    if not counts:  # no stats: never read as "nothing changed"
        run.rc = run.rc or 99
        failures = failures or ["ansible-playbook printed no json-callback stats for the test host"]
    counts["failed"] = counts.pop("failures", 0)
    print(json.dumps({"rc": run.rc, "log": str(log), **counts, "failures": failures,
                      "changed_tasks": run.changed_tasks(),
                      "tail": (failures or run.output.splitlines()[-40:]) if run.rc else []}))


if __name__ == "__main__":
    main()
