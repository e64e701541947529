"""Attack catalogue, section 7: MIME and attachment evasion (cases
110-138, SCAN-1, SCAN-6..SCAN-10), where content scanning already runs:
the YARA engine with the project's rules (EICAR), the mime check
(refuse), size limits. The attachment policy (file names, extensions,
archives) is being built under issue 12; its cases wait for it. Every
case also checks U1-U4 (attack_env)."""

import base64
import os
import shutil
import time

import pytest

import attack_env as env
import mwsys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
# The ASan+UBSan build (scripts/run-tests.sh runs the suite with both).
ASAN = "asan" in os.environ.get("MW_BIN", "")
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


@pytest.fixture(scope="module")
def internal(make_sink):
    return make_sink()


@pytest.fixture(scope="module")
def outbound(make_sink):
    return make_sink()


@pytest.fixture(scope="module")
def gw(make_gateway, ports, workdir, internal, outbound):
    rules = os.path.join(workdir, "yara")
    shutil.copytree(os.path.join(REPO, "rules", "yara"), rules)
    os.chmod(rules, 0o755)
    cfg = env.gateway_config(ports, internal, outbound)
    cfg["limits"] = {"message_size": "4M", "errors": 20}
    cfg["scan"] = {"yara": {"rules": rules}, "inbound": {"checks": {"mime": "refuse"}}}
    return make_gateway(**cfg)


def _send(gw, message):
    """message (CRLF, not yet stuffed) to u@local.test; (reply, seconds
    from the final dot to the reply)."""
    with env.Attack(gw) as a:
        c = a.prelude()
        c.send(mwsys.stuff(message) + b".\r\n")
        began = time.monotonic()
        r = c.reply()
        return r, time.monotonic() - began


def test_case_110_baseline_eicar_attachment(gw, internal, outbound):
    token = mwsys.unique("eicar")
    msg = (f"Subject: {token}\r\nMIME-Version: 1.0\r\n"
           "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
           "--b\r\nContent-Type: application/octet-stream; name=eicar.com\r\n"
           "Content-Transfer-Encoding: base64\r\n\r\n").encode() \
        + base64.encodebytes(EICAR).replace(b"\n", b"\r\n") + b"--b--\r\n"
    r, _ = _send(gw, msg)
    env.assert_refused(r, "EICAR attachment", codes=(550, 554))
    env.assert_sinks_hold(gw, internal, outbound, forbidden=[token])


def test_case_111_mime_nesting_bomb(gw, internal, outbound):
    """10 000 nested multiparts: refused at the nesting limit, fast, no crash."""
    token = mwsys.unique("nest")
    n = 10000
    msg = (f"Subject: {token}\r\nMIME-Version: 1.0\r\n"
           + "".join(f"Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n" for i in range(n))
           + "Content-Type: text/plain\r\n\r\nx\r\n"
           + "".join(f"--b{i}--\r\n" for i in reversed(range(n)))).encode()
    r, took = _send(gw, msg)
    env.assert_refused(r, "nesting bomb", codes=(550, 552, 554))
    assert took < 5, f"{took:.1f}s to judge the nesting bomb"
    env.assert_sinks_hold(gw, internal, outbound, forbidden=[token])


GMIME_REALLOC = pytest.mark.skipif(
    ASAN, reason="case 137: GMime's parser grows a folded header's buffer by small reallocs, quadratic where "
                 "realloc copies (ASan: 5 s at 20 000 continuation lines, 12.5 s at 40 000; the plain build "
                 "takes 0.25 s for 100 000, glibc's mremap hides it); needs a header-field cap before GMime "
                 "(src/content/mime.c)")

HEADER_BOMBS = {
    "137-100000-short-lines": lambda t: "".join(f"X-{i:06d}: a\r\n" for i in range(100000)) + f"Subject: {t}\r\n\r\nx\r\n",
    "137-no-blank-line": lambda t: f"Subject: {t}\r\n" + "X-A: b\r\n" * 1000,
    "137-100000-continuations": pytest.param(
        lambda t: f"Subject: {t}\r\n" + " folded\r\n" * 100000 + "\r\nx\r\n", marks=GMIME_REALLOC),
}


@pytest.mark.parametrize("make", HEADER_BOMBS.values(), ids=HEADER_BOMBS.keys())
def test_case_137_header_size_bombs(gw, internal, outbound, make):
    """552 5.3.4 (or handled deterministically, without quadratic time);
    no crash (U1)."""
    token = mwsys.unique("hbomb")
    r, took = _send(gw, make(token).encode())
    assert r.code in (250, 552, 554), r
    assert took < 5, f"{took:.1f}s for a header bomb"
    if r.code == 250:
        msg = internal.wait_token(token)
        env.assert_clean_header_block(msg.data)


def test_case_134_two_from_fields(gw, internal, outbound):
    """RFC 5322 3.6 allows exactly one From: refused."""
    token = mwsys.unique("twofrom")
    r, _ = _send(gw, (f"From: <first@attack.test>\r\nFrom: <admin@legitimate.test>\r\nSubject: {token}\r\n"
                      "\r\nx\r\n").encode())
    env.assert_refused(r, "two From fields")
    env.assert_sinks_hold(gw, internal, outbound, forbidden=[token])


WAITS_FOR_ATTACHMENTS = "waits for the attachment policy (issue 12)"


@pytest.mark.parametrize("case", ["117-double-extensions", "118-rtlo-names", "119-rfc2231-continuations",
                                  "122-declared-type-vs-content", "127-tnef"])
def test_case_attachment_policy(case):
    pytest.skip(f"case {case.split('-')[0]}: {WAITS_FOR_ATTACHMENTS}")


NOT_IN_THIS_SLICE = {
    "112-zip-bomb": "needs 42.zip and the archive limits of the attachment policy (issue 12)",
    "116-encrypted-archives": "covered by tests/system/malware/test_encryption.py (SCAN-10); not repeated here",
    "125-inline-uuencode": "covered by the salvage view's evasion set (tests/system/malware/test_evasion_set.py)",
    "126-embedded-message": "not written yet (needs an eicar.zip in message/rfc822; archives wait for issue 12)",
    "128-multiple-boundaries": "covered by the evasion set (tests/system/malware/test_evasion_set.py)",
    "132-header-end-folding": "not written yet",
    "133-line-ends-8bit": "not written yet (8BITMIME downgrade: tests/system/delivery/test_8bit_downgrade.py)",
    "135-encrypted-signed": "covered by tests/system/malware/test_encryption.py",
    "136-scanner-limits-outages": "covered by tests/system/malware/test_malware_engines.py (clamd down, slow)",
    "138-mime-is-broken": "covered by tests/system/malware/test_evasion_set.py (the hide-content set); "
                          "hide-filename waits for the attachment policy (issue 12)",
}


@pytest.mark.parametrize("case", NOT_IN_THIS_SLICE.keys())
def test_case_not_in_this_slice(case):
    pytest.skip(f"case {case.split('-')[0]}: {NOT_IN_THIS_SLICE[case]}")
