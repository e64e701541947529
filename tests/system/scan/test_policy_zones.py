"""Policy block lists and submission (issue 18 item 8, SCAN-3, REL-3): a
local zone of dynamic address ranges ("PBL"-style) marked
exempt_authenticated must not refuse a road warrior before it can log
in. On a listener that offers AUTH such a zone is looked up at MAIL and
skipped for a client that authenticated; on a listener without AUTH, and
for zones without the flag, it applies at connect as before.

Addresses: 127.52.0.1 is in the policy zone, 127.52.0.2 in an ordinary
one; both zones refuse."""

import base64
import os
import subprocess

import pytest

import certs
import mwsys

IN_POLICY, IN_BLOCK = "127.52.0.1", "127.52.0.2"
PASSWORD = "dynamic road warrior"


@pytest.fixture(scope="module")
def credentials(mw_bin, workdir):
    out = subprocess.run([mw_bin, "passwd", "alice@example.test"], input=PASSWORD + "\n",
                         capture_output=True, text=True, check=True).stdout
    path = os.path.join(workdir, "credentials")
    with open(path, "w") as f:
        f.write(out)
    os.chmod(path, 0o644)
    return path


@pytest.fixture(scope="module")
def gw(make_gateway, workdir, ports, sink, credentials):
    policy, block = os.path.join(workdir, "pbl.zone"), os.path.join(workdir, "block.zone")
    for path, ip in ((policy, IN_POLICY), (block, IN_BLOCK)):
        with open(path, "w") as f:
            f.write(f"{ip} :127.0.0.10:dynamic range $\n")
        os.chmod(path, 0o644)
    return make_gateway(
        sink=sink,
        listeners=[{"name": "mta", "address": "127.0.0.1", "port": ports.get()},
                   {"name": "submission", "address": "127.0.0.1", "port": ports.get(), "mode": "submission",
                    "auth": "optional"}],
        auth={"credentials": credentials},
        scan={"rbl_files": [{"file": policy, "name": "pbl", "exempt_authenticated": True},
                            {"file": block, "name": "block"}],
              "inbound": {"checks": {"rbl_file": "refuse"}},
              "outbound": {"checks": {"rbl_file": "refuse"}}})


def _tls_session(gw, source):
    c = mwsys.SmtpClient(gw.listener_port("submission"), source=source)
    assert c.greeting().code == 220
    c.ehlo()
    assert c.starttls(certs.client_context()).code == 220
    c.ehlo()
    return c


def test_a_road_warrior_in_a_policy_zone_logs_in_and_submits(gw, sink):
    token = mwsys.unique("pbl-auth")
    with _tls_session(gw, IN_POLICY) as c:
        plain = base64.b64encode(f"\0alice@example.test\0{PASSWORD}".encode()).decode()
        assert c.cmd("AUTH PLAIN " + plain).code == 235
        assert c.transaction("alice@example.test", ["user@example.test"],
                             f"From: alice@example.test\r\nSubject: {token}\r\n\r\nx\r\n".encode()).code == 250
    sink.wait_token(token)


def test_without_a_login_the_policy_zone_refuses_at_mail(gw):
    with _tls_session(gw, IN_POLICY) as c:
        r = c.cmd("MAIL FROM:<alice@example.test>")
        assert r.code == 554, r
        assert "listed in pbl" in r.text


def test_on_a_listener_without_auth_the_policy_zone_refuses_at_connect(gw):
    with mwsys.SmtpClient(gw.listener_port("mta"), source=IN_POLICY) as c:
        r = c.greeting()
        assert r.code == 554 and "listed in pbl" in r.text, r


def test_an_ordinary_zone_still_refuses_at_connect_on_submission(gw):
    with mwsys.SmtpClient(gw.listener_port("submission"), source=IN_BLOCK) as c:
        r = c.greeting()
        assert r.code == 554 and "listed in block" in r.text, r
