"""Attack catalogue, section 7: MIME and attachment evasion (cases
110-138, SCAN-1, SCAN-6..SCAN-10), where content scanning already runs:
the YARA engine with the project's rules (EICAR), the mime check
(refuse), size limits, and the attachment policy (file names,
extensions, content types, archives). Every case also checks U1-U4
(attack_env)."""

import base64
import os
import shutil
import time

import pytest

import attack_env as env
import mwsys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
# The ASan+UBSan build (scripts/run-tests.sh runs the suite with both).
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


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


HEADER_BOMBS = {
    "137-100000-short-lines": lambda t: "".join(f"X-{i:06d}: a\r\n" for i in range(100000)) + f"Subject: {t}\r\n\r\nx\r\n",
    "137-no-blank-line": lambda t: f"Subject: {t}\r\n" + "X-A: b\r\n" * 1000,
    "137-100000-continuations": lambda t: f"Subject: {t}\r\n" + " folded\r\n" * 100000 + "\r\nx\r\n",
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


def test_case_137_a_field_over_100_kib_is_refused_by_smtpd(gw, internal, outbound):
    """One field folded over 100 KiB (Postfix's header_size_limit) is
    refused at the final dot, before any parser sees it: GMime grows a
    folded field's buffer in small reallocs, quadratic where realloc
    copies (12.5 s at 40 000 continuation lines under ASan)."""
    token = mwsys.unique("hfield")
    r, took = _send(gw, (f"Subject: {token}\r\nX-Fold: a\r\n" + " folded\r\n" * 12000 + "\r\nx\r\n").encode())
    assert r.code == 552 and r.enhanced == "5.3.4" and "header field" in r.text, r
    assert took < 5, f"{took:.1f}s"
    env.assert_sinks_hold(gw, internal, outbound, forbidden=[token])
    token = mwsys.unique("hfield-ok")
    r, _ = _send(gw, (f"Subject: {token}\r\nX-Fold: a\r\n" + " folded\r\n" * 10000 + "\r\nx\r\n").encode())
    assert r.code == 250, "a field of 90 KiB is still taken"
    internal.wait_token(token)


def test_case_134_two_from_fields(gw, internal, outbound):
    """RFC 5322 3.6 allows exactly one From: refused."""
    token = mwsys.unique("twofrom")
    r, _ = _send(gw, (f"From: <first@attack.test>\r\nFrom: <admin@legitimate.test>\r\nSubject: {token}\r\n"
                      "\r\nx\r\n").encode())
    env.assert_refused(r, "two From fields")
    env.assert_sinks_hold(gw, internal, outbound, forbidden=[token])


@pytest.fixture(scope="module")
def strict(make_gateway, ports, internal, outbound):
    """The attachment policy with disk images forbidden too (the default
    forbids executables, scripts, macros and shortcuts)."""
    cfg = env.gateway_config(ports, internal, outbound)
    cfg["limits"] = {"message_size": "8M", "errors": 20}
    cfg["scan"] = {"attachments": {"forbid_classes": ["executable", "script", "macro", "shortcut", "diskimage"]}}
    return make_gateway(**cfg)


def _with_part(token, headers, payload):
    """A two-part message: text, then a part with the given header lines
    (bytes, CRLF-joined by the caller) and payload in base64."""
    b64 = base64.encodebytes(payload).replace(b"\n", b"\r\n")
    return (b"From: <a@attack.test>\r\nTo: <u@local.test>\r\nSubject: " + token.encode() +
            b"\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
            b"--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
            b"--b\r\n" + headers + b"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64 + b"--b--\r\n")


def _blocked(gw, internal, outbound, token, headers, payload, what):
    r, seconds = _send(gw, _with_part(token, headers, payload))
    env.assert_refused(r, what, codes=(554,))
    assert "attachment not allowed" in r.text, f"{what}: {r}"
    env.assert_sinks_hold(gw, internal, outbound, forbidden=[token])


ODD_NAMES = ["invoice.pdf.exe", "invoice.ExE", "invoice.pdf.scr", "invoice.pdf.lnk", "invoice.iso", "invoice.img",
             "invoice.vhd", "invoice.hta", "invoice.js", "invoice.wsf", "invoice.one", "invoice.chm", "invoice.msi",
             "invoice.xll"]


@pytest.mark.parametrize("name", ODD_NAMES)
def test_case_117_double_and_odd_extensions(strict, internal, outbound, name):
    token = mwsys.unique("c117")
    _blocked(strict, internal, outbound, token,
             b'Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="' +
             name.encode() + b'"', b"harmless bytes " + token.encode(), name)


BIDI_NAMES = {
    "raw-utf8": b'filename="invoice\xe2\x80\xaegpj.exe"',
    "encoded-word": b'filename="=?UTF-8?B?aW52b2ljZeKArmdwai5leGU=?="',
    "rfc2231": b"filename*=UTF-8''invoice%E2%80%AEgpj.exe",
    "isolate": b'filename="invoice\xe2\x81\xa6gpj.exe"',
    "mark": b'filename="invoice\xe2\x80\x8fgpj.exe"',
    "zero-width": b'filename="invoice\xe2\x80\x8b.exe"',
}


@pytest.mark.parametrize("variant", BIDI_NAMES.keys())
def test_case_118_rtlo_and_bidi_names(strict, internal, outbound, variant):
    token = mwsys.unique("c118")
    _blocked(strict, internal, outbound, token,
             b"Content-Type: application/octet-stream\r\nContent-Disposition: attachment; " + BIDI_NAMES[variant],
             b"harmless " + token.encode(), variant)


CONTINUATIONS = {
    "plain": b'filename*0="invoice."; filename*1="exe"',
    "extended": b"filename*0*=UTF-8''invoice.; filename*1*=%65%78%65",
}


@pytest.mark.parametrize("variant", CONTINUATIONS.keys())
def test_case_119_rfc2231_continuations(strict, internal, outbound, variant):
    token = mwsys.unique("c119")
    _blocked(strict, internal, outbound, token,
             b"Content-Type: application/octet-stream\r\nContent-Disposition: attachment; " + CONTINUATIONS[variant],
             b"harmless " + token.encode(), variant)


def _pe():
    """A minimal PE header: MZ, e_lfanew at 0x3c pointing at PE\\0\\0."""
    pe = bytearray(256)
    pe[0:2] = b"MZ"
    pe[0x3c:0x40] = (0x80).to_bytes(4, "little")
    pe[0x80:0x84] = b"PE\0\0"
    return bytes(pe)


def _zip_of(name, data):
    import io
    import zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, data)
    return buf.getvalue()


def test_case_122_a_pe_declared_as_png(strict, internal, outbound):
    token = mwsys.unique("c122png")
    _blocked(strict, internal, outbound, token, b"Content-Type: image/png; name=cat.png", _pe(), "PE as cat.png")


def test_case_122_an_executable_in_a_zip_declared_as_text(strict, internal, outbound):
    token = mwsys.unique("c122zip")
    _blocked(strict, internal, outbound, token, b"Content-Type: text/plain; name=readme.txt",
             _zip_of("setup.exe", _pe()), "zip as readme.txt")


def test_case_112_recursive_zip_bomb(strict, internal, outbound):
    """42.zip's shape, scaled: 16 copies per level, 5 levels, each leaf 4 MiB
    of zeros. The walk's bounds (depth, files, bytes, ratio) stop it."""
    import io
    import zipfile
    leaf = bytes(4 << 20)
    level = _zip_of("0.dat", leaf)
    for depth in range(4):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for i in range(16):
                z.writestr(f"{depth}-{i}.zip", level)
        level = buf.getvalue()
    assert len(level) < 2 << 20, len(level)  # 16^4 leaves of 4 MiB: 256 GiB unpacked
    token = mwsys.unique("c112")
    r, seconds = _send(strict, _with_part(token, b"Content-Type: application/zip; name=42.zip", level))
    env.assert_refused(r, "zip bomb", codes=(554,))
    assert seconds < 15, f"the bomb took {seconds:.1f} s"
    env.assert_sinks_hold(strict, internal, outbound, forbidden=[token])


@pytest.mark.parametrize("case", ["127-tnef"])
def test_case_attachment_policy(case):
    pytest.skip(f"case {case.split('-')[0]}: TNEF (winmail.dat) is not unpacked yet (issue 12)")


NOT_IN_THIS_SLICE = {
    "116-encrypted-archives": "covered by tests/system/malware/test_encryption.py (SCAN-10); not repeated here",
    "125-inline-uuencode": "covered by the salvage view's evasion set (tests/system/malware/test_evasion_set.py)",
    "126-embedded-message": "not written yet (needs an eicar.zip in message/rfc822; archives wait for issue 12)",
    "128-multiple-boundaries": "covered by the evasion set (tests/system/malware/test_evasion_set.py)",
    "132-header-end-folding": "not written yet",
    "133-line-ends-8bit": "not written yet (8BITMIME downgrade: tests/system/delivery/test_8bit_downgrade.py)",
    "135-encrypted-signed": "covered by tests/system/malware/test_encryption.py",
    "136-scanner-limits-outages": "covered by tests/system/malware/test_malware_engines.py (clamd down, slow)",
    "138-mime-is-broken": "covered by tests/system/malware/test_evasion_set.py (both halves of the set)",
}


@pytest.mark.parametrize("case", NOT_IN_THIS_SLICE.keys())
def test_case_not_in_this_slice(case):
    pytest.skip(f"case {case.split('-')[0]}: {NOT_IN_THIS_SLICE[case]}")
