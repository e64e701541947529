"""Certificates from files: several chosen by SNI, the first one the
default; a SIGHUP reload reads them again (the new smtpd processes serve
the new certificate); a broken key keeps the running set."""

import os
import shutil
import signal

import pytest

import certs
import mwsys


@pytest.fixture
def cert_files(workdir):
    d = os.path.join(workdir, "certs-" + mwsys.unique("c"))
    main = certs.make_cert(d, "mx.gw.test")
    other = certs.make_cert(d, "mail.other.test", ["DNS:mail.other.test", "DNS:*.other.test"])
    return main, other


def _cn(gw, server_hostname):
    with mwsys.SmtpClient(gw.port) as c:
        c.greeting()
        c.ehlo()
        c.starttls(certs.client_context(), server_hostname=server_hostname)
        return certs.peer_common_name(c.sock)


def test_certificate_chosen_by_sni(make_gateway_fn, cert_files):
    (main_cert, main_key), (other_cert, other_key) = cert_files
    gw = make_gateway_fn(certificates=[{"cert": main_cert, "key": main_key},
                                       {"cert": other_cert, "key": other_key}])
    assert _cn(gw, "mx.gw.test") == "mx.gw.test"
    assert _cn(gw, "mail.other.test") == "mail.other.test"
    assert _cn(gw, "smtp.other.test") == "mail.other.test"   # wildcard SAN
    assert _cn(gw, "unknown.test") == "mx.gw.test"           # the default
    assert _cn(gw, None) == "mx.gw.test"


def test_sighup_reloads_the_certificate(make_gateway_fn, cert_files, workdir):
    (main_cert, main_key), (other_cert, other_key) = cert_files
    live_cert = os.path.join(os.path.dirname(main_cert), "live.crt")
    live_key = os.path.join(os.path.dirname(main_cert), "live.key")
    shutil.copy(main_cert, live_cert)
    shutil.copy(main_key, live_key)
    os.chmod(live_key, 0o644)
    gw = make_gateway_fn(certificates=[{"cert": live_cert, "key": live_key}])
    assert _cn(gw, None) == "mx.gw.test"
    # Rotate the files, reload.
    shutil.copy(other_cert, live_cert)
    shutil.copy(other_key, live_key)
    old_smtpd = gw.pid("smtpd")
    start = gw.mark()
    gw.proc.send_signal(signal.SIGHUP)
    gw.wait_event(proc="master", event="reload", result="ok", start=start)
    gw.wait_event(proc="smtpd", event="ready", start=start)
    # The old smtpd stops after the new one started: until then either may answer.
    mwsys.wait_until(lambda: not mwsys.pid_alive(old_smtpd), what="the old smtpd to stop")
    assert _cn(gw, None) == "mail.other.test"
    # A key that does not match: the reload fails, the running certificate stays.
    shutil.copy(main_key, live_key)
    start = gw.mark()
    gw.proc.send_signal(signal.SIGHUP)
    gw.wait_event(proc="master", event="reload", result="failed", start=start)
    assert gw.events(start=start, proc="master", event="config_error")
    assert _cn(gw, None) == "mail.other.test"


def test_missing_certificate_file_stops_the_start(make_gateway_fn, workdir):
    gw = make_gateway_fn(start=False, certificates=[{"cert": "/nonexistent/x.crt", "key": "/nonexistent/x.key"}])
    gw.start(wait=False)
    gw.expected_dead.add(gw.proc.pid)   # it must not run
    assert gw.wait_exit() == 1
    gw.wait_for(r"cannot load certificate", start=0)


def test_self_signed_certificate_made_on_first_start(make_gateway_fn):
    gw = make_gateway_fn()
    crt = gw.path("tls", "selfsigned.crt")
    key = gw.path("tls", "selfsigned.key")
    assert os.path.exists(crt) and os.path.exists(key)
    assert os.stat(key).st_mode & 0o077 == 0
    assert _cn(gw, None) == "mx.gw.test"
