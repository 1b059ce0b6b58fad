"""No task of the deploy, images and takeover roles, nor of playbooks/start.yml and stop.yml,
prints a result that can carry a container's environment or a secret (issue 11, defect 11;
the takeover inspects the reference's containers, whose environment holds its secrets).

Static: every task calling a module whose result holds a container's inspect or
environment (docker_container, docker_container_info), a command's output inside a
container (docker_container_exec), compose's view of the containers
(docker_compose_v2), the stack's service definitions (docker_stack), or secret values
(site_model with return_secret_values, the OMERO.web plugin check run with the site's
env file) must be ``no_log: true``; where
that hides a failure, a task after it shows a summary (checked in
test_deploy_passwords.py for the password tasks).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
FILES = sorted(
    [p for role in ("deploy", "images", "takeover") for p in (REPO_ROOT / "roles" / role / "tasks").glob("*.yml")]
    + [REPO_ROOT / "playbooks" / "start.yml", REPO_ROOT / "playbooks" / "stop.yml"]
)
SENSITIVE = {
    "community.docker.docker_container",
    "community.docker.docker_container_info",
    "community.docker.docker_container_exec",
    "community.docker.docker_compose_v2",
    "community.docker.docker_stack",
    "community.docker.docker_host_info",
    "omero_docker.stack.omero_web_plugins",
}


def _tasks(items):
    for item in items or []:
        if not isinstance(item, dict):
            continue
        if "tasks" in item:  # a play
            yield from _tasks(item["tasks"])
            continue
        yield item
        for key in ("block", "rescue", "always"):
            yield from _tasks(item.get(key))


def _module(task):
    for key in task:
        if "." in key and key.count(".") >= 2:
            return key
    return None


def _sensitive(task):
    module = _module(task)
    if module in SENSITIVE:
        return True
    args = task.get(module) if module else None
    return module == "omero_docker.stack.site_model" and isinstance(args, dict) and args.get("return_secret_values")


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(REPO_ROOT)) for p in FILES])
def test_tasks_that_can_carry_secrets_are_no_log(path):
    offenders = [task.get("name", _module(task)) for task in _tasks(yaml.safe_load(path.read_text()))
                 if _sensitive(task) and task.get("no_log") is not True]
    assert offenders == [], "%s: not no_log: %s" % (path.relative_to(REPO_ROOT), offenders)


def test_the_check_finds_the_sensitive_tasks():
    found = [_module(t) for p in FILES for t in _tasks(yaml.safe_load(p.read_text())) if _sensitive(t)]
    assert {"community.docker.docker_compose_v2", "community.docker.docker_container",
            "community.docker.docker_container_exec", "community.docker.docker_container_info",
            "omero_docker.stack.omero_web_plugins"} <= set(found)
