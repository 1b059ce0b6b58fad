"""The site_tls role through ansible-playbook on this machine (local connection, a temporary
directory): a site CA made with community.crypto signs a server certificate for the site's
names (checked with cryptography: signature, SANs, CA constraints), basic-auth users hashed
with passlib (community.general.htpasswd), a second run changes nothing and no password is
printed; a certificate near its end is renewed; an operator-provided certificate is copied
instead; a site CA without names is refused before anything is written.
"""

from __future__ import annotations

import datetime
import ipaddress
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO_ROOT))
from tests.helpers.playbook import run_playbook  # noqa: E402

pytestmark = pytest.mark.playbook
x509 = pytest.importorskip("cryptography.x509")
ec = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.ec")
hashes = pytest.importorskip("cryptography.hazmat.primitives.hashes")
serialization = pytest.importorskip("cryptography.hazmat.primitives.serialization")
sha512_crypt = pytest.importorskip("passlib.hash").sha512_crypt

PLAYBOOK = """\
- hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.import_role: {name: omero_docker.stack.site_tls}
"""
NAMES = ["omero.example.org", "192.0.2.10"]
PASSWORD = "basic-auth-password-for-the-test-0042"  # noqa: S105 - a test value


def _run(tmp_path, *extra):
    playbook = tmp_path / "tls.yml"
    playbook.write_text(PLAYBOOK)
    common = ["-c", "local", "-e", "ansible_python_interpreter=%s" % sys.executable,
              "-e", '{"site_tls_packages": [], "site_tls_dir": "%s"}' % (tmp_path / "tls")]
    return run_playbook(playbook, "localhost,", *common, *extra)


def _site_ca(tmp_path, *extra):
    users = '{"site_tls_names": %s, "site_tls_basic_auth_users": [{"name": "ops", "password": "%s"}]}' % (
        str(NAMES).replace("'", '"'), PASSWORD)
    return _run(tmp_path, "-e", users, *extra)


def _cert(path):
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_site_ca_signs_the_server_certificate_and_a_second_run_changes_nothing(tmp_path):
    first = _site_ca(tmp_path)
    assert first.rc == 0, first.failures()
    assert first.stats("localhost")["changed"] > 0
    tls = tmp_path / "tls"
    ca, server = _cert(tls / "ca.crt"), _cert(tls / "server.crt")
    # Signed by the site CA, which is a CA (and only that).
    ca.public_key().verify(server.signature, server.tbs_certificate_bytes, ec.ECDSA(server.signature_hash_algorithm))
    assert server.issuer == ca.subject
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert not server.extensions.get_extension_for_class(x509.BasicConstraints).value.ca \
        if any(e.oid == x509.OID_BASIC_CONSTRAINTS for e in server.extensions) else True
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["omero.example.org"]
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("192.0.2.10")]
    # Keys readable by their owner only; the password hashed, never printed.
    assert oct((tls / "server.key").stat().st_mode & 0o777) == "0o600"
    assert oct((tls / "ca.key").stat().st_mode & 0o777) == "0o600"
    user, hashed = (tls / "htpasswd").read_text().strip().split(":", 1)
    assert user == "ops" and hashed.startswith("$6$") and sha512_crypt.verify(PASSWORD, hashed)
    # nginx's workers (gid 101) read htpasswd through a directory they may traverse only
    # (the mode of the site model's path tls too, test_proxy_monitoring.py).
    htpasswd = (tls / "htpasswd").stat()
    assert (htpasswd.st_uid, htpasswd.st_gid, oct(htpasswd.st_mode & 0o777)) == (0, 101, "0o640")
    assert oct(tls.stat().st_mode & 0o777) == "0o751"
    assert PASSWORD not in first.output
    again = _site_ca(tmp_path)
    assert again.rc == 0 and again.stats("localhost")["changed"] == 0, again.failures()
    assert _cert(tls / "server.crt").serial_number == server.serial_number


def test_a_certificate_near_its_end_is_renewed(tmp_path):
    assert _site_ca(tmp_path).rc == 0
    before = _cert(tmp_path / "tls" / "server.crt")
    # It ends in 397 days: asking for 398 days of validity left renews it, for 400.
    renew = _site_ca(tmp_path, "-e", "site_tls_renew_days=398", "-e", "site_tls_days=400")
    assert renew.rc == 0 and renew.stats("localhost")["changed"] == 1, renew.failures()
    after = _cert(tmp_path / "tls" / "server.crt")
    assert after.serial_number != before.serial_number
    assert after.not_valid_after_utc - datetime.datetime.now(datetime.timezone.utc) > datetime.timedelta(days=399)


def test_an_operator_certificate_is_copied_and_no_ca_is_made(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "omero.example.org")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
    (tmp_path / "given.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "given.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    run = _run(tmp_path, "-e", "site_tls_certificate=%s" % (tmp_path / "given.crt"),
               "-e", "site_tls_private_key=%s" % (tmp_path / "given.key"))
    assert run.rc == 0, run.failures()
    assert (tmp_path / "tls" / "server.crt").read_bytes() == (tmp_path / "given.crt").read_bytes()
    assert not (tmp_path / "tls" / "ca.key").exists()
    assert "BEGIN PRIVATE KEY" not in run.output


def test_a_site_ca_without_names_is_refused_before_anything_is_written(tmp_path):
    run = _run(tmp_path)
    assert run.rc != 0
    assert "site_tls_names: name at least one DNS name" in "\n".join(run.failures())
    assert not (tmp_path / "tls").exists()


def test_a_monitoring_ui_without_basic_auth_users_is_refused_before_anything_is_written(tmp_path):
    run = _run(tmp_path, "-e", '{"site_tls_names": ["omero.example.org"], '
                               '"omero_site_model": {"site": {"proxy_monitoring": ["prometheus"]}}}')
    assert run.rc != 0
    failures = "\n".join(run.failures())
    assert "site_tls_basic_auth_users: omero_site_proxy_monitoring serves prometheus" in failures
    assert not (tmp_path / "tls").exists()
