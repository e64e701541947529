"""One command line for every command (issue 15; Q-3 for queue and
quarantine): -h/--help prints the command's usage on stdout and exits 0, an
unknown option prints it on stderr and exits 2 without touching anything,
-c FILE may come before the command, and a detached serve says on its exit
status and stderr whether it started.

The commands are the ones `mailwarden --help` lists, so a new command is
tested here without a change to this file."""

import os
import re
import signal
import socket
import subprocess

import pytest

import mwsys


def run(mw_bin, *args, cwd=None, timeout=30):
    return subprocess.run([mw_bin, *args], capture_output=True, text=True, cwd=cwd, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def listed_commands(mw_bin):
    out = run(mw_bin, "--help").stdout
    names = re.findall(r"^  ([a-z][a-z-]*) ", out.split("commands:\n", 1)[1], re.M)
    assert len(names) >= 10, out
    return names


@pytest.fixture(scope="module")
def commands(mw_bin):
    return listed_commands(mw_bin)


def test_bare_mailwarden_is_a_usage_error(mw_bin):
    r = run(mw_bin)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith("usage: mailwarden ")


@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_help_lists_every_command_on_stdout(mw_bin, flag):
    r = run(mw_bin, flag)
    assert r.returncode == 0 and r.stderr == ""
    assert r.stdout.startswith("usage: mailwarden [-c FILE] COMMAND")
    for name in ("serve", "check-config", "queue", "quarantine", "ctl", "version"):
        assert f"\n  {name} " in r.stdout


@pytest.mark.parametrize("args", [["--bogus-option"], ["no-such-command"], ["-c"]])
def test_unknown_global_option_or_command_is_a_usage_error(mw_bin, args):
    r = run(mw_bin, *args)
    assert r.returncode == 2 and r.stdout == ""
    assert "usage: mailwarden " in r.stderr


def test_every_command_takes_help_and_h(mw_bin, commands, tmp_path):
    for name in commands:
        for flag in ("--help", "-h"):
            r = run(mw_bin, name, flag, cwd=tmp_path)
            assert r.returncode == 0, (name, flag, r.stderr)
            assert r.stderr == "", (name, flag)
            assert r.stdout.startswith(f"usage: mailwarden {name}"), (name, flag, r.stdout)
    assert list(tmp_path.iterdir()) == [], "asking for help made files"


def test_help_counts_anywhere_among_a_commands_arguments(mw_bin):
    r = run(mw_bin, "queue", "list", "--help")
    assert r.returncode == 0 and r.stdout.startswith("usage: mailwarden queue")


def test_every_command_refuses_an_unknown_option_with_usage_and_2(mw_bin, commands, tmp_path):
    for name in commands:
        r = run(mw_bin, name, "--bogus-option", cwd=tmp_path)
        assert r.returncode == 2, (name, r.returncode, r.stderr)
        assert r.stdout == "", name
        assert f"usage: mailwarden {name}" in r.stderr, (name, r.stderr)
    # A usage error is found before anything is opened: no state made.
    assert list(tmp_path.iterdir()) == [], [p.name for p in tmp_path.iterdir()]


def test_version_takes_no_arguments(mw_bin):
    assert run(mw_bin, "version").returncode == 0
    r = run(mw_bin, "version", "extra")
    assert r.returncode == 2 and "usage: mailwarden version" in r.stderr


def _config(tmp_path, text="hostname: mx.example.test\nstate_dir: state\n"):
    path = tmp_path / "mailwarden.yaml"
    path.write_text(text)
    return str(path)


def test_c_before_the_command_is_the_same_as_after(mw_bin, tmp_path):
    config = _config(tmp_path)
    after = run(mw_bin, "check-config", "--no-dns", "-c", config)
    before = run(mw_bin, "-c", config, "check-config", "--no-dns")
    joined = run(mw_bin, f"-c{config}", "check-config", "--no-dns")
    assert after.returncode == 0, after.stderr
    assert f"{config}: configuration ok" in after.stdout
    assert before.returncode == joined.returncode == 0
    assert before.stdout == joined.stdout == after.stdout


def test_c_before_the_command_names_the_file_it_reads(mw_bin, tmp_path):
    bad = _config(tmp_path, "hostname: mx.example.test\nno_such_key: 1\n")
    r = run(mw_bin, "-c", bad, "check-config", "--no-dns")
    assert r.returncode == 1
    assert f"{bad}:2: no_such_key: unknown key" in r.stderr


def test_c_for_a_command_without_configuration_is_a_usage_error(mw_bin, tmp_path):
    config = _config(tmp_path)
    for args in (["passwd", "alice"], ["version"], ["dkim-keygen", "example.test", "sel"]):
        r = run(mw_bin, "-c", config, *args, cwd=tmp_path)
        assert r.returncode == 2, args
        assert "reads no configuration file" in r.stderr and f"usage: mailwarden {args[0]}" in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mailwarden.yaml"], "a refused command made files"


def test_a_failed_command_exits_1(mw_bin, tmp_path):
    r = run(mw_bin, "check-config", "-c", str(tmp_path / "missing.yaml"))
    assert r.returncode == 1 and "missing.yaml" in r.stderr
    # a queue command without a running queue fails, it is no usage error.
    r = run(mw_bin, "-c", _config(tmp_path), "queue", "list")
    assert r.returncode == 1, r.stderr


def _serve_config(tmp_path, port):
    return _config(tmp_path, f"""hostname: mx.example.test
state_dir: state
log: {{target: stderr}}
listeners:
  - {{name: mta, address: 127.0.0.1, port: {port}}}
local_domains: [example.test]
routes: {{example.test: "maildir:maildir"}}
""")


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [a.decode(errors="replace") for a in f.read().split(b"\0")[:-1]]
    except OSError:
        return None


def _parent(pid):
    try:
        return int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
    except OSError:
        return None


def _master_pid(mw_bin, config):
    """The detached master: of the processes whose command line is ours
    (its children are forked, not executed, so they share it), the one
    whose parent is not one of them."""
    want = [mw_bin, "serve", "-c", config]
    for pid in filter(str.isdigit, os.listdir("/proc")):
        if _cmdline(pid) == want and _cmdline(_parent(pid)) != want:
            return int(pid)
    return None


def test_detached_serve_that_cannot_bind_exits_1_with_the_reason(mw_bin, tmp_path, ports):
    port = ports.get()
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.bind(("127.0.0.1", port))
    holder.listen()
    try:
        r = run(mw_bin, "serve", "-c", _serve_config(tmp_path, port), cwd=tmp_path, timeout=120)
    finally:
        holder.close()
    assert r.returncode == 1, r.stderr
    assert "event=listen_error" in r.stderr and "Address already in use" in r.stderr
    assert "serve did not start" in r.stderr


def test_detached_serve_exits_0_once_it_listens(mw_bin, tmp_path, ports):
    port = ports.get()
    config = _serve_config(tmp_path, port)
    r = run(mw_bin, "serve", "-c", config, cwd=tmp_path, timeout=120)
    pid = _master_pid(mw_bin, config)
    try:
        assert r.returncode == 0, r.stderr
        assert "event=listening" in r.stderr  # start-up on the caller's stderr
        assert pid, "no detached master found"
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.settimeout(30)
            assert s.recv(512).startswith(b"220 ")  # listening when serve returned
    finally:
        if pid:
            os.kill(pid, signal.SIGTERM)
            mwsys.wait_until(lambda: not os.path.exists(f"/proc/{pid}"), timeout=30, what="the master to stop")
