"""Logging: one JSON object per line with log.format json, and one queue id
that follows a message from the smtpd session through the queue to its
delivery."""

import json
import re

import mwsys


TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

# Fields made by the number helpers (log_u64, log_ms): JSON numbers.
NUMBERS = {"attempt", "pid", "child_pid", "emergency_level",
           "delay", "delay_queue", "delay_conn", "delay_xmit"}


def _json_events(gw, start):
    """Every line of the daemon's stderr since start, each parsed as one
    JSON object: a line that is not one fails the test."""
    events = []
    for line in gw.log.lines(start):
        try:
            obj = json.loads(line)
        except ValueError:
            raise AssertionError(f"not a JSON line: {line!r}") from None
        assert isinstance(obj, dict), line
        events.append(obj)
    return events


def test_json_log_lines_parse_and_carry_the_transaction(make_gateway_fn, sink):
    """Issue 15: with log.format json every stderr line is one JSON object
    and nothing else: ts and pid inside it, numbers as numbers."""
    gw = make_gateway_fn(sink=sink, start=False, log={"target": "stderr", "format": "json", "level": "info"})
    start = gw.log.size()
    gw.start()  # mwsys reads JSON lines as well as key=value ones
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
    pids = {p.pid for p in [gw.proc]} | {int(e["child_pid"]) for e in events if e.get("event") == "spawned"}
    for e in events:
        assert TS.match(e["ts"]), e
        assert isinstance(e["pid"], int) and e["pid"] in pids, e
        assert {"level", "proc", "event"} <= e.keys(), e
        for key, value in e.items():
            if key in NUMBERS:
                assert isinstance(value, (int, float)) and not isinstance(value, bool), (key, e)
            else:  # strings, or numbers of the helpers: never true/null/objects
                assert isinstance(value, (str, int, float)) and not isinstance(value, bool), (key, e)
    by_id = [e for e in events if e.get("queue_id") == qid]
    kinds = {(e["proc"], e["event"]) for e in by_id}
    assert {("smtpd", "queued"), ("queue", "committed"), ("queue", "delivery"), ("queue", "removed")} <= kinds
    delivery = next(e for e in by_id if e["event"] == "delivery")
    assert delivery["status"] == "sent" and delivery["reply"].startswith("250"), delivery
    assert isinstance(delivery["attempt"], int) and delivery["attempt"] == 1, delivery
    for key in ("delay", "delay_queue", "delay_conn", "delay_xmit"):  # seconds, as JSON numbers
        assert isinstance(delivery[key], (int, float)) and delivery[key] >= 0, (key, delivery)
    spawned = [e for e in events if e.get("event") == "spawned"]
    assert spawned and all(isinstance(e["child_pid"], int) for e in spawned), spawned
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
