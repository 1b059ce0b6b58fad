"""The takeover's description of a reference installation (module_utils/takeover.py, issue 17):
its data stays where it is, its names are kept, its secrets carried or replaced, and the site
it describes is one the site model takes."""

# ruff: noqa: S105 - test data: fake secrets

from __future__ import annotations

import pytest
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.model import build_site_model
from ansible_collections.omero_docker.stack.plugins.module_utils.takeover import TakeoverError, describe, parse_env

from tests.helpers import reference_stack


def test_env_files_as_compose_reads_them():
    text = "# c\n\nA=1\nexport B = two words\nC='quoted # not a comment'\nD=\"x\"\nE=v # comment\nnot a line\nF=\n"
    assert parse_env(text) == {"A": "1", "B": "two words", "C": "quoted # not a comment", "D": "x", "E": "v", "F": ""}


def test_the_data_stays_where_it_is_and_the_names_are_kept():
    result = describe(reference_stack.files(), "/opt/omero", "/srv/omero")
    site = result["site"]
    assert result["project"] == site["omero_site_name"] == "omero"
    assert site["omero_site_base_dir"] == "/srv/omero"
    assert site["omero_site_paths"] == {
        "omero_data": "/opt/omero/omero_data/omero_user_data",
        "omero_server_logs": "/opt/omero/omero_data/omero_server_logs",
        "omero_web_logs": "/opt/omero/omero_data/omero_web_logs",
        "database": "/opt/omero/postgresdb/omero_database",
        "database_plugin": "/opt/omero/postgresdb/plugin_database",
        "prometheus": "/opt/omero/omero_data/prometheus_data",
        "grafana": "/opt/omero/omero_data/grafana_data",
        "loki": "/opt/omero/omero_data/loki_data",
        "portainer": "/opt/omero/omero_data/portainer_data",
    }
    assert (site["omero_site_db_name"], site["omero_site_db_user"]) == ("omero", "omero")
    assert (site["omero_site_plugin_db_name"], site["omero_site_plugin_db_user"]) == ("omero-plugin", "omero-plugin")
    assert site["omero_site_timezone"] == "Europe/Zurich"
    assert site["omero_services"] == {
        "database": {"env": {"PGDATA": "/var/lib/postgresql/data/pgdata"}},
        "database_plugin": {"env": {"PGDATA": "/var/lib/postgresql/data/pgdata"}},
        "omeroserver": {"ulimits": {"nofile": {"soft": 15000, "hard": 15000}}},
    }
    # OMERO properties, but those the collection sets from the site model
    assert site["omero_server_config"] == {
        "omero.db.poolsize": "100", "omero.fs.repo.path": "%group%/%user%/%year%-%month%-%day%/%time%",
        "omero.scripts.processors": "20", "omero.security.login_failure_throttle_count": "5"}
    assert site["omero_web_config"] == {"omero.web.login_logo": "/static/branding/logo.png",
                                        "omero.web.session_cookie_secure": "false"}
    notes = "\n".join(result["notes"])
    for fragment in ("omero.db.host", "omero.web.apps", '["omero_figure","omeroweb_upload"]', "OMP_DATA_HOST",
                     "OMERO_UPLOAD_PATH", "portainer"):
        assert fragment in notes


def test_strong_secrets_are_carried_weak_ones_generated_and_roots_recorded():
    result = describe(reference_stack.files(), "/opt/omero", "/srv/omero")
    strong = reference_stack.STRONG
    assert result["secrets"] == {
        "omero_db_password": strong["OMERO_DB_PASS"], "plugin_db_password": strong["OMP_PLUGIN_DB_PASS"],
        "omero_root_password": strong["ROOTPASS"], "omero_job_service_password": strong["OMERO_JOB_SERVICE_PASS"],
        "grafana_admin_password": strong["GF_SECURITY_ADMIN_PASSWORD"],
        "omero_web_secret_key": reference_stack.WEB_SECRET_KEY}
    assert result["generate"] == [] and result["previous"] == {"omero_root_password": strong["ROOTPASS"]}
    weak = describe(reference_stack.files(secrets={"ROOTPASS": "CHANGEPASSWORD3", "OMERO_DB_PASS": "short"}),
                    "/opt/omero", "/srv/omero")
    assert weak["generate"] == ["omero_db_password", "omero_root_password"]
    assert "omero_root_password" not in weak["secrets"] and "omero_db_password" not in weak["secrets"]
    # the bootstrap logs in with the reference's value to set the generated one
    assert weak["previous"] == {"omero_root_password": "CHANGEPASSWORD3"}
    assert not any("CHANGEPASSWORD3" in note or "short" in note.split(":")[0] for note in weak["notes"])


def test_the_description_is_a_site_the_model_takes():
    result = describe(reference_stack.files(), "/opt/omero", "/srv/omero")
    model = build_site_model(result["site"], result["secrets"], local_files={})
    assert model["paths"]["database_plugin"] == "/opt/omero/postgresdb/plugin_database"
    env = dict((e["service"], e["env"]) for e in model["env_files"])
    assert env["database_plugin"]["PGDATA"] == "/var/lib/postgresql/data/pgdata"
    assert env["database_plugin"]["POSTGRES_DB"] == "omero-plugin"
    assert model["compose"]["name"] == "omero"


def test_an_install_directory_elsewhere_names_the_project():
    result = describe(reference_stack.files("/data/OMERO Lab"), "/data/OMERO Lab", "/srv/omero")
    assert result["project"] == "omero-lab"
    assert result["site"]["omero_site_paths"]["omero_data"] == "/data/OMERO Lab/omero_data/omero_user_data"


@pytest.mark.parametrize(("base", "fragment"), [("/opt/omero", "overlap"), ("/opt/omero/stack", "overlap"),
                                                ("/opt", "overlap")])
def test_the_sites_directory_is_not_the_references(base, fragment):
    with pytest.raises(TakeoverError, match=fragment):
        describe(reference_stack.files(), "/opt/omero", base)


def test_not_a_reference_installation():
    with pytest.raises(TakeoverError, match="docker-compose.yml was not found"):
        describe({}, "/opt/omero", "/srv/omero")
    with pytest.raises(TakeoverError, match="not the reference stack's compose file"):
        describe({"docker-compose.yml": "services: {web: {image: nginx}}\n"}, "/opt/omero", "/srv/omero")


def test_published_ports_other_than_the_defaults_are_kept():
    files = reference_stack.files()
    files["docker-compose.yml"] = files["docker-compose.yml"].replace("4064:4064", "0.0.0.0:14064:4064").replace(
        "4090:4090", "14090:4090")
    services = describe(files, "/opt/omero", "/srv/omero")["site"]["omero_services"]
    assert services["omeroserver"]["ports"] == {"ssl": {"host": 14064}}
    assert services["omeroweb"] == {"ports": {"http": {"host": 14090}}}
    described = describe(files, "/opt/omero", "/srv/omero")
    model = build_site_model(described["site"], described["secrets"], local_files={})
    assert [(p["published"], p["target"]) for p in model["compose"]["services"]["omeroweb"]["ports"]] == [
        ("14090", 4080)]
