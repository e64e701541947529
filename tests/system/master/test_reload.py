"""The master's life cycle: SIGHUP reloads a valid configuration (new smtpd
processes with the new settings; the queue keeps running), keeps the
running one when the new file is broken, and SIGTERM stops everything with
exit 0."""

import os
import signal

import mwsys


def _rcpt(gw, address):
    with mwsys.SmtpClient(gw.port) as c:
        c.greeting()
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@b.test>").code == 250
        return c.cmd(f"RCPT TO:<{address}>")


def _add_domain_and_reload(gw, domain, nexthop):
    """Route domain (made local) to nexthop in the file, SIGHUP, and wait
    until the queue has the new file and a new smtpd is connected to it."""
    gw.config["local_domains"] = gw.config["local_domains"] + [domain]
    gw.config["routes"][domain] = nexthop.url
    gw.write_config()
    start = gw.mark()
    os.kill(gw.master_pid, signal.SIGHUP)
    gw.wait_event(proc="master", event="reload", result="ok", start=start)
    gw.wait_event(proc="queue", event="reload", result="ok", start=start)
    gw.wait_event(proc="smtpd", event="queue_connected", start=start)
    return start


def _queue_kept(gw, queue):
    return gw.children("queue") == [queue] and mwsys.pid_alive(queue)


def test_sighup_applies_a_new_local_domain(make_gateway_fn, sink):
    gw = make_gateway_fn(sink=sink)
    assert _rcpt(gw, "user@new.test").code == 554  # not local, not trusted
    old_smtpd, queue = gw.pid("smtpd"), gw.pid("queue")
    _add_domain_and_reload(gw, "new.test", sink)
    assert gw.pid("smtpd") != old_smtpd, "reload must start new smtpd processes"
    mwsys.wait_until(lambda: not mwsys.pid_alive(old_smtpd), what="the old smtpd to stop")
    assert _queue_kept(gw, queue), "a reload must not restart the queue"
    assert _rcpt(gw, "user@new.test").code == 250


def test_a_reload_that_adds_a_route_takes_effect_without_a_queue_restart(make_gateway_fn, sink,
                                                                       make_sink_fn):
    """The queue loads the new file itself (IPC_MASTER_CONFIG): mail for a
    domain that only the new file routes goes to the new next hop, and the
    queue keeps its pid."""
    other = make_sink_fn()
    gw = make_gateway_fn(sink=sink)
    queue = gw.pid("queue")
    start = _add_domain_and_reload(gw, "routed.test", other)
    token = mwsys.unique("newroute")
    qid = mwsys.send_token(gw, token, rcpt="user@routed.test")
    gw.wait_delivered(qid, to="user@routed.test", start=start)
    assert other.wait_token(token).rcpt_tos == ["user@routed.test"]
    assert sink.with_token(token) == []
    assert _queue_kept(gw, queue), "a reload must not restart the queue"


def test_a_delivery_in_flight_survives_a_reload_exactly_once(make_gateway_fn, make_sink_fn):
    """SIGHUP while the next hop holds back its answer to the final dot:
    the queue is not restarted, so the delivery is not cut off and not
    repeated: the sink gets the message once."""
    sink = make_sink_fn()
    sink.data_delay = 3
    gw = make_gateway_fn(sink=sink)
    queue = gw.pid("queue")
    token = mwsys.unique("inflight")
    qid = mwsys.send_token(gw, token)
    mwsys.wait_until(lambda: sink.data_attempts >= 1, what="the delivery to reach the final dot")
    start = gw.mark()
    os.kill(gw.master_pid, signal.SIGHUP)
    gw.wait_event(proc="queue", event="reload", result="ok", start=start)
    gw.wait_event(proc="queue", event="removed", queue_id=qid, timeout=mwsys.TIMEOUT + sink.data_delay)
    assert len(sink.with_token(token)) == 1
    assert sink.data_attempts == 1, "the delivery was repeated"
    assert _queue_kept(gw, queue), "a reload must not restart the queue"


def test_a_reload_may_change_the_number_of_smtpd_processes(make_gateway_fn, sink):
    gw = make_gateway_fn(sink=sink)
    queue = gw.pid("queue")
    gw.config["smtpd_processes"] = 3
    gw.write_config()
    start = gw.mark()
    os.kill(gw.master_pid, signal.SIGHUP)
    mwsys.wait_until(lambda: len(gw.events(start=start, proc="smtpd", event="queue_connected")) == 3,
                     what="three new smtpd connected to the queue")
    assert len(gw.children("smtpd", start=start)) == 3
    assert _queue_kept(gw, queue)
    mwsys.send_token(gw, mwsys.unique("threesmtpd"))


def test_sighup_with_a_broken_file_keeps_serving(make_gateway_fn, sink):
    gw = make_gateway_fn(sink=sink)
    smtpd = gw.pid("smtpd")
    with open(gw.config_path, "a") as f:
        f.write("no_such_key: 1\n")
    start = gw.mark()
    os.kill(gw.master_pid, signal.SIGHUP)
    error = gw.wait_event(proc="master", event="config_error", start=start)
    assert "no_such_key" in error["msg"] and "unknown key" in error["msg"], error
    gw.wait_event(proc="master", event="reload", result="failed", start=start)
    assert gw.pid("smtpd") == smtpd and mwsys.pid_alive(smtpd)
    assert _rcpt(gw, "user@example.test").code == 250


def test_sigterm_stops_all_children_and_exits_zero(make_gateway_fn, sink):
    gw = make_gateway_fn(sink=sink)
    children = [gw.pid("smtpd"), gw.pid("queue")]
    gw.stop()
    assert gw.proc.returncode == 0
    assert not any(mwsys.pid_alive(p) for p in children)
    gw.wait_event(proc="master", event="stopped")


def test_sigterm_lets_an_open_transaction_finish(make_gateway_fn, sink):
    """A client in the middle of DATA when the stop begins still gets its 250
    (within shutdown_grace), and the message is on disk."""
    gw = make_gateway_fn(sink=sink)
    with mwsys.SmtpClient(gw.port) as c:
        c.up_to_data()
        start = gw.mark()
        gw.proc.send_signal(signal.SIGTERM)
        gw.stopping = True
        gw.wait_event(proc="smtpd", event="stopping", start=start)
        c.send(b"Subject: late\r\n\r\nstill accepted\r\n.\r\n")
        reply = c.reply()
        assert reply.code == 250, reply
        after = c.cmd("NOOP")
        assert after.code == 421, after  # then the session is closed
    gw.proc.wait(timeout=mwsys.TIMEOUT)
    assert gw.proc.returncode == 0
