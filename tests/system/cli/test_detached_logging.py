"""A detached serve logs to syslog, log.target notwithstanding (README,
Commands), and keeps doing so after a reload (issue 15): a reload used to
take log.target stderr from the file again, and the master's and the
queue's lines, and those of the smtpd it started, went to the /dev/null
that stderr had become.

The gateway runs in its own mount namespace whose /dev/log is a datagram
socket of this test, so what it sends to syslog is read here and nothing
reaches the machine's syslog."""

import os
import pathlib
import shutil
import signal
import socket
import subprocess

import pytest

import mwsys
from test_command_line import _master_pid, _serve_config

pytestmark = pytest.mark.skipif(not mwsys.is_root() or not shutil.which("unshare"),
                                reason="needs root and unshare(1) for a private /dev/log")

# A /dev with what the gateway opens, and log: a link to the test's socket.
_PRIVATE_DEV = r"""
set -e
dev=$1; shift
mount -t tmpfs -o mode=755 mwdev "$dev"
for n in null zero full random urandom; do touch "$dev/$n"; mount --bind "/dev/$n" "$dev/$n"; done
mkdir "$dev/shm" "$dev/pts"
mount --bind /dev/shm "$dev/shm"
ln -s /proc/self/fd "$dev/fd"
ln -s "$SYSLOG_SOCKET" "$dev/log"
mount --move "$dev" /dev
exec "$@"
"""


class SyslogSocket:
    """The messages glibc's syslog() sends to /dev/log, body only."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        os.chmod(path, 0o666)  # children write after their privilege drop
        self.sock.settimeout(0.2)
        self.messages = []

    def _drain(self):
        while True:
            try:
                data = self.sock.recv(65536)
            except (socket.timeout, BlockingIOError):
                return
            self.messages.append(data.decode("utf-8", "replace"))

    def events(self, **match):
        self._drain()
        found = []
        for msg in self.messages:
            body = msg.split("]: ", 1)[1] if "]: " in msg else msg
            event = mwsys.parse_line(body)
            if all(event.get(k) == v for k, v in match.items()):
                found.append(event)
        return found

    def wait(self, count=1, **match):
        what = " ".join(f"{k}={v}" for k, v in match.items())
        try:
            return mwsys.wait_until(lambda: len(self.events(**match)) >= count and self.events(**match),
                                    timeout=60, what=f"{count} syslog line(s) {what}")
        except TimeoutError as e:
            raise TimeoutError(f"{e}\n--- syslog ---\n" + "\n".join(self.messages[-40:])) from None

    def close(self):
        self.sock.close()


@pytest.fixture
def workdir():
    """Traversable by the daemon's users (tmp_path's parents are 0700): the
    queue reads the file again on a reload."""
    path = mwsys.make_workdir("detached-log")
    yield pathlib.Path(path)
    mwsys.rmtree(path)


def test_detached_serve_logs_to_syslog_before_and_after_a_reload(mw_bin, workdir, ports):
    tmp_path = workdir
    port = ports.get()
    config = pathlib.Path(_serve_config(tmp_path, port))  # log: {target: stderr}
    syslog = SyslogSocket(str(tmp_path / "log"))
    dev = tmp_path / "dev"
    dev.mkdir()
    env = dict(os.environ, SYSLOG_SOCKET=str(tmp_path / "log"))
    pid = None
    try:
        r = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", _PRIVATE_DEV, "sh",
                            str(dev), mw_bin, "serve", "-c", str(config)],
                           capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120,
                           stdin=subprocess.DEVNULL)
        pid = _master_pid(mw_bin, str(config))
        assert r.returncode == 0, r.stderr
        assert "event=listening" in r.stderr  # start-up still on the caller's stderr
        assert pid, "no detached master found"
        syslog.wait(proc="queue", event="ready")
        syslog.wait(proc="smtpd", event="ready")

        os.kill(pid, signal.SIGHUP)
        master = syslog.wait(proc="master", event="reload")
        assert master[0]["result"] == "ok", master
        assert master[0]["_line"].startswith("level=info proc=master"), master  # kv, as configured
        syslog.wait(proc="queue", event="reload", result="ok")
        syslog.wait(count=2, proc="smtpd", event="ready")  # the smtpd the reload started

        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.settimeout(30)
            assert s.recv(512).startswith(b"220 ")
        syslog.wait(proc="smtpd", event="connect")  # ... and it logs there too
    finally:
        if pid:
            os.kill(pid, signal.SIGTERM)
            mwsys.wait_until(lambda: not os.path.exists(f"/proc/{pid}"), timeout=30, what="the master to stop")
        syslog.close()
