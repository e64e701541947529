"""A clean stop under LeakSanitizer (issue 18 item 12): on SIGTERM every
process (master, smtpd, queue with its commit workers and spool pool
tidier, scanner with its workers) joins its threads and frees what it
allocated, so the ASan build with leak detection reports nothing at exit.
Runs only against the ASan build (MW_BIN=build-asan/mailwarden).

LeakSanitizer reads /proc/<pid>/task to stop the process' threads, which a
process chrooted to an empty directory (smtpd, scanner when root starts
the daemon) cannot see; so the daemon is started here as an unprivileged
user, which runs every process unconfined as that user (README)."""

import os
import pwd
import stat

import pytest

import mwsys


def _is_asan_build(path):
    with open(path, "rb") as f:
        return b"__asan_init" in f.read()


@pytest.fixture
def leak_checked(mw_bin, monkeypatch):
    if not _is_asan_build(mw_bin):
        pytest.skip("MW_BIN is not the ASan build: no LeakSanitizer to ask")
    options = mwsys.SANITIZER_ENV["ASAN_OPTIONS"].replace("detect_leaks=0", "detect_leaks=1")
    monkeypatch.setenv("ASAN_OPTIONS", options)


def _as_user(gw, name):
    """Make gw start its daemon as user name (only root can): a wrapper
    that drops to the user before it execs the binary, and a work
    directory that user owns."""
    if os.geteuid() != 0:
        return
    pw = pwd.getpwnam(name)
    wrapper = os.path.join(gw.workdir, "as-user")
    with open(wrapper, "w") as f:
        f.write(f"#!/bin/sh\nexec setpriv --reuid={pw.pw_uid} --regid={pw.pw_gid} --clear-groups "
                f"{gw.binary} \"$@\"\n")
    os.chmod(wrapper, stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    gw.binary = wrapper
    os.makedirs(gw.state_dir, mode=0o755, exist_ok=True)
    for root, dirs, files in os.walk(gw.workdir):
        for entry in [root] + [os.path.join(root, n) for n in dirs + files]:
            os.chown(entry, pw.pw_uid, pw.pw_gid)


def test_every_process_stops_without_a_leak_report(leak_checked, make_gateway_fn, make_sink_fn):
    sink = make_sink_fn()
    gw = make_gateway_fn(start=False, sink=sink)
    _as_user(gw, "mailwarden")
    gw.start()
    token = mwsys.unique("leak")
    mwsys.send_token(gw, token)
    sink.wait_token(token)
    mark = gw.mark()
    gw.stop()
    text = gw.log.text(mark)
    assert "Sanitizer" not in text, text[-6000:]   # LeakSanitizer, or a crash at exit
    exits = gw.events(start=mark, proc="master", event="child_exited")
    assert exits and all(e.get("status") == "exit 0" for e in exits), exits

