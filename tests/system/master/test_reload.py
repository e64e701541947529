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


def test_sighup_applies_a_new_local_domain(make_gateway_fn, sink):
    gw = make_gateway_fn(sink=sink)
    assert _rcpt(gw, "user@new.test").code == 554  # not local, not trusted
    old_smtpd, queue = gw.pid("smtpd"), gw.pid("queue")
    gw.config["local_domains"] = gw.config["local_domains"] + ["new.test"]
    gw.config["routes"]["new.test"] = sink.url
    gw.write_config()
    start = gw.mark()
    os.kill(gw.master_pid, signal.SIGHUP)
    gw.wait_event(proc="master", event="reload", result="ok", start=start)
    gw.wait_event(proc="smtpd", event="queue_connected", start=start)
    assert gw.pid("smtpd") != old_smtpd, "reload must start new smtpd processes"
    mwsys.wait_until(lambda: not mwsys.pid_alive(old_smtpd), what="the old smtpd to stop")
    assert gw.pid("queue") == queue and mwsys.pid_alive(queue), "a reload must not restart the queue"
    assert _rcpt(gw, "user@new.test").code == 250


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
