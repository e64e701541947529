"""8-bit mail to a next hop without 8BITMIME (issue 16 item 11, RFC 6152
section 3): the outbound client converts 8-bit MIME parts to 7 bits
(quoted-printable for text, base64 for the rest) instead of bouncing; the
spool file stays as it was. What cannot be converted still bounces: 8-bit
headers (554 5.6.3) and SMTPUTF8 addresses (553 5.6.7)."""

import email
import email.policy

import pytest

import mwsys
from peers import RawPeer

SENDER = "sender@example.test"
TEXT = "Grüße aus Köln: ½ € — naïve café\r\nzweite Zeile\r\n"


@pytest.fixture(scope="module")
def seven_bit(ports):
    """An SMTP peer that offers PIPELINING but not 8BITMIME."""
    peer = RawPeer(ports.get())
    peer.script = {"EHLO": b"250-raw.test\r\n250 PIPELINING\r\n"}
    yield peer.start()
    peer.stop()


@pytest.fixture(scope="module")
def gw(make_gateway, sink, seven_bit):
    # No retry within a test: each message is tried once.
    return make_gateway(sink=sink, routes={"old.test": seven_bit.url, "example.test": sink.url},
                        local_domains=["old.test", "example.test"],
                        queue={"retry_min": "1h", "retry_max": "2h", "lifetime": "1d"})


def _send_8bit(gw, message, mail_from=SENDER, params=" BODY=8BITMIME"):
    start = gw.mark()
    with mwsys.SmtpClient(gw.port, source="127.0.0.10") as c:
        assert c.greeting().code == 220
        c.ehlo()
        assert c.cmd(f"MAIL FROM:<{mail_from}>{params}").code == 250
        assert c.cmd("RCPT TO:<user@old.test>").code == 250
        final = c.data(message)
    assert final.code == 250, final
    return start, gw.wait_event(proc="queue", event="delivery", queue_id=mwsys.queue_id(final), start=start)


def _parse(data):
    return email.message_from_bytes(data, policy=email.policy.default)


def _received(peer, token):
    with peer.cond:
        return [m for m in peer.messages if token.encode() in m]


def test_8bit_text_to_a_peer_without_8bitmime_arrives_as_quoted_printable(gw, seven_bit):
    token = mwsys.unique("qp")
    message = (f"From: {SENDER}\r\nSubject: {token}\r\nMIME-Version: 1.0\r\n"
               "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
               + TEXT).encode()
    start, delivery = _send_8bit(gw, message)
    assert delivery["status"] == "sent", delivery
    assert gw.events(start=start, event="client_downgrade")
    data = _received(seven_bit, token)[0]
    assert all(b < 0x80 for b in data), "the delivered message is not 7-bit clean"
    assert b"\n" not in data.replace(b"\r\n", b"")
    msg = _parse(data)
    assert msg["Content-Transfer-Encoding"] == "quoted-printable"
    assert msg["Subject"] == token and msg["Received"] is not None
    assert msg.get_content() == _parse(message).get_content()
    assert TEXT.replace("\r\n", "\n") in msg.get_content().replace("\r\n", "\n")


def test_an_8bit_attachment_arrives_as_base64(gw, seven_bit):
    token = mwsys.unique("b64")
    blob = bytes(range(0x80, 0xc0)) + b"\r\n" + bytes(range(0xc0, 0x100)) + b"\r\n"
    message = (f"From: {SENDER}\r\nSubject: {token}\r\nMIME-Version: 1.0\r\n"
               "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
               "--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
               + TEXT + "--b1\r\nContent-Type: application/octet-stream\r\n"
               "Content-Transfer-Encoding: 8bit\r\n\r\n").encode() + blob + b"--b1--\r\n"
    _, delivery = _send_8bit(gw, message)
    assert delivery["status"] == "sent", delivery
    data = _received(seven_bit, token)[0]
    assert all(b < 0x80 for b in data)
    text, attachment = _parse(data).iter_parts()
    original_text, original_attachment = _parse(message).iter_parts()
    assert text["Content-Transfer-Encoding"] == "quoted-printable"
    assert text.get_content() == original_text.get_content()
    assert attachment["Content-Transfer-Encoding"] == "base64"
    assert attachment.get_content() == original_attachment.get_payload(decode=True)


def test_an_8bit_header_is_not_sent_and_bounces(gw, seven_bit):
    token = mwsys.unique("hdr")
    message = f"From: {SENDER}\r\nSubject: {token} Köln\r\n\r\nascii\r\n".encode()
    _, delivery = _send_8bit(gw, message)
    assert delivery["reply"].startswith("554 5.6.3"), delivery
    assert _received(seven_bit, token) == []


def test_an_smtputf8_address_still_bounces(gw, seven_bit):
    token = mwsys.unique("utf8")
    message = f"From: {SENDER}\r\nSubject: {token}\r\n\r\nascii\r\n".encode()
    _, delivery = _send_8bit(gw, message, mail_from="jürgen@example.test", params=" BODY=8BITMIME SMTPUTF8")
    assert delivery["reply"].startswith("553 5.6.7"), delivery
    assert _received(seven_bit, token) == []
