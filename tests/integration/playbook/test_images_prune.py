"""The images role's pruning (tasks/prune.yml) against this machine's Docker engine, through
ansible-playbook: of a site's own images (labelled with the site and the service, as the
role builds them), the newest images_keep_tags of each service stay, the deployed one among
them, and an image a container uses stays too; other sites' images are not touched; a
second run removes nothing. Needs a Docker engine (skipped otherwise)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
import time
import uuid
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO_ROOT))
from tests.helpers.playbook import run_playbook  # noqa: E402

pytestmark = [pytest.mark.playbook, pytest.mark.docker]


def docker(*args, data=None):
    return subprocess.run(["docker", *args], input=data, capture_output=True, check=True)


@pytest.fixture
def site():
    if subprocess.run(["docker", "info"], capture_output=True, check=False).returncode:
        pytest.skip("no Docker engine answers")
    name = "prune-%s" % uuid.uuid4().hex[:8]
    made = []
    empty = io.BytesIO()
    tarfile.open(fileobj=empty, mode="w").close()

    def make(service, tag, site_name=name):
        ref = "omero-stack-prune-test/%s-%s:%s" % (name, service, tag)
        docker("import", "--change", "LABEL org.omero-docker.stack.site=%s" % site_name,
               "--change", "LABEL org.omero-docker.stack.service=%s" % service, "-", ref, data=empty.getvalue())
        made.append(ref)
        time.sleep(1.1)  # Created has one-second steps
        return ref

    yield name, make, made
    subprocess.run(["docker", "rm", "-f", "-v", "%s-user" % name], capture_output=True, check=False)
    subprocess.run(["docker", "rmi", "-f", *made], capture_output=True, check=False)


def present(refs):
    out = subprocess.run(["docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}"], capture_output=True,
                         text=True, check=True).stdout.split()
    return [r for r in refs if r in out]


def test_keeps_the_newest_per_service_and_the_images_in_use(site, tmp_path):
    name, make, made = site
    web = [make("omero-web", "h%d" % i) for i in range(1, 6)]
    other_site = make("omero-web", "foreign", site_name="another-" + name)
    # a stopped container of the oldest image keeps it
    docker("create", "--name", "%s-user" % name, web[0], "true")
    playbook = tmp_path / "prune.yml"
    playbook.write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
        "    - ansible.builtin.include_role: {name: omero_docker.stack.images, tasks_from: prune.yml}\n")
    model = {"site": {"name": name}, "images": {"omeroweb": {"reference": web[3]}}}
    extra = tmp_path / "vars.json"
    extra.write_text(json.dumps({"omero_site_model": model, "images_keep_tags": 2}))
    common = ["-c", "local", "-e", "ansible_python_interpreter=%s" % sys.executable]
    run = run_playbook(playbook, "localhost,", *common, extra_vars_file=extra)
    assert run.rc == 0, run.failures()
    # kept: the deployed h4 and the newest h5 (2), the used h1; removed: h2, h3
    assert present(web) == [web[0], web[3], web[4]]
    assert present([other_site]) == [other_site]
    again = run_playbook(playbook, "localhost,", *common, extra_vars_file=extra)
    assert again.rc == 0 and again.stats("localhost")["changed"] == 0
    assert present(web) == [web[0], web[3], web[4]]
    assert len(made) == 6
