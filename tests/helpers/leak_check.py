"""Look for secret values where they must not be; print where they are (names, never values).

Reads one JSON object on stdin:
  secrets:   {name: value}                  the values to look for
  paths:     [dir, ...]   every file below, readable by others (mode o+r), is searched
  logs:      [file, ...]  searched whole (e.g. the output of a -v --diff run)
  project:   compose project: every container of it is searched (docker inspect: Env, Cmd,
             Labels, Mounts, ...): the site's containers read their secrets from files only
  stack:     Swarm stack: every container of it on this node is searched, and on a manager
             (services: true) every service of it (docker service inspect)
Prints {"files": N, "containers": N, "services": N, "logs": N, "leaks": ["<secret> in <where>", ...]}.
Used by the stack scenario's secret_rotation story and the multinode scenario's verify.
"""

import json
import os
import subprocess
import sys


def _search(text, secrets, where):
    return ["%s in %s" % (name, where) for name, value in sorted(secrets.items()) if value and value in text]


def main():
    spec = json.load(sys.stdin)
    secrets = {k: str(v) for k, v in spec.get("secrets", {}).items() if v not in (None, "")}
    leaks, counts = [], {"files": 0, "containers": 0, "services": 0, "logs": 0}
    for root in spec.get("paths", []):
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                path = os.path.join(dirpath, name)
                try:
                    st = os.lstat(path)
                    if not (st.st_mode & 0o004) or not os.path.isfile(path):
                        continue
                    with open(path, "rb") as fh:
                        text = fh.read(4 * 1024 * 1024).decode("utf-8", "replace")
                except OSError:
                    continue
                counts["files"] += 1
                leaks += _search(text, secrets, path)
    for path in spec.get("logs", []):
        with open(path, encoding="utf-8", errors="replace") as fh:
            leaks += _search(fh.read(), secrets, path)
        counts["logs"] += 1
    label = None
    if spec.get("project"):
        label = "com.docker.compose.project=%s" % spec["project"]
    elif spec.get("stack"):
        label = "com.docker.stack.namespace=%s" % spec["stack"]
    if label:
        for info in _inspect(["docker", "ps", "-aq", "--filter", "label=" + label], "inspect"):
            counts["containers"] += 1
            leaks += _search(json.dumps(info), secrets, "docker inspect of %s" % info["Name"].lstrip("/"))
    if spec.get("stack") and spec.get("services"):
        for info in _inspect(["docker", "service", "ls", "-q", "--filter", "label=" + label], "service", "inspect"):
            counts["services"] += 1
            leaks += _search(json.dumps(info), secrets, "docker service inspect of %s" % info["Spec"]["Name"])
    print(json.dumps(dict(counts, leaks=leaks)))


def _inspect(list_command, *inspect):
    """``docker <inspect...>`` of every id ``list_command`` prints, as parsed JSON objects."""
    ids = subprocess.run(list_command, capture_output=True, text=True, check=True).stdout.split()
    if not ids:
        return []
    return json.loads(subprocess.run(["docker", *inspect, *ids], capture_output=True, text=True, check=True).stdout)


if __name__ == "__main__":
    main()
