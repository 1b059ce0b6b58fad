"""The site_lock role (action and module), through ansible-playbook on this machine (local
connection; the lock file in a temporary directory): one run holds the lock while a second
refuses naming it, or waits for it; a run killed with SIGKILL leaves a lock the next run of
this controller takes over; a holder on another controller is refused until
site_lock_break; check mode reports a holder and changes nothing; release removes only
this run's lock.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO_ROOT))
from tests.helpers.playbook import run_playbook  # noqa: E402

pytestmark = pytest.mark.playbook

PLAYBOOK = """\
- hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.import_role: {name: omero_docker.stack.site_lock}
    - ansible.builtin.pause: {seconds: "{{ hold | default(0) | int }}"}
      when: (hold | default(0) | int) > 0
    - ansible.builtin.import_role: {name: omero_docker.stack.site_lock, tasks_from: release.yml}
      when: release | default(true) | bool
"""


@pytest.fixture
def setup(tmp_path):
    playbook = tmp_path / "hold.yml"
    playbook.write_text(PLAYBOOK)
    lock = tmp_path / "lock" / "site.lock"
    common = ["-c", "local", "-e", "site_lock_path=%s" % lock, "-e", "ansible_python_interpreter=%s" % sys.executable]
    return playbook, lock, common


def _run(setup, *args):
    playbook, dummy, common = setup
    return run_playbook(playbook, "localhost,", *common, *args)


def _start(setup, *args):
    """ansible-playbook in the background (the holder), once it holds the lock."""
    playbook, lock, common = setup
    proc = subprocess.Popen(["ansible-playbook", "-i", "localhost,", str(playbook), *common, *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not lock.exists():
        assert proc.poll() is None and time.monotonic() < deadline, "the holder did not take the lock"
        time.sleep(0.2)
    return proc


def _holder(lock):
    return json.loads(lock.read_text())


def test_a_second_run_refuses_naming_the_holder_then_one_that_waits_gets_it(setup):
    dummy, lock, dummy2 = setup
    first = _start(setup, "-e", "hold=12")
    holder = _holder(lock)
    assert holder["pid"] == first.pid and holder["controller"]
    refused = _run(setup)
    assert refused.rc != 0
    message = " ".join(refused.failures())
    assert "the site is locked by ansible-playbook pid %d on controller %s" % (first.pid, holder["controller"]) \
        in message
    assert "site_lock_wait" in message and "site_lock_break=true" in message
    started = time.monotonic()
    waited = _run(setup, "-e", "site_lock_wait=60")
    assert waited.rc == 0, waited.failures()
    assert time.monotonic() - started > 2, "it did not wait for the holder"
    assert first.wait(30) == 0
    assert not lock.exists(), "the runs released their lock"


def test_a_killed_run_leaves_a_lock_the_next_run_takes_over(setup):
    dummy, lock, dummy2 = setup
    killed = _start(setup, "-e", "hold=120")
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait(10)
    assert _holder(lock)["pid"] == killed.pid
    nxt = _run(setup, "-e", "release=false")
    assert nxt.rc == 0, nxt.failures()
    assert _holder(lock)["pid"] != killed.pid
    took = [m for m in _messages(nxt) if m.startswith("took the lock over")]
    assert took and "'pid': %d" % killed.pid in took[0]


def test_a_holder_on_another_controller_is_refused_until_break(setup):
    dummy, lock, dummy2 = setup
    lock.parent.mkdir(parents=True)
    foreign = {"controller": "another-controller", "pid": 1, "started": 1.0, "playbook": "site", "since": 0}
    lock.write_text(json.dumps(foreign))
    refused = _run(setup)
    assert refused.rc != 0 and "on controller another-controller" in " ".join(refused.failures())
    assert _holder(lock) == foreign
    # check mode reports the holder, fails nothing, changes nothing
    checked = _run(setup, "--check", "-e", "release=false")
    assert checked.rc == 0 and checked.stats("localhost")["changed"] == 0
    assert _holder(lock) == foreign
    broken = _run(setup, "-e", "site_lock_break=true")
    assert broken.rc == 0, broken.failures()
    assert not lock.exists(), "the run that broke the lock released it at its end"


def test_release_removes_only_the_lock_of_this_run(setup):
    dummy, lock, dummy2 = setup
    lock.parent.mkdir(parents=True)
    foreign = {"controller": "another-controller", "pid": 1, "started": 1.0, "playbook": "site", "since": 0}
    lock.write_text(json.dumps(foreign))
    playbook = setup[0].parent / "release.yml"
    playbook.write_text("- hosts: localhost\n  gather_facts: false\n  tasks:\n"
                        "    - ansible.builtin.import_role: {name: omero_docker.stack.site_lock, "
                        "tasks_from: release.yml}\n")
    released = run_playbook(playbook, "localhost,", *setup[2])
    assert released.rc == 0 and _holder(lock) == foreign


def _messages(run):
    out = []
    for play in run.data.get("plays", []):
        for task in play.get("tasks", []):
            for res in task.get("hosts", {}).values():
                if isinstance(res.get("msg"), str):
                    out.append(res["msg"])
    return out
