"""Logging: one JSON object per line with log.format json, and one queue id
that follows a message from the smtpd session through the queue to its
delivery."""

import json
import re

import mwsys


LINE = re.compile(r"^\S+Z mailwarden\[(\d+)\]: (.*)$")


def _json_events(gw, start):
    events = []
    for line in gw.log.lines(start):
        m = LINE.match(line)
        if m:
            events.append(json.loads(m.group(2)))
    return events


def test_json_log_lines_parse_and_carry_the_transaction(make_gateway_fn, sink):
    gw = make_gateway_fn(sink=sink, start=False, log={"target": "stderr", "format": "json", "level": "info"})
    gw.start(wait=False)  # the harness's readiness wait reads key=value lines
    start = 0
    mwsys.wait_until(lambda: {e["proc"] for e in _json_events(gw, start) if e.get("event") == "ready"}
                     >= {"smtpd", "queue"}, what="JSON ready events")
    with mwsys.SmtpClient(gw.port) as c:
        c.greeting()
        c.ehlo()
        reply = c.transaction("a@b.test", ["user@example.test"], b"Subject: json\r\n\r\nbody\r\n")
    assert reply.code == 250, reply
    qid = mwsys.queue_id(reply)
    sink.wait_for(lambda m: b"Subject: json" in m.data)
    events = mwsys.wait_until(
        lambda: [e for e in _json_events(gw, start) if e.get("queue_id") == qid and e.get("event") == "removed"]
        and _json_events(gw, start), what="the removed event")
    by_id = [e for e in events if e.get("queue_id") == qid]
    kinds = {(e["proc"], e["event"]) for e in by_id}
    assert {("smtpd", "queued"), ("queue", "committed"), ("queue", "delivery"), ("queue", "removed")} <= kinds
    delivery = next(e for e in by_id if e["event"] == "delivery")
    assert delivery["status"] == "sent" and delivery["reply"].startswith("250"), delivery
    committed = next(e for e in by_id if e["event"] == "committed")
    session = committed["session"]
    assert any(e.get("event") == "connect" and e.get("session") == session for e in events)


def test_hostile_bytes_cannot_forge_log_fields(make_gateway_fn, sink):
    """A HELO name is client data; quotes and '=' in it stay inside one value."""
    gw = make_gateway_fn(sink=sink)
    start = gw.mark()
    with mwsys.SmtpClient(gw.port) as c:
        c.greeting()
        assert c.cmd('EHLO x"event=forged').code == 250
    helo = gw.wait_event(proc="smtpd", event="helo", start=start)
    assert helo["helo"] == 'x"event=forged', helo
    assert not gw.events(start, event="forged")
