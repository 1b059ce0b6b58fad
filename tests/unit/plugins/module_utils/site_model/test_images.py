"""Site images in the site model: build contexts, content-hash tags, plugin registration inputs."""

# ruff: noqa: S105 - test data: fake secrets

from __future__ import annotations

import copy
import hashlib
import shutil

import pytest
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import images as imagelib
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.catalog import load_catalog
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.errors import SiteModelError
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.image_refs import image_reference
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.model import HASH_LABEL, build_site_model

from tests.helpers.sites import base_site

PLUGINS = [
    {"name": "omero-figure", "pip": "omero-figure==8.0.1", "app": "omero_figure",
     "top_link": {"label": "Figure", "url": "figure_index"}},
    {"name": "omero-iviewer", "pip": "omero-iviewer==0.19.1", "app": "omero_iviewer",
     "settings": {"omero.web.viewer.view": "omero_iviewer.views.index"}},
    {"name": "omero-parade", "pip": "omero-parade==0.2.4", "app": "omero_parade",
     "center_plugin": {"label": "Parade", "url": "omero_parade/init.js.html"}},
]


def site_with(**extra):
    site = base_site()
    site["omero_web_plugins"] = copy.deepcopy(PLUGINS)
    site.update(copy.deepcopy(extra))
    return site


def build(site, **kwargs):
    return build_site_model(site, site.get("omero_secrets"), **kwargs)


def tags(model):
    return {name: spec["tag"] for name, spec in model["images"].items()}


def labels(model):
    return {name: svc["labels"][HASH_LABEL] for name, svc in model["compose"]["services"].items()}


def requirements(model, service="omeroweb"):
    return next(f["content"] for f in model["images"][service]["files"] if f["path"] == "requirements.txt")


def errors_of(site, **kwargs):
    with pytest.raises(SiteModelError) as info:
        build(site, **kwargs)
    return dict(info.value.errors)


def test_every_site_image_of_the_default_site():
    model = build(site_with())
    assert sorted(model["images"]) == ["container-state-exporter", "omeroserver", "omeroweb", "path-usage-exporter",
                                       "pg-maintenance"]
    web = model["images"]["omeroweb"]
    pinned = load_catalog()["services"]["omeroweb"]["image"]
    assert web["base"] == image_reference(pinned)
    assert web["tag"].startswith(pinned["tag"] + "-h") and len(web["tag"]) == len(pinned["tag"] + "-h") + 12
    assert web["reference"] == "omero-docker-stack/omero-web:" + web["tag"]
    assert web["context_dir"] == "/srv/omero-test/build/omeroweb"
    assert web["build_args"] == {"BASE_IMAGE": web["base"]}
    # The compose service runs the built image, never pulls it.
    service = model["compose"]["services"]["omeroweb"]
    assert service["image"] == web["reference"] and service["pull_policy"] == "never"
    assert model["services"]["omeroweb"]["base_image"] == web["base"]
    # pg-maintenance is built on the database's image, so pg_dump matches the server.
    assert model["images"]["pg-maintenance"]["base"] == model["compose"]["services"]["database"]["image"]
    paths = [f["path"] for f in web["files"]]
    assert paths == ["Dockerfile", "common/pip-install.sh", "common/secrets-env.sh", "requirements.txt",
                     "run-command.sh"]
    assert "/srv/omero-test/build/omeroweb/ca" in web["directories"]
    assert "/srv/omero-test/build/omeroweb/requirements.txt" in web["expected_files"]


def test_web_requirements_are_the_plugin_pins_plus_django_redis_with_redis():
    model = build(site_with())
    assert requirements(model).splitlines() == [
        "omero-figure==8.0.1", "omero-iviewer==0.19.1", "omero-parade==0.2.4", "django-redis==6.0.0", "redis==6.4.0"]
    no_redis = build(site_with(omero_services={"redis": {"enabled": False}, "redis-exporter": {"enabled": False}}))
    assert "django-redis" not in requirements(no_redis)


def test_hash_is_stable_across_runs_and_key_order():
    first = build(site_with())
    reordered = site_with(omero_web_plugins=[dict(reversed(list(p.items()))) for p in PLUGINS])
    assert tags(build(site_with())) == tags(first)
    assert tags(build(reordered)) == tags(first)
    assert labels(build(reordered)) == labels(first)


def test_a_new_plugin_pin_changes_only_the_web_image_and_the_omeroweb_definition():
    before = build(site_with())
    plugins = copy.deepcopy(PLUGINS)
    plugins[2]["pip"] = "omero-parade==0.2.3"
    after = build(site_with(omero_web_plugins=plugins))
    changed = sorted(n for n in tags(before) if tags(before)[n] != tags(after)[n])
    assert changed == ["omeroweb"]
    relabelled = sorted(n for n in labels(before) if labels(before)[n] != labels(after)[n])
    assert relabelled == ["omeroweb"]


def test_adding_a_plugin_changes_only_omeroweb():
    before = build(site_with())
    plugins = copy.deepcopy(PLUGINS) + [{"name": "omero-fpbioimage", "pip": "omero-fpbioimage==0.4.1",
                                         "app": "omero_fpbioimage"}]
    after = build(site_with(omero_web_plugins=plugins))
    assert sorted(n for n in labels(before) if labels(before)[n] != labels(after)[n]) == ["omeroweb"]
    assert after["web_registration"]["plugins"][-1]["app"] == "omero_fpbioimage"


def test_a_registration_only_change_keeps_the_image_but_recreates_omeroweb():
    before = build(site_with())
    plugins = copy.deepcopy(PLUGINS)
    plugins[0]["top_link"]["label"] = "OMERO.figure"
    after = build(site_with(omero_web_plugins=plugins))
    assert tags(after) == tags(before)
    assert sorted(n for n in labels(before) if labels(before)[n] != labels(after)[n]) == ["omeroweb"]


def test_a_changed_context_file_changes_that_image_only(tmp_path):
    root = tmp_path / "images"
    shutil.copytree(imagelib.IMAGES_DIR, root)
    spec = {"context": "pg-maintenance", "repository": "x/pg"}

    def build_pg(base="16.12"):
        return imagelib.build_spec("pg-maintenance", spec, base_ref="postgres:" + base, base_tag=base,
                                   generated={}, copies=[], context_dir="/b", root=str(root))

    plain = build_pg()
    assert build_pg()["tag"] == plain["tag"]
    dockerfile = root / "pg-maintenance" / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text() + "#\n")
    edited = build_pg()
    assert edited["tag"] != plain["tag"]
    # The executable bit is an input too.
    dockerfile.chmod(0o755)
    assert build_pg()["tag"] != edited["tag"]
    # A new base image is a new input.
    assert build_pg("16.13")["hash"] != build_pg()["hash"]


def test_caches_are_no_input():
    ctx = imagelib.context_files("path-usage-exporter")
    assert all("__pycache__" not in p and not p.endswith(".pyc") for p in ctx)


def test_image_tag_fits_dockers_limit():
    assert imagelib.image_tag("x" * 200, "ab" * 32).endswith("-habababababab")
    assert len(imagelib.image_tag("x" * 200, "ab" * 32)) == 128


def test_wheel_files_are_copied_by_digest_and_installed_from_the_image(tmp_path):
    wheel = tmp_path / "omero_local_plugin-1.0-py3-none-any.whl"
    wheel.write_bytes(b"wheel one")
    local = {"omero_local_plugin-1.0-py3-none-any.whl": {
        "path": str(wheel), "sha256": hashlib.sha256(b"wheel one").hexdigest()}}
    plugins = copy.deepcopy(PLUGINS) + [{"name": "omero-local-plugin", "app": "omero_local_plugin",
                                         "pip": "omero_local_plugin-1.0-py3-none-any.whl"}]
    model = build(site_with(omero_web_plugins=plugins), local_files=local)
    web = model["images"]["omeroweb"]
    assert web["copies"] == [{"src": str(wheel), "dest": "wheels/" + wheel.name,
                              "sha256": local[wheel.name]["sha256"]}]
    assert "/opt/omero-stack/wheels/" + wheel.name in requirements(model).splitlines()
    assert model["web_registration"]["plugins"][-1]["pip"] == "/opt/omero-stack/wheels/" + wheel.name
    other = dict(local)
    other[wheel.name] = dict(local[wheel.name], sha256=hashlib.sha256(b"wheel two").hexdigest())
    assert build(site_with(omero_web_plugins=plugins), local_files=other)["images"]["omeroweb"]["tag"] != web["tag"]


def test_a_wheel_not_found_on_the_controller_names_the_variable():
    plugins = copy.deepcopy(PLUGINS) + [{"name": "x", "app": "x_app", "pip": "x-1.0-py3-none-any.whl"}]
    errors = errors_of(site_with(omero_web_plugins=plugins))
    assert "was not found on the controller" in errors["omero_web_plugins[3].pip"]


def test_unpinned_plugins_and_dependencies_are_refused():
    plugins = copy.deepcopy(PLUGINS)
    plugins[0]["pip"] = "omero-figure"
    assert "omero-figure" in errors_of(site_with(omero_web_plugins=plugins))["omero_web_plugins[0].pip"]
    plugins = copy.deepcopy(PLUGINS)
    plugins[1]["requires"] = ["numpy>=1"]
    assert "omero_web_plugins[1].requires[0]" in errors_of(site_with(omero_web_plugins=plugins))


def test_plugin_dependencies_go_into_the_image_not_the_registration():
    plugins = copy.deepcopy(PLUGINS)
    plugins[1]["requires"] = ["numpy==2.2.6"]
    model = build(site_with(omero_web_plugins=plugins))
    assert requirements(model).splitlines()[:3] == ["omero-figure==8.0.1", "omero-iviewer==0.19.1", "numpy==2.2.6"]
    assert "requires" not in model["web_registration"]["plugins"][1]


def test_cli_plugins_and_system_packages_of_the_server_image():
    model = build(site_with(omero_server_cli_plugins=["omero-metadata==0.14.0", "omero-cli-render==0.8.1"],
                            omero_server_system_packages=["blosc"]))
    files = {f["path"]: f["content"] for f in model["images"]["omeroserver"]["files"]}
    assert files["requirements.txt"] == "omero-metadata==0.14.0\nomero-cli-render==0.8.1\n"
    assert files["system-packages.txt"] == "blosc\n"
    errors = errors_of(site_with(omero_server_cli_plugins=["omero-metadata"],
                                 omero_server_system_packages=["bad name"]))
    assert "omero_server_cli_plugins[0]" in errors and "omero_server_system_packages[0]" in errors


def test_build_false_runs_the_image_as_it_is():
    model = build(site_with(omero_services={"omeroweb": {"build": False, "image": "example.org/web:1.0"}}))
    assert "omeroweb" not in model["images"]
    assert model["compose"]["services"]["omeroweb"]["image"] == "example.org/web:1.0"
    assert "pull_policy" not in model["compose"]["services"]["omeroweb"]
    # ... and the plugins are still checked and registered against it.
    assert model["web_registration"]["plugins"][0]["app"] == "omero_figure"
    errors = errors_of(site_with(omero_services={"redis": {"build": True}}))
    assert "no site image" in errors["omero_services.redis.build"]


def test_an_explicit_base_for_pg_maintenance_wins_over_base_from():
    model = build(site_with(omero_services={"pg-maintenance": {"image": "postgres:17.2"}}))
    assert model["images"]["pg-maintenance"]["base"] == "postgres:17.2"
    assert build(site_with(omero_services={"database": {"image": "postgres:16.13"}}))[
        "images"]["pg-maintenance"]["base"] == "postgres:16.13"


def test_registration_lists_set_by_the_site_are_the_base_of_the_plugin_registration():
    site = site_with(omero_web_config={
        "omero.web.ui.top_links": [["Data", "webindex"]],
        "omero.web.open_with": {"append": [["viewer", "webgateway", {}]]},
    })
    model = build(site)
    assert model["web_registration"]["base_config"] == {"omero.web.ui.top_links": '[["Data","webindex"]]'}
    web_file = next(f["content"] for f in model["files"] if f["path"].endswith("omeroweb/60-omero-docker-stack.omero"))
    assert "omero.web.ui.top_links" not in web_file
    assert "omero.web.open_with" in web_file
    # The registration file is mounted before the site's file is loaded.
    mounts = [m["target"] for m in model["compose"]["services"]["omeroweb"]["volumes"]]
    assert "/opt/omero/web/config/20-plugins.omero" in mounts


def test_plugin_secret_settings_travel_as_secret_files():
    plugins = copy.deepcopy(PLUGINS)
    plugins[0]["secret_settings"] = {"omero.web.figure.db_password": "plugin_db_password"}
    model = build(site_with(omero_web_plugins=plugins))
    env = next(e for e in model["env_files"] if e["service"] == "omeroweb")
    assert env["secret_env"] == {}
    files = {(f["service"], f["secret"]): f["path"] for f in model["secret_files"]}
    assert files[("omeroweb", "plugin_db_password")].endswith("/omeroweb/CONFIG_omero_web_figure_db__password")
    assert "secret_settings" not in model["web_registration"]["plugins"][0]
    plugins[0]["secret_settings"] = {"omero.web.figure.db_password": "nope"}
    assert "not a site secret" in errors_of(site_with(omero_web_plugins=plugins))[
        "omero_web_plugins[0].secret_settings['omero.web.figure.db_password']"]


def test_web_without_a_server_is_a_valid_site():
    model = build(site_with(omero_services={"omeroserver": {"enabled": False}}))
    assert "omeroserver" not in model["images"]
    server_list = next(o for o in model["omero"]["web"] if o["property"] == "omero.web.server_list")
    assert "omeroserver" in server_list["value"]


def test_a_plain_app_folder_is_installed_from_its_packaged_wheel_with_its_pins(tmp_path):
    """omero_web_plugins[].src (issue 17): the action plugin packages the folder on the
    controller (module_utils/app_wheel.py); the model copies that wheel, pins its requirements."""
    wheel = tmp_path / "omeroweb_upload-0+src.0123456789ab-py3-none-any.whl"
    wheel.write_bytes(b"packaged")
    digest = hashlib.sha256(b"packaged").hexdigest()
    local = {"plugins/omeroweb_upload": {"path": str(wheel), "sha256": digest, "requires": ["redis==6.4.0"]}}
    plugins = copy.deepcopy(PLUGINS) + [{"name": "omeroweb-upload", "app": "omeroweb_upload",
                                         "src": "plugins/omeroweb_upload",
                                         "top_link": {"label": "Upload", "url": "upload_index"}}]
    model = build(site_with(omero_web_plugins=plugins), local_files=local)
    web = model["images"]["omeroweb"]
    assert web["copies"] == [{"src": str(wheel), "dest": "wheels/" + wheel.name, "sha256": digest}]
    lines = requirements(model).splitlines()
    assert lines[3:5] == ["redis==6.4.0", "/opt/omero-stack/wheels/" + wheel.name]
    registered = model["web_registration"]["plugins"][-1]
    assert registered["pip"] == "/opt/omero-stack/wheels/" + wheel.name
    assert "src" not in registered and registered["top_link"]["label"] == "Upload"
    # a changed folder (another wheel) gives another web image, nothing else
    other = {"plugins/omeroweb_upload": dict(local["plugins/omeroweb_upload"], sha256="0" * 64)}
    changed = build(site_with(omero_web_plugins=plugins), local_files=other)
    assert {n for n in tags(model) if tags(model)[n] != tags(changed)[n]} == {"omeroweb"}


def test_app_folder_problems_name_the_variable(tmp_path):
    base = copy.deepcopy(PLUGINS)
    entry = {"name": "omp", "app": "omp", "src": "plugins/omp"}
    errors = errors_of(site_with(omero_web_plugins=[*base, entry]), local_files={})
    assert "app folder 'plugins/omp' was not found on the controller" in errors["omero_web_plugins[3].src"]
    problem = {"plugins/omp": {"problem": "omp/requirements.txt line 1: 'celery' is not pinned"}}
    errors = errors_of(site_with(omero_web_plugins=[*base, entry]), local_files=problem)
    assert errors["omero_web_plugins[3].src"] == ("cannot be packaged: omp/requirements.txt line 1: 'celery' is "
                                                  "not pinned")
    errors = errors_of(site_with(omero_web_plugins=[*base, dict(entry, pip="omp==1.0")]), local_files={})
    assert "not both" in errors["omero_web_plugins[3].src"]
    bad_commit = dict(entry, src={"git": "https://x.org/r", "commit": "main"})
    errors = errors_of(site_with(omero_web_plugins=[*base, bad_commit]))
    assert "40-hex" in errors["omero_web_plugins[3].src"]
    errors = errors_of(site_with(omero_web_plugins=[*base, {"name": "omp", "app": "omp", "pip": "omp==1.0",
                                                            "version": "1.0"}]))
    assert "only with src" in errors["omero_web_plugins[3].version"]


def test_two_pins_of_one_distribution_are_refused_naming_both(tmp_path):
    local = {"plugins/omp": {"path": str(tmp_path / "omp-0+src.0123456789ab-py3-none-any.whl"), "sha256": "0" * 64,
                             "requires": ["redis==5.2.1", "numpy==2.2.6; python_version >= '3.9'"]}}
    plugins = copy.deepcopy(PLUGINS) + [{"name": "omp", "app": "omp", "src": "plugins/omp"}]
    plugins[1]["requires"] = ["NumPy==2.3.0"]

    def problems(site):
        with pytest.raises(SiteModelError) as info:
            build(site, local_files=local)
        return sorted(info.value.errors)

    where = "omero_web_plugins[3].src (its pinned requirements)"
    assert problems(site_with(omero_web_plugins=plugins)) == [
        (where, "numpy==2.2.6 conflicts with numpy==2.3.0 of omero_web_plugins[1].requires[0]: the web image holds "
                "one version of each distribution"),
        (where, "redis==5.2.1 conflicts with redis==6.4.0 of the web image's own requirement with redis: the web "
                "image holds one version of each distribution")]
    # without Redis the web image does not install redis: only the numpy conflict is left
    site = site_with(omero_web_plugins=plugins)
    site["omero_services"] = {"redis": {"enabled": False}, "redis-exporter": {"enabled": False}}
    assert [m.split(" conflicts")[0] for v, m in problems(site)] == ["numpy==2.2.6"]
