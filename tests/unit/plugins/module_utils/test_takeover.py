"""The takeover's description of a reference installation (module_utils/takeover.py, issue 17):
its data stays where it is, its names are kept, its secrets carried or replaced, and the site
it describes is one the site model takes."""

# ruff: noqa: S105 - test data: fake secrets

from __future__ import annotations

import pytest
import yaml
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.model import build_site_model
from ansible_collections.omero_docker.stack.plugins.module_utils.takeover import (
    TakeoverError,
    compose_project,
    cross_check,
    describe,
    interpolate,
    parse_env,
)

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
    # Compose drops what a project name cannot hold: the containers' label says omerolab.
    assert result["compose_project"] == "omerolab"
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


def test_compose_interpolation():
    env = {"SET": "v", "EMPTY": ""}
    assert interpolate("${SET}-$SET-${UNSET}-$$SET", env) == "v-v--$SET"
    assert interpolate("${EMPTY:-d}|${EMPTY-d}|${UNSET-d}|${SET:-d}", env) == "d||d|v"
    assert interpolate("${SET:+a}|${EMPTY:+a}|${EMPTY+a}|${UNSET+a}|${SET:?must}", env) == "a||a||v"


# The cross-check of the description with the running containers: docker inspect of each
# container of the reference's compose project, shaped as Docker returns it.
_DATA = "/opt/omero/omero_data/"
_MOUNTS = {
    "database": [("/opt/omero/postgresdb/omero_database", "/var/lib/postgresql/data")],
    "database_plugin": [("/opt/omero/postgresdb/plugin_database", "/var/lib/postgresql/data")],
    "omeroserver": [(_DATA + "omero_user_data", "/OMERO"),
                    (_DATA + "omero_server_var", "/opt/omero/server/OMERO.server/var"),
                    (_DATA + "omero_server_logs", "/opt/omero/server/OMERO.server/var/log")],
    "omeroweb": [(_DATA + "omero_user_data", "/OMERO"), (_DATA + "omero_web_var", "/opt/omero/web/OMERO.web/var"),
                 (_DATA + "omero_web_logs", "/opt/omero/web/OMERO.web/var/log")],
}
_PORTS = {"omeroserver": {"4064/tcp": "4064"}, "omeroweb": {"4090/tcp": "4090"}}


def _inspect(service, *, project="omero", status="running", health=None, image=None, mounts=None, ports=None):
    """`docker inspect` of the container Compose made for a service of tests/helpers/reference_stack.py."""
    spec = reference_stack.compose()["services"].get(service, {})
    state = {"Status": status, "Running": status == "running", "ExitCode": 0 if status == "running" else 137}
    if health:
        state["Health"] = {"Status": health, "FailingStreak": 0 if health == "healthy" else 5, "Log": []}
    ports = _PORTS.get(service, {}) if ports is None else ports
    mounts = _MOUNTS.get(service, []) if mounts is None else mounts
    return {
        "Id": "c0ffee" + service, "Name": "/" + spec.get("container_name", "%s-%s-1" % (project, service)),
        "State": state,
        "Config": {"Image": image or spec.get("image", "busybox:1.37"), "Hostname": service,
                   "Env": ["ROOTPASS=%s" % reference_stack.STRONG["ROOTPASS"], "PATH=/usr/bin"],
                   "Labels": {"com.docker.compose.project": project, "com.docker.compose.service": service,
                              "com.docker.compose.project.working_dir": "/opt/omero",
                              "com.docker.compose.container-number": "1"}},
        "HostConfig": {"PortBindings": dict((k, [{"HostIp": "", "HostPort": v}]) for k, v in ports.items())},
        "Mounts": [{"Type": "bind", "Source": src, "Destination": dst, "Mode": "rw", "RW": True,
                    "Propagation": "rprivate"} for src, dst in mounts],
    }


def _reference(**changed):
    """The reference's running containers, one per compose service, with the changes given."""
    services = ("database", "database_plugin", "omeroserver", "omeroweb", "redis", "portainer")
    return [changed[s] if s in changed else _inspect(s) for s in services if changed.get(s, True) is not None]


def _checked(containers, files=None):
    return cross_check(describe(files or reference_stack.files(), "/opt/omero", "/srv/omero"), containers)


def test_the_running_reference_matches_its_description():
    notes = _checked(_reference(database=_inspect("database", health="healthy")))
    assert notes == ["all 6 services of docker-compose.yml were checked against the running containers: each runs "
                     "with the image, data directories and published ports the description says"]


def test_images_are_compared_after_interpolation_and_as_docker_names_them():
    files = reference_stack.files()
    files["docker-compose.yml"] = files["docker-compose.yml"].replace("image: postgres:16.12",
                                                                      "image: postgres:${POSTGRES_VERSION:-15}")
    files[".env"] += "POSTGRES_VERSION=16.12\n"
    containers = _reference(database_plugin=_inspect("database_plugin", image="docker.io/library/postgres:16.12"))
    assert _checked(containers, files)[0].startswith("all 6 services of docker-compose.yml were checked")
    files[".env"] = files[".env"].replace("POSTGRES_VERSION=16.12", "POSTGRES_VERSION=17.2")
    assert _checked(containers, files) == [
        "omero-database-1 runs image postgres:16.12, docker-compose.yml says postgres:17.2 (the compose file "
        "changed since it was started?): the description follows the compose file",
        "omero-database_plugin-1 runs image docker.io/library/postgres:16.12, docker-compose.yml says postgres:17.2 "
        "(the compose file changed since it was started?): the description follows the compose file"]


def test_services_without_a_running_container_are_named():
    notes = _checked(_reference(omeroweb=_inspect("omeroweb", status="exited"), redis=None, portainer=None))
    assert notes == ["services of docker-compose.yml not running: omeroweb (exited); portainer (no container, off in "
                     "the site unless enabled); redis (no container); the switch starts the site's services (those "
                     "off in the site only when enabled)"]


def test_unhealthy_containers_are_named():
    notes = _checked(_reference(omeroserver=_inspect("omeroserver", health="unhealthy")))
    assert notes == ["unhealthy now (their healthcheck fails): omeroserver; look at them before the switch"]


def test_containers_the_compose_file_does_not_declare_are_named():
    containers = _reference() + [_inspect("omero-celery", status="exited"), _inspect("omeroweb", project="other")]
    assert _checked(containers) == [
        "containers of compose project omero that docker-compose.yml does not declare (started from an older compose "
        "file?): omero-omero-celery-1 (service omero-celery, exited); the site does not run them, the switch removes "
        "them with the others"]


def test_data_mounts_other_than_the_described_paths_are_named():
    moved = [("/srv/pg-new", "/var/lib/postgresql/data")]
    no_repository = [m for m in _MOUNTS["omeroweb"] if m[1] != "/OMERO"]
    notes = _checked(_reference(database=_inspect("database", mounts=moved),
                                omeroweb=_inspect("omeroweb", mounts=no_repository)))
    assert notes == [
        "omero-database-1 mounts /srv/pg-new at /var/lib/postgresql/data, but the site description's "
        "omero_site_paths.database is /opt/omero/postgresdb/omero_database: check which directory holds the data "
        "before the switch",
        "omero-omeroweb-1 mounts nothing at /OMERO, but the site description's omero_site_paths.omero_data is "
        "/opt/omero/omero_data/omero_user_data: check which directory holds the data before the switch"]


def test_a_named_volume_in_place_of_a_data_directory_is_named():
    volume = {"Type": "volume", "Name": "omero_pgdata", "Source": "/var/lib/docker/volumes/omero_pgdata/_data",
              "Destination": "/var/lib/postgresql/data", "Driver": "local", "RW": True}
    container = _inspect("database_plugin", mounts=[])
    container["Mounts"] = [volume]
    notes = _checked(_reference(database_plugin=container))
    assert notes == ["omero-database_plugin-1 mounts volume omero_pgdata at /var/lib/postgresql/data, but the site "
                     "description's omero_site_paths.database_plugin is /opt/omero/postgresdb/plugin_database: check "
                     "which directory holds the data before the switch"]


def test_published_ports_other_than_the_described_ones_are_named():
    notes = _checked(_reference(omeroweb=_inspect("omeroweb", ports={"4090/tcp": "8080"}),
                                omeroserver=_inspect("omeroserver", ports={})))
    assert notes == [
        "omero-omeroserver-1 publishes container port 4064 on host port none, docker-compose.yml (and the site "
        "description) on 4064",
        "omero-omeroweb-1 publishes container port 4090 on host port 8080, docker-compose.yml (and the site "
        "description) on 4090"]


def test_no_container_or_no_engine_says_what_was_not_checked():
    assert _checked([_inspect("omeroweb", project="other")]) == [
        "no container of compose project omero was found: the reference is stopped, or Compose named its project "
        "otherwise (COMPOSE_PROJECT_NAME, name: in docker-compose.yml); the description comes from its files alone"]
    described = describe(reference_stack.files(), "/opt/omero", "/srv/omero")
    assert cross_check(described, None, "Error connecting: no such file") == [
        "the running containers were not checked: the Docker engine did not answer (Error connecting: no such "
        "file); the description comes from the reference's files alone"]


def test_the_notes_never_hold_a_containers_environment():
    changed = _reference(omeroweb=_inspect("omeroweb", status="exited", image="omeroweb:old", ports={}, mounts=[]))
    notes = "\n".join(_checked(changed + [_inspect("celery")]))
    assert "omeroweb:old" in notes and "celery" in notes
    assert reference_stack.STRONG["ROOTPASS"] not in notes and "PATH=" not in notes


def test_the_compose_files_long_volume_syntax_names_the_data_directories_too():
    compose = reference_stack.compose()
    compose["services"]["database"]["volumes"] = [
        {"type": "bind", "source": "${OMERO_DATABASE_PATH}", "target": "/var/lib/postgresql/data/"},
        {"type": "volume", "source": "scratch", "target": "/scratch"}]
    files = dict(reference_stack.files(), **{"docker-compose.yml": yaml.safe_dump(compose)})
    described = describe(files, "/opt/omero", "/srv/omero")
    assert described["services"]["database"] == {"image": "postgres:16.12", "ports": {},
                                                 "data": {"/var/lib/postgresql/data": "database"}}
    assert described["services"]["omeroweb"]["ports"] == {"4090": 4090}
    moved = _inspect("database", mounts=[("/srv/elsewhere", "/var/lib/postgresql/data")])
    assert [n.split(",")[0] for n in cross_check(described, _reference(database=moved))] == [
        "omero-database-1 mounts /srv/elsewhere at /var/lib/postgresql/data"]


def test_compose_project_follows_compose():
    """name: of the compose file, then COMPOSE_PROJECT_NAME of .env, then the directory."""
    assert compose_project({"name": "Facility"}, {"COMPOSE_PROJECT_NAME": "x"}, "/opt/omero") == "facility"
    assert compose_project({}, {"COMPOSE_PROJECT_NAME": "ref_1"}, "/opt/omero") == "ref_1"
    assert compose_project({}, {}, "/data/_OMERO Lab.2") == "omerolab2"
