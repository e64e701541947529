"""`mailwarden ctl status|reload|stop` and the pid file (issue 15; Q-3's
control socket): status names the live processes of each kind, the
listeners, the queue by state, the sessions, the scanner and the SHA-256
of the configuration file; reload takes a good file (a new local domain
is accepted afterwards) and refuses a broken one with exit 1, keeping the
running configuration; stop ends the daemon and removes the pid file; a
second serve on the same state directory is refused while the first runs."""

import hashlib
import os
import socket
import subprocess

import mwsys


def ctl(gw, *args, timeout=90):
    return subprocess.run([gw.binary, "ctl", "-c", gw.config_path, *args],
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def status(gw):
    p = ctl(gw, "status")
    assert p.returncode == 0, p.stderr
    lines = [line.split(": ", 1) for line in p.stdout.splitlines()]
    return dict(lines), [v for k, v in lines if k == "listener"]


def comm(pid):
    with open(f"/proc/{pid}/comm") as f:
        return f.read().strip()


def ppid(pid):
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def rcpt(gw, address):
    with mwsys.SmtpClient(gw.port) as c:
        c.greeting()
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@b.test>").code == 250
        return c.cmd(f"RCPT TO:<{address}>").code


def pid_file(gw):
    return gw.path("mailwarden.pid")


def test_status_names_live_processes_listeners_queue_and_checksum(make_gateway_fn, sink):
    gw = make_gateway_fn(sink=sink)
    st, listeners = status(gw)
    assert st["level"].startswith("0 "), st  # the lines that were there stay
    assert int(st["pid_master"]) == gw.master_pid
    with open(pid_file(gw)) as f:
        assert int(f.read()) == gw.master_pid
    for kind in ("queue", "scanner", "smtpd"):
        pids = [int(p) for p in st[f"pid_{kind}"].split()]
        assert pids, (kind, st)
        for pid in pids:
            assert mwsys.pid_alive(pid) and ppid(pid) == gw.master_pid and comm(pid) == f"mw-{kind}"
    assert int(st["pid_queue"]) == gw.pid("queue")
    assert 0 <= int(st["uptime_seconds"]) < 600
    assert st["config"] == gw.config_path
    with open(gw.config_path, "rb") as f:
        assert st["config_sha256"] == hashlib.sha256(f.read()).hexdigest()
    first = gw.config["listeners"][0]
    assert any(f"name={first['name']} " in l and f"port={first['port']} " in l and " tls=" in l
               for l in listeners), listeners
    for key in ("queue_ready", "queue_waiting", "queue_active", "queue_held", "sessions", "scans_in_flight"):
        assert int(st[key]) >= 0, key
    assert st["scanner"] == "connected"


def test_status_counts_an_open_session(make_gateway_fn, sink):
    gw = make_gateway_fn(sink=sink)
    with mwsys.SmtpClient(gw.port) as c:
        c.greeting()
        mwsys.wait_until(lambda: int(status(gw)[0]["sessions"]) == 1, what="the open session in status")
    mwsys.wait_until(lambda: int(status(gw)[0]["sessions"]) == 0, what="the session to end in status")


def test_reload_takes_a_new_local_domain(make_gateway_fn, sink):
    gw = make_gateway_fn(sink=sink)
    assert rcpt(gw, "user@new.test") == 554
    gw.config["local_domains"] = gw.config["local_domains"] + ["new.test"]
    gw.config["routes"]["new.test"] = sink.url
    gw.write_config()
    start = gw.mark()
    p = ctl(gw, "reload")
    assert p.returncode == 0, p.stderr
    with open(gw.config_path, "rb") as f:
        assert f"config_sha256: {hashlib.sha256(f.read()).hexdigest()}" in p.stdout
    gw.wait_event(proc="smtpd", event="queue_connected", start=start)
    mwsys.wait_until(lambda: rcpt(gw, "user@new.test") == 250, what="the new domain to be accepted")


def test_reload_refuses_a_broken_file_and_keeps_the_running_one(make_gateway_fn, sink):
    gw = make_gateway_fn(sink=sink)
    before = status(gw)[0]["config_sha256"]
    smtpd = gw.pid("smtpd")
    with open(gw.config_path) as f:
        good = f.read()
    with open(gw.config_path, "a") as f:
        f.write("no_such_key: 1\n")
    p = ctl(gw, "reload")
    assert p.returncode == 1
    assert "no_such_key" in p.stderr and "running configuration stays" in p.stderr, p.stderr
    with open(gw.config_path, "w") as f:  # status itself needs a file that loads
        f.write(good)
    assert status(gw)[0]["config_sha256"] == before
    assert gw.pid("smtpd") == smtpd and mwsys.pid_alive(smtpd)
    assert rcpt(gw, "user@example.test") == 250


def test_stop_ends_the_daemon_and_removes_the_pid_file(make_gateway_fn, sink):
    gw = make_gateway_fn(sink=sink)
    children = [gw.pid("queue"), gw.pid("smtpd"), gw.pid("scanner")]
    assert os.path.exists(pid_file(gw))
    gw.stopping = True
    p = ctl(gw, "stop")
    assert p.returncode == 0, p.stderr
    assert gw.proc.wait(timeout=10) == 0
    assert not os.path.exists(pid_file(gw))
    assert not any(mwsys.pid_alive(c) for c in children)
    assert ctl(gw, "stop").returncode == 1  # nothing left to stop


def test_a_second_serve_on_the_same_state_dir_is_refused(make_gateway_fn, sink, ports):
    gw = make_gateway_fn(sink=sink)
    other = dict(gw.config)
    other["listeners"] = [dict(gw.config["listeners"][0], port=ports.get())]
    path = os.path.join(gw.workdir, "second.yaml")
    with open(path, "w") as f:
        f.write(mwsys.to_yaml(other) + "\n")
    p = subprocess.run([gw.binary, "serve", "-f", "-c", path], capture_output=True, text=True, timeout=30,
                       stdin=subprocess.DEVNULL)
    assert p.returncode == 1
    assert "another mailwarden" in p.stderr and str(gw.master_pid) in p.stderr, p.stderr
    with open(pid_file(gw)) as f:
        assert int(f.read()) == gw.master_pid  # the first one's file is untouched
    assert rcpt(gw, "user@example.test") == 250


def test_a_stale_pid_file_is_replaced(make_gateway_fn, sink):
    gw = make_gateway_fn(sink=sink)
    gw.stop()
    with open(pid_file(gw), "w") as f:
        f.write("999999\n")  # no such process
    gw.start()
    with open(pid_file(gw)) as f:
        assert int(f.read()) == gw.master_pid


def test_status_counts_the_queue_by_state(make_gateway_fn, make_sink_fn):
    down = make_sink_fn(start=False)
    gw = make_gateway_fn(sink=down, queue={"retry_min": "1h", "retry_max": "1h"})
    qid = mwsys.send_token(gw, mwsys.unique("ctlqueue"))
    gw.wait_event(proc="queue", event="retry_scheduled", queue_id=qid)
    mwsys.wait_until(lambda: status(gw)[0]["queue_waiting"] == "1", what="queue_waiting: 1")
    assert status(gw)[0]["queue_held"] == "0"
    p = subprocess.run([gw.binary, "queue", "-c", gw.config_path, "hold", qid], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 0, p.stderr
    st = status(gw)[0]
    assert (st["queue_held"], st["queue_waiting"], st["queue_ready"]) == ("1", "0", "0"), st


def test_reload_the_master_refuses_is_reported_with_exit_1(make_gateway_fn, sink):
    """A file that passes the checks but cannot be used (its listener's
    port is taken): the master keeps the running configuration, and ctl
    reload says so after its wait."""
    gw = make_gateway_fn(sink=sink)
    before = status(gw)[0]["config_sha256"]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        gw.config["listeners"] = gw.config["listeners"] + [
            {"name": "extra", "address": "127.0.0.1", "port": taken.getsockname()[1]}]
        gw.write_config()
        start = gw.mark()
        p = ctl(gw, "reload")
    assert p.returncode == 1
    assert "running configuration stays" in p.stderr, p.stderr
    gw.wait_event(proc="master", event="reload", result="failed", start=start)
    assert status(gw)[0]["config_sha256"] == before
    assert rcpt(gw, "user@example.test") == 250
