"""The MIME view in the scanner (issue 11; SCAN-5): GMime parses each
message once for every content check; the "mime" check scores what was
wrong with the structure and what lay beyond the parser's limits, and no
message — however broken or deep — crashes or stalls the scanner.

Inbound: each MIME problem scores 2, tag at 2 (so the symbols show in the
delivered message's X-Spam-Status); outbound (trusted 127.0.0.10): refuse."""

import pytest

import mwsys

TRUSTED = "127.0.0.10"
HEAD = b"Date: Sun, 06 Dec 2026 20:00:00 +0000\r\nMessage-ID: <%s@client.test>\r\nSubject: %s\r\nMIME-Version: 1.0\r\n"
CLEAN = (b"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
         b"--b1\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
         b"Gr=FC=DFe\r\n--b1\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\n"
         b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b1--\r\n")
NO_BOUNDARY = b"Content-Type: multipart/mixed\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nhidden\r\n--x--\r\n"
UNTERMINATED = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nno end\r\n"


def nested(depth):
    body = b"Content-Type: multipart/mixed; boundary=\"b0\"\r\n\r\n"
    for i in range(1, depth + 1):
        body += b"--b%d\r\nContent-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n" % (i - 1, i)
    body += b"--b%d\r\nContent-Type: text/plain\r\n\r\ndeep\r\n" % depth
    for i in range(depth, -1, -1):
        body += b"--b%d--\r\n" % i
    return body


@pytest.fixture(scope="module")
def sink(make_sink):
    return make_sink()


@pytest.fixture(scope="module")
def gw(make_gateway, sink):
    scan = {"inbound": {"checks": {"mime": {"action": "score", "points": 2}}, "tag": 2},
            "outbound": {"checks": {"mime": "refuse"}}}
    return make_gateway(sink=sink, scan=scan)


def send(gw, token, body, source=None, rcpt="user@example.test"):
    return mwsys.send_message(gw, HEAD % (token, token) + body, source=source, rcpt=rcpt)


def verdict(gw, start, final):
    assert final.code == 250, final
    qid = mwsys.queue_id(final)
    return gw.wait_event(start=start, proc="queue", event="scan_verdict", queue_id=qid)


def test_clean_mime_has_no_mime_symbols(gw):
    start = gw.mark()
    v = verdict(gw, start, send(gw, b"mime-clean", CLEAN))
    assert v["symbols"] == "none" and v["action"] == "accept"


@pytest.mark.parametrize("body,symbol", [(NO_BOUNDARY, "MIME_NO_BOUNDARY"), (UNTERMINATED, "MIME_MALFORMED")])
def test_broken_mime_scores_its_symbol(gw, sink, body, symbol):
    start = gw.mark()
    token = b"mime-" + symbol.lower().encode()
    v = verdict(gw, start, send(gw, token, body))
    assert f"{symbol}(2)" in v["symbols"] and v["action"] == "tag"
    assert f"{symbol}(2)".encode() in sink.wait_token(token.decode()).data


def test_nesting_beyond_the_limit_is_a_symbol_and_the_scanner_lives(gw):
    scanner = gw.pid("scanner")
    start = gw.mark()
    v = verdict(gw, start, send(gw, b"mime-deep", nested(200)))
    assert "MIME_TOO_DEEP(2)" in v["symbols"]
    assert gw.pid("scanner") == scanner


def test_refuse_policy_refuses_broken_mime_at_the_final_dot(gw):
    final = send(gw, b"mime-refused", NO_BOUNDARY, source=TRUSTED, rcpt="user@elsewhere.test")
    assert final.code == 554
    assert final.text == "5.6.0 Message refused: malformed MIME structure"
