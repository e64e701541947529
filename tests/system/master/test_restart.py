"""A child that dies is restarted alone (issue 10): the master keeps a table
of child kinds and starts again only the one that died, with a back-off
that grows while it keeps dying. The others keep their pids; a restarted
smtpd gets a channel to the running queue, a restarted queue gets one to
each running smtpd, over the children's control channels. Nothing
answered 250 is lost (Q-1), and a transaction the dead queue had taken is
answered 451, never 250.

Each test starts its own daemon, because it kills its children."""

import os
import signal

import mwsys


def _kill(gw, pid):
    """SIGKILL one child by pid; return the log mark from before the kill."""
    mark = gw.mark()
    gw.expected_dead.add(pid)
    os.kill(pid, signal.SIGKILL)
    gw.wait_event(proc="master", event="child_exited", pid=str(pid), start=mark)
    return mark


def test_a_killed_smtpd_is_restarted_alone(make_gateway_fn, sink):
    gw = make_gateway_fn(sink=sink, smtpd_processes=2)
    mwsys.wait_until(lambda: len(gw.children("smtpd")) == 2, what="two smtpd spawned")
    victim, other = gw.children("smtpd")
    queue = gw.pid("queue")
    mark = _kill(gw, victim)
    gw.wait_event(proc="master", event="restarting", child="smtpd", start=mark)
    spawned = gw.wait_event(proc="master", event="spawned", child="smtpd", start=mark)
    gw.wait_event(proc="smtpd", event="queue_connected", start=mark)
    assert int(spawned["pid"]) not in (victim, other)
    assert gw.children("queue") == [queue] and mwsys.pid_alive(queue), "the queue must keep running"
    assert mwsys.pid_alive(other), "the other smtpd must keep running"
    assert gw.events(start=mark, event="spawned", child="queue") == []
    # Both smtpds (the survivor and the new one) reach the queue.
    tokens = [mwsys.unique("smtpdkill") for _ in range(4)]
    for token in tokens:
        mwsys.send_token(gw, token)
    for token in tokens:
        sink.wait_token(token)


def test_a_killed_queue_is_restarted_alone_and_loses_nothing(make_gateway_fn, make_sink_fn):
    sink = make_sink_fn(start=False)   # the next hop is down: the first message stays queued
    gw = make_gateway_fn(sink=sink, smtpd_processes=2)
    mwsys.wait_until(lambda: len(gw.children("smtpd")) == 2, what="two smtpd spawned")
    smtpds = gw.children("smtpd")
    before = mwsys.unique("beforekill")
    qid = mwsys.send_token(gw, before)
    old_queue = gw.pid("queue")
    mark = _kill(gw, old_queue)
    gw.wait_event(proc="master", event="restarting", child="queue", start=mark)
    spawned = gw.wait_event(proc="master", event="spawned", child="queue", start=mark)
    assert int(spawned["pid"]) != old_queue
    gw.wait_event(proc="queue", event="recovered", queue_id=qid, start=mark)
    mwsys.wait_until(lambda: len(gw.events(start=mark, proc="smtpd", event="queue_connected")) == 2,
                     what="both smtpd connected to the new queue")
    assert gw.children("smtpd") == smtpds and all(mwsys.pid_alive(p) for p in smtpds), \
        "smtpd processes must keep their pids"
    after = mwsys.unique("afterkill")
    mwsys.send_token(gw, after)
    sink.start()
    assert sink.wait_token(before).rcpt_tos == ["user@example.test"]
    sink.wait_token(after)


def test_a_transaction_taken_by_a_dead_queue_gets_451_not_250(make_gateway_fn, sink):
    gw = make_gateway_fn(sink=sink)
    token = mwsys.unique("halfdata")
    with mwsys.SmtpClient(gw.port) as c:
        c.up_to_data()
        c.send(f"Subject: {token}\r\n\r\nfirst half\r\n".encode())
        mark = _kill(gw, gw.pid("queue"))
        gw.wait_event(proc="smtpd", event="queue_lost", start=mark)
        c.send(b"second half\r\n.\r\n")
        reply = c.reply()
        assert reply.code == 451, reply
        # The session goes on: once the new queue is there, mail is accepted.
        gw.wait_event(proc="smtpd", event="queue_connected", start=mark)
        again = c.transaction("a@b.test", ["user@example.test"],
                              f"Subject: {token}-again\r\n\r\nwhole\r\n".encode())
        assert again.code == 250, again
    sink.wait_token(f"{token}-again")
    assert [m for m in sink.with_token(token) if f"{token}-again".encode() not in m.data] == []


def test_a_child_that_keeps_dying_is_restarted_with_growing_delays(make_gateway_fn, sink):
    gw = make_gateway_fn(sink=sink)
    delays = []
    for _ in range(3):
        mark = _kill(gw, gw.pid("smtpd"))
        restarting = gw.wait_event(proc="master", event="restarting", child="smtpd", start=mark)
        delays.append(int(restarting["delay"]))
        gw.wait_event(proc="master", event="spawned", child="smtpd", start=mark)
        gw.wait_event(proc="smtpd", event="ready", start=mark)
    assert delays == [1, 2, 4], delays
    mwsys.send_token(gw, mwsys.unique("afterdelays"))
