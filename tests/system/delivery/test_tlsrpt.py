"""TLS-RPT (RFC 8460, TLS-8, issue 17): the gateway counts the TLS sessions
of deliveries under an MTA-STS policy per policy domain and UTC day, shows
them (`mailwarden tlsrpt show`), and sends each domain whose
"_smtp._tls" TXT record names a mailto: address the day's report: gzipped
JSON (RFC 8460 4) in a multipart/report; report-type="tlsrpt" mail (5.3).

Reuses the MTA-STS setup of test_mta_sts.py (dnsmasq, the HTTPS policy
host, a throwaway CA): each policy domain's MX is a sink on its own
127.0.0.x address; reports.test's MX is a plain sink where the reports
arrive."""

import datetime
import email
import email.policy
import gzip
import json
import os
import socket
import subprocess

import pytest

import certs
import mwsys
import test_mta_sts
from peers import Dnsmasq, send
from policy_host import PolicyHost
from test_mta_sts import _answer, _policy

MX = {"rptest": "127.0.0.71", "rpgood": "127.0.0.72", "rpclear": "127.0.0.73", "reports": "127.0.0.74",
      "rptwo": "127.0.0.75", "rptwo0": "127.0.0.76", "rpfetch": "127.0.0.77", "rpinvalid": "127.0.0.78"}
RUA = "tlsrpt@reports.test"

test_mta_sts.POLICIES.update({
    "rptest.test": _policy("testing", "mx.rptest.test"),
    "rpgood.test": _policy("testing", "mx.rpgood.test"),
    "rpclear.test": _policy("testing", "mx.rpclear.test"),
    "rptwo.test": _policy("enforce", "*.rptwo.test"),
    # rpfetch.test has none: its policy host answers 404
    "rpinvalid.test": "version: STSv1\r\nmode: strict\r\nmx: mx.rpinvalid.test\r\nmax_age: 86400\r\n",
})


def _records(workdir):
    recs = []
    for name, addr in MX.items():
        if name == "rptwo0":
            continue
        domain = f"{name}.test"
        recs += [f"--mx-host={domain},mx.{domain},10", f"--host-record=mx.{domain},{addr}"]
        if name != "reports":
            recs += [f"--host-record=mta-sts.{domain},127.0.0.1",
                     f"--txt-record=_mta-sts.{domain},v=STSv1; id=1;"]
    # rptwo's first MX shows a certificate for another name; the second is good
    recs += ["--mx-host=rptwo.test,mx0.rptwo.test,5", f"--host-record=mx0.rptwo.test,{MX['rptwo0']}"]
    # rptest and rpclear publish where reports go; rpgood and rptwo publish nothing
    recs += [f"--txt-record=_smtp._tls.rptest.test,v=TLSRPTv1; rua=mailto:{RUA}",
             f"--conf-file={_conf_file(workdir)}"]
    return recs


def _conf_file(workdir):
    """rpclear's record has two URIs; a comma on dnsmasq's command line ends a
    TXT string, in its configuration file a quoted one does not."""
    path = os.path.join(workdir, "tlsrpt-dnsmasq.conf")
    with open(path, "w") as f:
        f.write(f'txt-record=_smtp._tls.rpclear.test,"v=TLSRPTv1;rua=https://reports.test/x,mailto:{RUA}"\n')
    return path


@pytest.fixture(scope="module")
def mx_port(ports):
    """A port free on every sink's address (Ports checks 127.0.0.1 only)."""
    while True:
        port = ports.get()
        try:
            for addr in MX.values():
                with socket.socket() as s:
                    s.bind((addr, port))
            return port
        except OSError:
            continue


@pytest.fixture(scope="module")
def dns(ports, workdir):
    d = Dnsmasq(ports.get(), _records(workdir)).start()
    yield d
    d.stop()


@pytest.fixture(scope="module")
def policy_host(ports, ca):
    cert, key = ca.issue("mta-sts.test", [f"DNS:mta-sts.{n}.test" for n in MX if n not in ("reports", "rptwo0")])
    host = PolicyHost(ports.get(), cert, key, _answer)
    yield host
    host.stop()


@pytest.fixture(scope="module")
def mx_sinks(mx_port, ca):
    """rptest and rptwo's first MX show a certificate of the trusted CA for
    another name; rpgood and rptwo's second MX one for their MX name;
    rpclear and reports offer no STARTTLS."""
    sinks = {}
    for name, addr in MX.items():
        context = None
        if name in ("rptest", "rpgood", "rptwo", "rptwo0"):
            cn = "wrong.test" if name in ("rptest", "rptwo0") else f"mx.{name}.test"
            context = certs.server_context(*ca.issue(cn, [f"DNS:{cn}"]))
        sinks[name] = mwsys.Sink(mx_port, host=addr, tls_context=context).start()
    yield sinks
    for s in sinks.values():
        s.stop()


def _gateway(make_gateway, sink, dns, mx_port, policy_host, ca, tlsrpt):
    return make_gateway(sink=sink, dns={"servers": [dns.servers]},
                        queue={"mx_port": mx_port, "retry_min": "1s", "retry_max": "1s"},
                        outbound_tls={"level": "may", "ca_file": ca.cert,
                                      "mta_sts": {"enabled": True, "ca_file": ca.cert, "fetch_timeout_ms": 3000,
                                                  "https_port": policy_host.port},
                                      "tlsrpt": tlsrpt})


@pytest.fixture(scope="module")
def gw(make_gateway, sink, dns, mx_sinks, mx_port, policy_host, ca):
    return _gateway(make_gateway, sink, dns, mx_port, policy_host, ca,
                    {"enabled": True, "from": "tlsrpt@gw.example.test", "organization": "Example Gateway Org",
                     "contact": "postmaster@gw.example.test"})


def _tlsrpt(gw, *args):
    return subprocess.run([gw.binary, "tlsrpt", "-c", gw.config_path, *args], capture_output=True, text=True,
                          timeout=30)


def _deliver(gw, mx_sinks, domain):
    token = mwsys.unique(domain.split(".")[0])
    start = gw.mark()
    body = f"From: sender@example.test\r\nSubject: {token}\r\nMessage-ID: <{token}@example.test>\r\n\r\n{token}\r\n"
    qid = send(gw, "sender@example.test", [f"user@{domain}"], body)
    mx_sinks[domain.split(".")[0]].wait_token(token)
    return gw.wait_delivered(qid, start=start)


def _today():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")


@pytest.fixture(scope="module")
def delivered(gw, mx_sinks):
    """One delivery each: a host-mismatch failure, a success, no STARTTLS,
    (enforce) a failure on the first MX, then a success on the second, and
    two policies that cannot be had (delivered as under may)."""
    return {d: _deliver(gw, mx_sinks, d) for d in ("rptest.test", "rpgood.test", "rpclear.test", "rptwo.test",
                                                   "rpfetch.test", "rpinvalid.test")}


def test_testing_mode_failure_and_success_are_counted_and_shown(gw, delivered):
    """TLS-8: testing delivers; the session's failure is counted with the
    RFC's result type; a verified session counts as a success."""
    assert delivered["rptest.test"]["tls_verified"] == "no"
    assert delivered["rpgood.test"]["tls_verified"] == "yes"
    p = _tlsrpt(gw, "show")
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert f"day {_today()}" in out
    assert "domain rptest.test policy sts\n  failure certificate-host-mismatch 1 mx mx.rptest.test ip 127.0.0.71" \
        in out, out
    assert "domain rpgood.test policy sts\n  success 1\n" in out, out
    assert "domain rpclear.test policy sts\n  failure starttls-not-supported 1 mx mx.rpclear.test ip 127.0.0.73" \
        in out, out
    assert "domain rptwo.test policy sts\n  success 1\n" \
        "  failure certificate-host-mismatch 1 mx mx0.rptwo.test ip 127.0.0.76 reason hostname mismatch\n" in out, out
    assert "domain rpfetch.test policy no-policy-found\n  failure sts-policy-fetch-error 1 mx - ip - reason " \
        "fetch of https://mta-sts.rpfetch.test/.well-known/mta-sts.txt: HTTP status 404" in out, out
    assert "domain rpinvalid.test policy no-policy-found\n  failure sts-policy-invalid 1 mx - ip - reason " \
        "policy of rpinvalid.test is invalid: " in out, out
    assert "total success 2 failure 5" in out, out
    one = _tlsrpt(gw, "show", "rpgood.test").stdout
    assert "rptest.test" not in one and "total success 1 failure 0" in one, one


def _report(mx_sinks, domain):
    msg = mx_sinks["reports"].wait_for(lambda m: f"TLS-Report-Domain: {domain}".encode() in m.data)[0]
    return msg, email.message_from_bytes(msg.data, policy=email.policy.default)


def test_daily_report_is_sent_to_the_rua_address_as_rfc8460_json(gw, delivered, mx_sinks):
    """TLS-8: the report of the day for each domain with a TLS-RPT record,
    by mail (RFC 8460 5.3), its JSON as section 4 says."""
    start = gw.mark()
    p = _tlsrpt(gw, "send", "--day", _today())
    assert p.returncode == 0, p.stderr
    assert "6 report(s)" in p.stdout, p.stdout
    msg, parsed = _report(mx_sinks, "rptest.test")
    assert msg.mail_from == "tlsrpt@gw.example.test" and msg.rcpt_tos == [RUA]
    assert parsed["From"].addresses[0].addr_spec == "tlsrpt@gw.example.test"
    assert parsed["TLS-Report-Submitter"] == gw.config["hostname"]
    subject = str(parsed["Subject"])
    assert subject.startswith("Report Domain: rptest.test Submitter: ") and " Report-ID: <" in subject
    assert parsed.get_content_type() == "multipart/report"
    assert parsed.get_param("report-type") == "tlsrpt"
    parts = [p for p in parsed.iter_parts() if p.get_content_type() == "application/tlsrpt+gzip"]
    assert len(parts) == 1
    assert parts[0].get_filename().endswith(".json.gz") and "!rptest.test!" in parts[0].get_filename()
    report = json.loads(gzip.decompress(parts[0].get_content()))
    assert report["organization-name"] == "Example Gateway Org"
    assert report["contact-info"] == "postmaster@gw.example.test"
    assert report["date-range"] == {"start-datetime": f"{_today()}T00:00:00Z",
                                    "end-datetime": f"{_today()}T23:59:59Z"}
    assert f"<{report['report-id']}>" in subject
    assert len(report["policies"]) == 1
    pol = report["policies"][0]
    assert pol["policy"] == {"policy-type": "sts", "policy-domain": "rptest.test", "mx-host": ["mx.rptest.test"],
                             "policy-string": ["version: STSv1", "mode: testing", "mx: mx.rptest.test",
                                               "max_age: 86400"]}
    assert pol["summary"] == {"total-successful-session-count": 0, "total-failure-session-count": 1}
    [detail] = pol["failure-details"]
    assert detail["result-type"] == "certificate-host-mismatch"
    assert detail["receiving-mx-hostname"] == "mx.rptest.test"
    assert detail["receiving-ip"] == MX["rptest"]
    assert detail["sending-mta-ip"].startswith("127."), detail
    assert detail["failed-session-count"] == 1

    # rpclear: an https: URI beside the mailto: one (mail only; logged)
    _, clear = _report(mx_sinks, "rpclear.test")
    part = next(p for p in clear.iter_parts() if p.get_content_type() == "application/tlsrpt+gzip")
    clear_report = json.loads(gzip.decompress(part.get_content()))
    assert clear_report["policies"][0]["failure-details"][0]["result-type"] == "starttls-not-supported"
    gw.wait_event(proc="queue", event="tlsrpt_https_skipped", domain="rpclear.test", start=start)
    # rpgood publishes no record: no report, and it is not tried again
    gw.wait_event(proc="queue", event="tlsrpt_no_report", domain="rpgood.test", start=start)
    again = _tlsrpt(gw, "send", "--day", _today())
    assert again.returncode == 0 and "0 report(s)" in again.stdout, again.stdout


def test_bad_arguments_are_refused(gw):
    assert _tlsrpt(gw, "show", "--day", "2026-02-30").returncode != 0
    assert _tlsrpt(gw, "send", "example.test").returncode == 2
    assert _tlsrpt(gw, "frobnicate").returncode == 2


def test_no_counts_and_no_report_when_disabled(make_gateway, sink, dns, mx_sinks, mx_port, policy_host, ca):
    """Off by default: nothing is counted, no store is made, the commands say so."""
    off = _gateway(make_gateway, sink, dns, mx_port, policy_host, ca, {"enabled": False})
    start = off.mark()
    _deliver(off, mx_sinks, "rptest.test")
    p = _tlsrpt(off, "show")
    assert p.returncode == 1 and "TLS-RPT is off" in p.stderr, p.stderr
    p = _tlsrpt(off, "send")
    assert p.returncode == 1 and "TLS-RPT is off" in p.stderr, p.stderr
    assert not os.path.exists(off.path("tlsrpt", "sessions.db"))
    assert off.events(start=start, proc="queue", event="tlsrpt_session") == []
