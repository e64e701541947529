"""DKIM and DMARC (issue 11; SCAN-1, SCAN-2): inbound signatures verified
with keys that dnsmasq serves, DMARC policies applied as the configuration
says, every result in the one Authentication-Results field (RFC 8601), and
outbound mail signed by the gateway so that an independent verifier
(dkimpy, Debian's python3-dkim) accepts it.

The keys are made by `mailwarden dkim-keygen`; the test signs its inbound
messages with dkimpy, so signer and verifier are never the same code."""

import base64
import json
import os
import subprocess
import sys

import pytest

import mwsys
from scan_env import DnsServer

sys.path.append("/usr/lib/python3/dist-packages")  # Debian's python3-dkim
import dkim  # noqa: E402

TRUSTED = "127.0.0.10"
SIGNED = "signed.test"        # publishes sel1's key and p=reject
NOPOLICY = "plain.test"       # publishes a key, no DMARC record
REJECT = "reject.test"        # p=reject, no key
QUARANTINE = "quar.test"      # p=quarantine, sp=reject for its subdomains
OUR = "corp.test"             # the gateway signs for it


def keygen(mw_bin, workdir, domain, selector):
    """A key made by `mailwarden dkim-keygen`: (private key file, TXT text)."""
    path = os.path.join(workdir, f"{selector}.{domain}.pem")
    out = subprocess.run([mw_bin, "dkim-keygen", domain, selector, "--out", path],
                         capture_output=True, text=True, check=True)
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    # 'sel._domainkey.d. IN TXT ( "part" "part" )': the parts joined
    text = "".join(out.stdout.split("(", 1)[1].rsplit(")", 1)[0].split('"')[1::2])
    assert text.startswith("v=DKIM1; k=rsa; p=")
    os.chmod(path, 0o644)  # the scanner's unprivileged user reads it before its chroot
    return path, text


def txt(name, text):
    """dnsmasq's option for a TXT record of 250-byte strings."""
    parts = [text[i:i + 250] for i in range(0, len(text), 250)]
    return f"--txt-record={name}," + ",".join(parts)


@pytest.fixture(scope="module")
def keys(mw_bin, workdir):
    return {d: keygen(mw_bin, workdir, d, "sel1") for d in (SIGNED, NOPOLICY, OUR)}


@pytest.fixture(scope="module")
def dns(workdir, ports, keys):
    extra = [txt(f"sel1._domainkey.{d}", keys[d][1]) for d in (SIGNED, NOPOLICY)]
    extra += [txt(f"_dmarc.{SIGNED}", "v=DMARC1; p=reject"),
              txt(f"_dmarc.{REJECT}", "v=DMARC1; p=reject"),
              txt(f"_dmarc.{QUARANTINE}", "v=DMARC1; p=quarantine; sp=reject")]
    server = DnsServer(workdir, ports.get(), extra)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def sink(make_sink):
    return make_sink()


def scan_config(dns_servers, dmarc, keys=None):
    cfg = {"dns_servers": dns_servers, "dns_timeout_ms": 500,
           "inbound": {"checks": {"dkim": {"action": "score", "points": 3}, "dmarc": dmarc},
                       "quarantine": 50}}
    if keys:
        cfg["dkim_sign"] = [{"domain": OUR, "selector": "sel1", "key": keys[OUR][0]}]
    return cfg


@pytest.fixture(scope="module")
def gw(make_gateway, dns, sink, keys):
    return make_gateway(sink=sink, scan=scan_config(dns.servers, "refuse", keys))


@pytest.fixture(scope="module")
def gw_scoring(make_gateway, dns, sink):
    """DMARC p=reject as points instead of a refusal."""
    return make_gateway(sink=sink, scan=scan_config(dns.servers, {"action": "score", "points": 7}))


@pytest.fixture(scope="module")
def gw_nodns(make_gateway, sink):
    """Its DNS is a closed port: every lookup fails."""
    return make_gateway(sink=sink, scan=scan_config("127.0.0.1:1", "refuse"))


def message(token, domain, body=b"Hello from the DKIM tests.\r\n"):
    return (f"From: Sender <someone@{domain}>\r\nTo: user@example.test\r\nSubject: {token}\r\n"
            f"Date: Mon, 07 Dec 2026 02:00:00 +0000\r\nMessage-ID: <{token}@{domain}>\r\n\r\n").encode() + body


def signed(token, domain, keys):
    msg = message(token, domain)
    key = open(keys[domain][0], "rb").read()
    return dkim.sign(msg, b"sel1", domain.encode(), key, include_headers=[b"from", b"to", b"subject", b"date"]) + msg


def authentication_results(data):
    """The Authentication-Results field of a delivered message, unfolded."""
    head = data.split(b"\r\n\r\n", 1)[0].decode()
    fields = [f for f in head.replace("\r\n\t", " ").replace("\r\n ", " ").split("\r\n")
              if f.lower().startswith("authentication-results:")]
    assert len(fields) == 1, fields
    return fields[0]


def verdict_of(gw, start, final):
    return gw.wait_event(start=start, proc="queue", event="scan_verdict", queue_id=mwsys.queue_id(final))


def test_a_signature_whose_key_dnsmasq_serves_verifies(gw, sink, keys):
    start = gw.mark()
    final = mwsys.send_message(gw, signed("dkim-good", NOPOLICY, keys))
    assert final.code == 250, final
    ar = authentication_results(sink.wait_token("dkim-good").data)
    assert ar.startswith("Authentication-Results: mx.gw.test;"), ar
    assert f"dkim=pass header.d={NOPOLICY} header.s=sel1" in ar, ar
    assert f"dmarc=none header.from={NOPOLICY}" in ar, ar
    symbols = verdict_of(gw, start, final)["symbols"]
    assert "DKIM_VALID(0)" in symbols and "DKIM_VALID_AU(0)" in symbols, symbols
    assert "DKIM_INVALID" not in symbols


def test_a_changed_body_fails_and_scores(gw, sink, keys):
    start = gw.mark()
    msg = signed("dkim-changed", NOPOLICY, keys).replace(b"Hello from", b"Hello FROM")
    final = mwsys.send_message(gw, msg)
    assert final.code == 250, final
    ar = authentication_results(sink.wait_token("dkim-changed").data)
    assert f"dkim=fail (body hash mismatch) header.d={NOPOLICY} header.s=sel1" in ar, ar
    symbols = verdict_of(gw, start, final)["symbols"]
    assert "DKIM_INVALID(3)" in symbols and "DKIM_VALID" not in symbols, symbols


def test_dmarc_passes_with_an_aligned_signature(gw, sink, keys):
    final = mwsys.send_message(gw, signed("dmarc-pass", SIGNED, keys))
    assert final.code == 250, final
    ar = authentication_results(sink.wait_token("dmarc-pass").data)
    assert f"dmarc=pass header.from={SIGNED}" in ar, ar


@pytest.mark.parametrize("domain,why", [(REJECT, "no signature"), (SIGNED, "a broken signature")])
def test_dmarc_reject_policy_refuses(gw, keys, domain, why):
    msg = message("dmarc-reject", domain) if domain == REJECT else \
        signed("dmarc-reject", domain, keys).replace(b"Hello", b"HELLO")
    final = mwsys.send_message(gw, msg)
    assert final.code == 550, (why, final)
    assert "DMARC" in final.text


def test_dmarc_reject_policy_scores_when_configured_so(gw_scoring, sink):
    start = gw_scoring.mark()
    final = mwsys.send_message(gw_scoring, message("dmarc-score", REJECT))
    assert final.code == 250, final
    assert "DMARC_REJECT(7)" in verdict_of(gw_scoring, start, final)["symbols"]
    ar = authentication_results(sink.wait_token("dmarc-score").data)
    assert f"dmarc=fail (p=reject) header.from={REJECT}" in ar, ar
    assert "dkim=none" in ar, ar


def test_dmarc_quarantine_policy_adds_the_checks_points(gw_scoring):
    start = gw_scoring.mark()
    final = mwsys.send_message(gw_scoring, message("dmarc-quar", QUARANTINE))
    assert final.code == 250, final
    assert "DMARC_QUAR(7)" in verdict_of(gw_scoring, start, final)["symbols"]


def test_a_subdomain_without_a_record_gets_its_organizational_domains_sp(gw_scoring, sink, dns):
    """RFC 7489 6.6.3: no _dmarc.sub.quar.test, so quar.test's record, and
    its sp= for subdomains."""
    start = gw_scoring.mark()
    final = mwsys.send_message(gw_scoring, message("dmarc-sub", f"sub.{QUARANTINE}"))
    assert final.code == 250, final
    assert "DMARC_REJECT(7)" in verdict_of(gw_scoring, start, final)["symbols"]
    ar = authentication_results(sink.wait_token("dmarc-sub").data)
    assert f"dmarc=fail (p=reject) header.from=sub.{QUARANTINE}" in ar, ar
    log = open(dns.log).read()
    assert f"query[TXT] _dmarc.sub.{QUARANTINE} " in log and f"query[TXT] _dmarc.{QUARANTINE} " in log


def test_dns_down_is_a_temporary_error_never_a_refusal(gw_nodns, sink, keys):
    final = mwsys.send_message(gw_nodns, signed("dkim-nodns", SIGNED, keys))
    assert final.code == 250, final
    ar = authentication_results(sink.wait_token("dkim-nodns").data)
    assert f"dkim=temperror (key lookup failed or timed out) header.d={SIGNED}" in ar, ar
    assert f"dmarc=temperror header.from={SIGNED}" in ar, ar


def test_outbound_mail_is_signed_and_an_independent_verifier_accepts_it(gw, sink, keys):
    record = keys[OUR][1].encode()
    final = mwsys.send_message(gw, message("dkim-out", OUR), source=TRUSTED)
    assert final.code == 250, final
    data = sink.wait_token("dkim-out").data
    assert b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=corp.test; s=sel1;" in data, data[:600]
    # the queue's own fields are added in front, and not signed
    assert data.startswith(b"Authentication-Results: mx.gw.test"), data[:200]
    signed_fields = data.split(b"h=", 1)[1].split(b";", 1)[0].lower()
    assert b"authentication-results" not in signed_fields and b"received" not in signed_fields

    def dnsfunc(name, timeout=5):
        assert name == b"sel1._domainkey.corp.test.", name
        return record
    assert dkim.verify(data, dnsfunc=dnsfunc), data[:800]
    assert not dkim.verify(data.replace(b"Hello", b"HELLO"), dnsfunc=dnsfunc)


@pytest.fixture(scope="module")
def gw_holding(make_gateway, dns, sink, keys):
    """Signs corp.test; outbound, a forbidden attachment is stripped and
    GTUBE held in quarantine."""
    cfg = scan_config(dns.servers, "refuse", keys)
    cfg["outbound"] = {"checks": {"attachments": "strip", "gtube": {"action": "quarantine", "points": 0}},
                       "refuse": 50}
    return make_gateway(sink=sink, scan=cfg)


# A minimal PE ("MZ", e_lfanew at 0x3c pointing at "PE\0\0"): an executable by content.
PE = b"MZ" + bytes(0x3a) + (0x40).to_bytes(4, "little") + b"PE\0\0" + bytes(200)


def with_exe(token):
    head = message(token, OUR, body=b"").rstrip(b"\r\n") + b"\r\n"
    return head + b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=bnd\r\n\r\n" \
        b"--bnd\r\nContent-Type: text/plain\r\n\r\nHello from the DKIM tests.\r\n" \
        b"--bnd\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; " \
        b"filename=\"setup.exe\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + \
        base64.encodebytes(PE).replace(b"\n", b"\r\n") + b"--bnd--\r\n"


def verifies(data, keys):
    record = keys[OUR][1].encode()
    return dkim.verify(data, dnsfunc=lambda name, timeout=5: record)


def release(gw, sink, qid, token, count):
    """Release qid; the messages with token at the sink once there are count."""
    start = gw.mark()
    r = subprocess.run([gw.binary, "quarantine", "-c", gw.config_path, "release", qid], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    gw.wait_event(start=start, proc="queue", event="delivery", status="sent")
    return sink.wait_for(lambda m: token.encode() in m.data, count=count)


def test_a_stripped_message_and_its_released_original_each_carry_a_valid_signature(gw_holding, sink, keys):
    """SCAN-8 with signing: the stripped message is signed as delivered,
    and the original, released later, with a signature of its own (the
    stripped copy's would fail on it)."""
    token = "dkim-strip"
    sent = with_exe(token)
    start = gw_holding.mark()
    final = mwsys.send_message(gw_holding, sent, source=TRUSTED)
    assert final.code == 250, final
    stripped = sink.wait_token(token).data
    assert base64.encodebytes(PE).split(b"\n")[0] not in stripped
    assert b"setup.exe was removed" in stripped, stripped[-600:]
    assert verifies(stripped, keys), stripped[:800]
    qid = mwsys.queue_id(final)
    gw_holding.wait_event(start=start, proc="queue", event="quarantined", queue_id=qid)
    both = release(gw_holding, sink, qid, token, 2)
    released = [m.data for m in both if b"setup.exe was removed" not in m.data]
    assert len(released) == 1, [m.data[:200] for m in both]
    assert released[0].startswith(b"DKIM-Signature: v=1;"), released[0][:300]
    assert released[0].endswith(sent), "the original as received, after the signature"
    assert verifies(released[0], keys), released[0][:800]
    assert not verifies(released[0].replace(b"Hello", b"HELLO"), keys)


def test_a_held_outbound_message_is_released_signed(gw_holding, sink, keys):
    token = "dkim-held"
    gtube = b"XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\r\n"
    sent = message(token, OUR, body=gtube)
    final = mwsys.send_message(gw_holding, sent, source=TRUSTED)
    assert final.code == 250, final
    released = release(gw_holding, sink, mwsys.queue_id(final), token, 1)[0].data
    assert released.startswith(b"DKIM-Signature: v=1;") and released.endswith(sent), released[:300]
    assert verifies(released, keys), released[:800]


@pytest.fixture(scope="module")
def gw_tagging(make_gateway, dns, sink, keys):
    """Signs corp.test, and tags outbound GTUBE mail with a subject prefix."""
    cfg = scan_config(dns.servers, "refuse", keys)
    cfg["outbound"] = {"checks": {"gtube": {"action": "score", "points": 10}}, "tag": 5, "subject_prefix": "[SPAM]"}
    return make_gateway(sink=sink, scan=cfg)


def test_a_subject_prefix_would_break_the_signature_so_it_is_left_out(gw_tagging, sink):
    start = gw_tagging.mark()
    gtube = b"XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\r\n"
    final = mwsys.send_message(gw_tagging, message("dkim-tagged", OUR, body=gtube), source=TRUSTED)
    assert final.code == 250, final
    data = sink.wait_token("dkim-tagged").data
    assert b"Subject: [SPAM] dkim-tagged" in data
    assert b"DKIM-Signature" not in data
    gw_tagging.wait_event(start=start, proc="queue", event="scanner_headers_dropped",
                          queue_id=mwsys.queue_id(final))


def test_inbound_mail_is_not_signed(gw, sink):
    final = mwsys.send_message(gw, message("dkim-in-unsigned", OUR))
    assert final.code == 250, final
    assert b"DKIM-Signature" not in sink.wait_token("dkim-in-unsigned").data


# SpamAssassin's DKIM plugin's tests in content rules (SCAN-5, issue 11):
# answered from the scanner's own verification; names of our own so that
# they cannot be confused with the dkim check's symbols.
DKIM_RULES = """ifplugin Mail::SpamAssassin::Plugin::DKIM
full R_SIGNED eval:check_dkim_signed()
score R_SIGNED 0.1
full R_VALID eval:check_dkim_valid()
score R_VALID 0.2
full R_VALID_AU eval:check_dkim_valid_author_sig()
score R_VALID_AU 0.3
full R_VALID_EF eval:check_dkim_valid_envelopefrom()
score R_VALID_EF 0.4
meta R_INVALID R_SIGNED && !R_VALID
score R_INVALID 1.5
full BLOCK_READ /^DKIM-Signature:/m
endif
"""


@pytest.fixture(scope="module")
def dkim_rules(tmp_path_factory):
    return mwsys.write_rule_dir(tmp_path_factory.mktemp("dkimrules"), DKIM_RULES)


@pytest.fixture(scope="module")
def gw_rules(make_gateway, dns, sink, dkim_rules):
    cfg = scan_config(dns.servers, {"action": "score", "points": 0})
    cfg["rules"] = [str(dkim_rules)]
    cfg["inbound"]["checks"]["rules"] = "score"
    return make_gateway(sink=sink, scan=cfg)


def rule_hits(symbols):
    """The hits of DKIM_RULES in a verdict's "A(1),B(2)" list, sorted."""
    return sorted(s for s in symbols.split(",") if s.startswith("R_"))


def test_dkim_rules_hit_on_a_verified_signature(gw_rules, keys):
    start = gw_rules.mark()
    final = mwsys.send_message(gw_rules, signed("dkim-rules-good", NOPOLICY, keys), sender=f"bounce@{NOPOLICY}")
    assert final.code == 250, final
    symbols = verdict_of(gw_rules, start, final)["symbols"]
    assert rule_hits(symbols) == ["R_SIGNED(0.1)", "R_VALID(0.2)", "R_VALID_AU(0.3)", "R_VALID_EF(0.4)"], symbols


def test_dkim_rules_see_a_broken_signature_as_signed_not_valid(gw_rules, keys):
    start = gw_rules.mark()
    msg = signed("dkim-rules-bad", NOPOLICY, keys).replace(b"Hello from", b"Hullo from")
    final = mwsys.send_message(gw_rules, msg)
    assert final.code == 250, final
    symbols = verdict_of(gw_rules, start, final)["symbols"]
    assert rule_hits(symbols) == ["R_INVALID(1.5)", "R_SIGNED(0.1)"], symbols


def test_dkim_rules_stay_quiet_in_the_scan_command_like_spamassassin_without_dns(mw_bin, dkim_rules, keys,
                                                                                tmp_path):
    """`mailwarden scan` fetches no keys; SpamAssassin -L then does not
    look at signatures at all: not even the signed rule hits."""
    config = tmp_path / "scan.yaml"
    config.write_text(f"hostname: mx.gw.test\nscan:\n  rules: [{dkim_rules}]\n  inbound:\n    checks: {{rules: score}}\n")
    path = tmp_path / "signed.eml"
    path.write_bytes(signed("dkim-rules-cli", NOPOLICY, keys))
    r = subprocess.run([mw_bin, "scan", "-c", str(config), "--json", str(path)], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    assert [s["symbol"] for s in json.loads(r.stdout)["symbols"]] == ["BLOCK_READ"], "the block is read, no eval hits"
