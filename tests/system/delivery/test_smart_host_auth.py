"""Outbound AUTH and implicit TLS to a smart host (issue 15, TOP-2,
RFC 4954, RFC 4616, RFC 8314): queue.smart_host smtps://relay.test:PORT
speaks TLS from the first byte, smtp://relay.test:PORT with
queue.smart_host_auth makes STARTTLS mandatory; either way the relay's
certificate must be valid for relay.test (outbound_tls.ca_file here) and
the gateway logs in with AUTH PLAIN, or AUTH LOGIN when that is all the
relay offers. The credentials never go in clear: a relay without
STARTTLS, or with a certificate that cannot be verified, gets nothing and
the message is deferred; a refused password (535) defers too (logged),
it never bounces.

The relays are aiosmtpd servers on loopback that require AUTH before
MAIL and record every AUTH command and every login they checked;
relay.test resolves to 127.0.0.1 through dnsmasq. One gateway per relay
(the smart host is a gateway-wide key); connection_reuse off, so that
every message logs in anew."""

import base64
import os
import pwd
import signal
import ssl

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult

import certs
import mwsys
from peers import Dnsmasq, send

USER = "relay-user@provider.test"
PASSWORD = "s3cret pass#word"   # a space and a '#': the rest of the line is the password
SENDER = "sender@example.test"


class AuthRelay(mwsys.Sink):
    """A smart host on 127.0.0.1:port that takes mail only after AUTH.
    implicit: TLS from the first byte with context; else context (if any)
    is offered with STARTTLS. mechanisms: the AUTH mechanisms offered;
    password: the one it accepts for USER. auth_commands: the mechanism of
    every AUTH command received; logins: (mechanism, user, password) of
    every login checked."""

    def __init__(self, port, context=None, implicit=False):
        super().__init__(port, tls_context=None if implicit else context)
        self.context = context
        self.implicit = implicit
        self.mechanisms = ("LOGIN", "PLAIN")
        self.password = PASSWORD
        self.auth_commands = []
        self.logins = []

    @property
    def url(self):
        return f"{'smtps' if self.implicit else 'smtp'}://relay.test:{self.port}"

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        user, password = auth_data.login.decode(), auth_data.password.decode()
        self.logins.append((mechanism, user, password))
        ok = user == USER and password == self.password
        return AuthResult(success=ok, handled=False)   # handled=False: aiosmtpd answers 535

    def start(self):
        relay = self

        class _SMTP(SMTP):
            async def smtp_AUTH(self, arg):
                relay.auth_commands.append(arg.split()[0].upper() if arg else "")
                return await super().smtp_AUTH(arg)

        class _Controller(Controller):
            def factory(self):
                excluded = [m for m in ("LOGIN", "PLAIN") if m not in relay.mechanisms]
                return _SMTP(self.handler, **{**self.SMTP_kwargs, "auth_exclude_mechanism": excluded})

        extra = {"ssl_context": self.context} if self.implicit else {}
        if self.tls_context is not None:
            extra["tls_context"] = self.tls_context
        # aiosmtpd knows only STARTTLS as TLS: with implicit TLS, and on
        # the relay without any TLS (the gateway must not use what it
        # offers there), AUTH is offered on the plain SMTP layer.
        self._controller = _Controller(
            mwsys._SinkHandler(self), hostname=self.host, port=self.port, server_hostname="relay.test",
            ready_timeout=mwsys.TIMEOUT, authenticator=self._authenticate, auth_required=True,
            auth_require_tls=self.tls_context is not None, **extra)
        self._controller.start()
        return self


def _server_context(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


@pytest.fixture(scope="module")
def dns(ports):
    d = Dnsmasq(ports.get(), ["--host-record=relay.test,127.0.0.1"]).start()
    yield d
    d.stop()


def write_credentials(path, text, mode=0o600):
    """The credentials file as an administrator writes it: owned by the
    user the queue runs as (when the tests run as root), private."""
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    if os.geteuid() == 0:
        pw = pwd.getpwnam("mailwarden")
        os.chown(path, pw.pw_uid, pw.pw_gid)
    return path


@pytest.fixture(scope="module")
def credentials(workdir):
    return write_credentials(os.path.join(workdir, "relay-credentials"),
                             f"# the provider's relay\n{USER}  {PASSWORD}\n")


def _relay(ports, context, implicit):
    return AuthRelay(ports.get(), context, implicit).start()


@pytest.fixture(scope="module")
def relay_smtps(ports, ca):
    r = _relay(ports, _server_context(*ca.issue("relay.test")), implicit=True)
    yield r
    r.stop()


@pytest.fixture(scope="module")
def relay_starttls(ports, ca):
    r = _relay(ports, _server_context(*ca.issue("relay.test")), implicit=False)
    yield r
    r.stop()


@pytest.fixture(scope="module")
def relay_clear(ports):
    """No STARTTLS at all, but AUTH offered in clear."""
    r = _relay(ports, None, implicit=False)
    yield r
    r.stop()


@pytest.fixture(scope="module")
def relay_untrusted(ports, workdir):
    """Implicit TLS with a self-signed certificate: the gateway's CA does
    not vouch for it."""
    cert, key = certs.make_cert(os.path.join(workdir, "selfsigned"), "relay.test")
    r = _relay(ports, _server_context(cert, key), implicit=True)
    yield r
    r.stop()


@pytest.fixture(scope="module")
def gateway(make_gateway, dns, ca, credentials):
    """The gateway whose smart host is relay (one per relay, started on
    first use). No retry within a test: each message is tried once."""
    made = {}

    def get(relay):
        if relay.port not in made:
            made[relay.port] = make_gateway(
                queue={"smart_host": relay.url, "smart_host_auth": {"credentials": credentials},
                       "connection_reuse": False, "retry_min": "1h", "retry_max": "2h"},
                outbound_tls={"ca_file": ca.cert}, dns={"servers": [dns.servers]})
        return made[relay.port]
    return get


def _first_try(gw):
    """Send one message to a domain without a route (the smart host's);
    the message's token, a log mark and the queue's first delivery event."""
    token = mwsys.unique("smarthost")
    start = gw.mark()
    qid = send(gw, SENDER, [f"user@far-{token}.test"], f"Subject: {token}\r\n\r\nbody {token}\r\n")
    return token, start, gw.wait_event(proc="queue", event="delivery", queue_id=qid, start=start)


def test_smtps_relay_gets_the_message_after_auth_plain(gateway, relay_smtps):
    gw = gateway(relay_smtps)
    del relay_smtps.logins[:]
    token, start, delivery = _first_try(gw)
    assert delivery["status"] == "sent", delivery
    assert delivery["tls"].startswith("TLSv1."), delivery
    assert relay_smtps.logins == [("PLAIN", USER, PASSWORD)]
    assert relay_smtps.wait_token(token).mail_from == SENDER
    auth = gw.wait_event(proc="queue", event="client_auth", start=start)
    assert (auth["mech"], auth["user"]) == ("PLAIN", USER), auth
    # The password is in no log line, not even in base64 (the log is at debug level).
    plain = base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode()
    log = open(gw.log.path, encoding="utf-8", errors="replace").read()
    assert PASSWORD not in log and plain not in log


def test_relay_offering_only_login_gets_auth_login(gateway, relay_smtps):
    gw = gateway(relay_smtps)
    relay_smtps.mechanisms = ("LOGIN",)
    try:
        del relay_smtps.logins[:]
        token, start, delivery = _first_try(gw)
    finally:
        relay_smtps.mechanisms = ("LOGIN", "PLAIN")
    assert delivery["status"] == "sent", delivery
    assert relay_smtps.logins == [("LOGIN", USER, PASSWORD)]
    assert relay_smtps.with_token(token)


def test_a_refused_password_defers_and_logs_the_535(gateway, relay_smtps):
    gw = gateway(relay_smtps)
    relay_smtps.password = "another password"
    try:
        token, start, delivery = _first_try(gw)
    finally:
        relay_smtps.password = PASSWORD
    assert delivery["status"] == "deferred", delivery
    assert delivery["reply"].startswith("451 4.7.0") and "535" in delivery["reply"], delivery
    failed = gw.wait_event(proc="queue", event="client_auth_failed", start=start)
    assert failed["reply"].startswith("535"), failed
    assert failed["user"] == USER and PASSWORD not in str(failed), failed
    assert relay_smtps.with_token(token) == []


def test_starttls_relay_gets_the_message_after_auth(gateway, relay_starttls):
    gw = gateway(relay_starttls)
    token, start, delivery = _first_try(gw)
    assert delivery["status"] == "sent", delivery
    assert delivery["tls"].startswith("TLSv1."), delivery
    assert relay_starttls.logins == [("PLAIN", USER, PASSWORD)]
    assert relay_starttls.wait_token(token).mail_from == SENDER


def test_relay_without_starttls_never_sees_the_credentials(gateway, relay_clear):
    gw = gateway(relay_clear)
    token, start, delivery = _first_try(gw)
    assert delivery["status"] == "deferred", delivery
    assert delivery["reply"].startswith("451 4.7.5") and "STARTTLS" in delivery["reply"], delivery
    failed = gw.wait_event(proc="queue", event="client_auth_failed", start=start)
    assert "only over TLS" in failed["action"], failed
    assert relay_clear.auth_commands == [] and relay_clear.logins == []
    assert relay_clear.with_token(token) == []


def test_relay_with_an_unverifiable_certificate_gets_nothing(gateway, relay_untrusted):
    gw = gateway(relay_untrusted)
    token, start, delivery = _first_try(gw)
    assert delivery["status"] == "deferred", delivery
    assert delivery["reply"].startswith("451 4.7.5") and "certificate" in delivery["reply"], delivery
    assert relay_untrusted.auth_commands == [] and relay_untrusted.logins == []
    assert gw.events(start=start, event="client_tls_fallback") == []


def test_a_reload_reads_a_changed_password(gateway, relay_starttls, credentials):
    """The queue reads the file again on SIGHUP: a password rotated at
    the provider is fixed without a restart (and the message deferred
    with the old one goes out at its next try)."""
    gw = gateway(relay_starttls)
    relay_starttls.password = "rotated password"
    try:
        write_credentials(credentials, f"{USER} rotated password\n")
        start = gw.mark()
        os.kill(gw.master_pid, signal.SIGHUP)
        gw.wait_event(proc="master", event="reload", result="ok", start=start)
        gw.wait_event(proc="queue", event="reload", result="ok", start=start)
        gw.wait_event(proc="smtpd", event="queue_connected", start=start)
        del relay_starttls.logins[:]
        token, start, delivery = _first_try(gw)
        assert delivery["status"] == "sent", delivery
        assert relay_starttls.logins == [("PLAIN", USER, "rotated password")]
    finally:
        relay_starttls.password = PASSWORD
        write_credentials(credentials, f"{USER} {PASSWORD}\n")
