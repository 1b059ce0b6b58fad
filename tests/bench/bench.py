"""Benchmark of the deploy path on this machine (run on demand, not part of `make test`).

Usage: tests/bench/run.sh   (or: VENV/bin/python tests/bench/bench.py with the test venv)

Drives the Molecule scenario `stack` (a Debian 13 test host with its own engine and
the offline test images): create + prepare (engine installed, images loaded), then
  - fresh converge of playbooks/site.yml (seconds),
  - no-op re-run (seconds, changed count, containers recreated),
  - a change of one OMERO.web property (containers recreated; null when OMERO.web is
    disabled in the scenario),
  - a change of one PostgreSQL setting (containers recreated),
  - the no-op re-run with 100,000 small files in the OMERO binary repository divided by
    the same without them,
then (unless BENCH_MULTINODE=0) the scenario `multinode` (three test hosts, a Swarm):
  - its no-op re-run (seconds, changed count summed over the hosts) as a ratio to the
    single-host no-op above,
and prints one JSON object (BENCH_LOG_DIR keeps each Molecule call's output there).
Targets: no-op <= 60 s and <= 25 % of the fresh converge,
0 containers recreated by the no-op, exactly 1 by the web property, ratio <= 1.1,
the three-node no-op at most 1.5 times the single-host one.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
SCENARIO = os.environ.get("BENCH_SCENARIO", "stack")
HOST = f"omero-stack-{SCENARIO}"
MULTINODE = os.environ.get("BENCH_MULTINODE", "1") != "0"
MULTINODE_HOSTS = re.compile(r"^omero-stack-multinode-[0-9]+$")
RECAP = re.compile(r"^(?P<host>\S+)\s+:\s+ok=\d+\s+changed=(?P<changed>\d+)")


def molecule(*args, extra_vars=None, scenario=SCENARIO):
    """Runs one Molecule command; returns (seconds, changed summed over the scenario's hosts)."""
    cmd = ["molecule", *args, "-s", scenario]
    if extra_vars is not None:
        fd, path = tempfile.mkstemp(suffix=".json")
        with os.fdopen(fd, "w") as fh:
            json.dump(extra_vars, fh)
        cmd += ["--", "-e", "@" + path]
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
    seconds = round(time.monotonic() - start, 1)
    if os.environ.get("BENCH_LOG_DIR"):  # each call's output, e.g. for its task profile
        logs = Path(os.environ["BENCH_LOG_DIR"])
        logs.mkdir(parents=True, exist_ok=True)
        (logs / f"{len(list(logs.iterdir())):02d}-{scenario}-{'-'.join(args)}.log").write_text(
            proc.stdout + proc.stderr)
    if proc.returncode:
        sys.stderr.write(proc.stdout[-5000:] + proc.stderr[-3000:])
        raise SystemExit(f"molecule {' '.join(args)} failed")
    changed = [int(m.group("changed")) for line in proc.stdout.splitlines()
               if (m := RECAP.match(line.strip())) and _bench_host(scenario, m.group("host"))]
    return seconds, sum(changed)


def _bench_host(scenario, name):
    if scenario == "multinode":
        return bool(MULTINODE_HOSTS.match(name))
    return name == HOST


def multinode(single_host_noop):
    """The no-op re-run of the three-node Swarm site, as a ratio to the single-host one."""
    molecule("destroy", scenario="multinode")
    try:
        molecule("create", scenario="multinode")
        molecule("prepare", scenario="multinode")
        molecule("converge", scenario="multinode")
        seconds, changed = molecule("converge", scenario="multinode")
    finally:
        molecule("destroy", scenario="multinode")
    return {"multinode_noop_s": seconds, "multinode_noop_changed": changed,
            "multinode_noop_ratio": round(seconds / single_host_noop, 3)}


def host(*cmd):
    return subprocess.run(["docker", "exec", HOST, *cmd], capture_output=True, text=True,
                          check=True).stdout


def containers():
    """{container id: name} of every container on the test host's engine."""
    lines = host("docker", "ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Names}}").split("\n")
    return dict(line.split(" ", 1) for line in lines if line.strip())


def container_ids():
    return set(containers())


def recreated_by(extra_vars, names=None):
    before = container_ids()
    molecule("converge", extra_vars=extra_vars)
    after = containers()
    new = sorted(name for cid, name in after.items() if cid not in before)
    if names is not None:
        names.extend(new)
    return len(new)


def main():
    group_vars = yaml.safe_load((REPO / "molecule" / SCENARIO / "molecule.yml").read_text())[
        "provisioner"]["inventory"]["group_vars"]["omero"]
    services = group_vars["omero_services"]
    result = {"machine_cores": os.cpu_count()}
    molecule("destroy")
    try:
        molecule("create")
        molecule("prepare")
        result["fresh_converge_s"] = molecule("converge")[0]
        before = container_ids()
        result["noop_s"], result["noop_changed"] = molecule("converge")
        result["noop_recreated"] = len(container_ids() - before)
        web_enabled = services.get("omeroweb", {}).get("enabled", True)
        result["web_property_recreated_names"] = []
        result["web_property_recreated"] = recreated_by(
            {"omero_web_config": {"omero.web.page_size": 77}},
            result["web_property_recreated_names"]) if web_enabled else None
        if web_enabled:
            molecule("converge")  # back to the inventory's settings before the next change
        db = dict(services.get("database", {}))
        db["env"] = dict(db.get("env", {}), POSTGRES_INITDB_ARGS="--data-checksums")
        result["postgres_setting_recreated_names"] = []
        result["postgres_setting_recreated"] = recreated_by({"omero_services": {**services, "database": db}},
                                                            result["postgres_setting_recreated_names"])
        molecule("converge")  # back to the inventory's settings
        noop_empty = molecule("converge")[0]
        base = group_vars.get("omero_site_base_dir", "/srv/omero")
        # The OMERO binary repository when OMERO.server runs; in the offline scenario
        # (no OMERO.server) another directory the layout role manages: Redis's data.
        if services.get("omeroserver", {}).get("enabled", True):
            files_dir = f"{base}/data/omero/ManagedRepository/bench"
        else:
            files_dir = f"{base}/data/redis/bench"
        result["files_dir"] = files_dir
        host("python3", "-c", (
            "import os\n"
            f"d = '{files_dir}'\n"
            "os.makedirs(d, exist_ok=True)\n"
            "for i in range(100000):\n"
            "    open(os.path.join(d, 'f%06d' % i), 'w').write('x')\n"))
        noop_full = molecule("converge")[0]
        result["noop_100k_files_s"] = noop_full
        result["noop_no_files_s"] = noop_empty
        result["file_count_ratio"] = round(noop_full / noop_empty, 3)
        result["targets_met"] = {
            "noop_le_60s": result["noop_s"] <= 60,
            "noop_le_25pct_fresh": result["noop_s"] <= 0.25 * result["fresh_converge_s"],
            "noop_recreated_0": result["noop_recreated"] == 0,
            "web_property_recreated_1": (result["web_property_recreated"] == 1
                                         if result["web_property_recreated"] is not None else None),
            "file_count_ratio_le_1_1": result["file_count_ratio"] <= 1.1,
        }
    finally:
        molecule("destroy")
    if MULTINODE:
        result.update(multinode(result["noop_s"]))
        result["targets_met"]["multinode_noop_ratio_le_1_5"] = result["multinode_noop_ratio"] <= 1.5
        result["targets_met"]["multinode_noop_changed_0"] = result["multinode_noop_changed"] == 0
    print(json.dumps(result))


if __name__ == "__main__":
    main()
