"""The internet side of the DMZ test, inside the internet namespace:
dnsmasq as the internet's DNS (MX of remote.test -> mx.remote.test ->
198.51.100.25) and Postfix's smtp-sink as that MX host, dumping every
message it gets into one file (smtp-sink -d)."""

import os
import signal
import socket
import subprocess

import mwsys
from dmz_netns import INTERNET_DNS, INTERNET_MX

REMOTE_DOMAIN = "remote.test"
REMOTE_MX = "mx.remote.test"


class _Daemon:
    """A foreground process started in a namespace, stopped by its pid."""

    proc = None

    def spawn(self, net, role, argv, log_path):
        with open(log_path, "ab") as log:
            self.proc = subprocess.Popen(net.command(role, argv), stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=log, start_new_session=True)
        self.log_path = log_path

    def check_running(self):
        if self.proc.poll() is not None:
            with open(self.log_path, errors="replace") as f:
                raise RuntimeError(f"{self.__class__.__name__} exited: {f.read()[-500:]}")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None


class InternetDns(_Daemon):
    """dnsmasq on 198.51.100.53:53, answering for .test only (--local)."""

    def __init__(self, net, workdir):
        self.net = net
        self.workdir = workdir

    def start(self):
        self.spawn(self.net, "internet", [
            "dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", "--user=root",
            f"--listen-address={INTERNET_DNS}", "--bind-interfaces", "--port=53",
            "--pid-file=", "--log-facility=-", "--local=/test/",
            f"--mx-host={REMOTE_DOMAIN},{REMOTE_MX},10",
            f"--host-record={REMOTE_MX},{INTERNET_MX}",
        ], os.path.join(self.workdir, "dnsmasq.log"))
        mwsys.wait_until(self._answers, what="dnsmasq in the internet namespace")
        return self

    def _answers(self):
        self.check_running()
        query = (b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
                 b"\x06remote\x04test\x00\x00\x0f\x00\x01")   # MX remote.test
        with self.net.socket("internet", kind=socket.SOCK_DGRAM) as s:
            s.settimeout(0.2)
            try:
                s.sendto(query, (INTERNET_DNS, 53))
                return s.recv(512)[:2] == b"\x12\x34"
            except OSError:
                return False


class InternetSink(_Daemon):
    """smtp-sink on 198.51.100.25:25, one dump file per message."""

    def __init__(self, net, workdir):
        self.net = net
        self.dumps = os.path.join(workdir, "sink")
        self.workdir = workdir

    def start(self):
        os.makedirs(self.dumps)
        uid, gid = mwsys.user_ids("nobody")
        os.chown(self.dumps, uid, gid)
        # -u: smtp-sink drops to nobody once it has its socket.
        self.spawn(self.net, "internet", [
            "smtp-sink", "-u", "nobody", "-h", REMOTE_MX, "-d", os.path.join(self.dumps, "%H%M%S."),
            f"{INTERNET_MX}:25", "10",
        ], os.path.join(self.workdir, "smtp-sink.log"))
        mwsys.wait_until(self._greets, what="smtp-sink in the internet namespace")
        return self

    def _greets(self):
        self.check_running()
        try:
            with self.net.connect("internet", INTERNET_MX, 25, timeout=1) as s:
                return s.recv(4).startswith(b"220")
        except OSError:
            return False

    def received(self, token):
        """The dump files holding token."""
        found = []
        for name in os.listdir(self.dumps):
            path = os.path.join(self.dumps, name)
            with open(path, "rb") as f:
                if token.encode() in f.read():
                    found.append(path)
        return found
