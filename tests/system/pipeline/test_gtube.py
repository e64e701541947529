"""GTUBE (issue 11): the standard test string for spam filters, looked for
in every decoded text part, so an administrator can check the whole path
— scan, score, action — with a harmless message. Refused or quarantined as
the policy says: inbound refuse, outbound (trusted 127.0.0.10) 1000 points
against a quarantine threshold."""

import base64

import pytest

import mwsys

TRUSTED = "127.0.0.10"
GTUBE = b"XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
HEAD = b"Date: Sun, 06 Dec 2026 20:00:00 +0000\r\nMessage-ID: <%s@client.test>\r\nSubject: %s\r\n"


def plain(token):
    return HEAD % (token, token) + b"\r\nThis is the GTUBE:\r\n" + GTUBE + b"\r\n"


def base64_part(token):
    return (HEAD % (token, token) + b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
            b"--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
            base64.encodebytes(b"hidden: " + GTUBE + b"\r\n").replace(b"\n", b"\r\n") + b"--b--\r\n")


@pytest.fixture(scope="module")
def sink(make_sink):
    return make_sink()


@pytest.fixture(scope="module")
def gw(make_gateway, sink):
    scan = {"inbound": {"checks": {"gtube": "refuse"}},
            "outbound": {"checks": {"gtube": {"action": "score", "points": 1000}}, "quarantine": 20}}
    return make_gateway(sink=sink, scan=scan)


send = mwsys.send_message


@pytest.mark.parametrize("make", [plain, base64_part])
def test_gtube_is_refused_inbound_plain_or_encoded(gw, make):
    final = send(gw, make(b"gtube-in"))
    assert final.code == 554, final
    assert final.text == "5.7.1 Message refused: GTUBE test message"


def test_gtube_scores_and_quarantines_outbound(gw):
    start = gw.mark()
    final = send(gw, base64_part(b"gtube-out"), source=TRUSTED, rcpt="user@elsewhere.test")
    assert final.code == 250, final
    qid = mwsys.queue_id(final)
    gw.wait_event(start=start, proc="queue", event="scan_verdict", queue_id=qid, score="1000",
                  symbols="GTUBE(1000)", action="quarantine")
    gw.wait_event(start=start, proc="queue", event="quarantined", queue_id=qid)


def test_an_ordinary_message_does_not_hit(gw, sink):
    final = send(gw, HEAD % (b"gtube-no", b"gtube-no") + b"\r\nGTUBE is a test string, not in here.\r\n")
    assert final.code == 250
    sink.wait_token("gtube-no")
