"""Harness for the mailwarden system tests.

Everything a test module needs to start the real daemon and talk to it:

- ``Ports`` / ``Addresses``: free TCP ports and distinct loopback client
  addresses, handed out once per pytest session so that modules never share
  them and a test can find "its" session in the log by the client address.
- ``Gateway``: writes a config from a dict, starts ``$MW_BIN serve -f`` with
  stderr in a log file, waits on log events, knows the children's pids from
  the ``spawned`` lines, kills, restarts, stops, and collects problems
  (sanitizer reports, crashes, unexpected exits) for the fixtures to fail on.
- ``Sink``: an aiosmtpd next hop on loopback that records every message
  (envelope and raw bytes), can answer 4xx/5xx on request and can be stopped
  and started again on the same port.
- ``SmtpClient``: a raw SMTP client for the dialogues smtplib cannot produce
  (pipelining in one write, BDAT, bare CR/LF, NUL bytes, overlong lines).

No sleeps: every wait polls a condition every 20 ms up to a timeout.
"""

import asyncio
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

POLL = 0.02
TIMEOUT = 10.0        # waits for log lines and conditions
REPLY_TIMEOUT = 5.0   # an SMTP reply on loopback

SANITIZER_MARKERS = ("AddressSanitizer", "runtime error:", "LeakSanitizer")

# The options scripts/run-tests.sh exports, so that a direct pytest run
# against the ASan build behaves the same.
SANITIZER_ENV = {
    "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=0:halt_on_error=1",
    "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1",
}


def wait_until(predicate, timeout=TIMEOUT, what="condition"):
    """Poll predicate() every 20 ms; return its first truthy value or raise."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(POLL)


def is_root():
    return os.geteuid() == 0


def ipv6_loopback_available():
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def pid_alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return False
    # Field 3 is the state; the command name (field 2) may hold spaces.
    state = stat[stat.rindex(b")") + 2:].split(b" ", 1)[0]
    return state not in (b"Z", b"X")


def proc_status(pid):
    """/proc/PID/status as a dict of str -> str."""
    result = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            result[key] = value.strip()
    return result


# --------------------------------------------------------------------------
# Ports and client addresses


class Ports:
    """Free TCP ports outside the ephemeral range, never handed out twice.

    A port is free when it can be bound (without SO_REUSEADDR) on 127.0.0.1
    and, where IPv6 exists, on ::1."""

    def __init__(self):
        self._lock = threading.Lock()
        self._next = 20000 + (os.getpid() * 7) % 9000
        self._v6 = ipv6_loopback_available()

    def _free(self, port):
        families = [(socket.AF_INET, "127.0.0.1")]
        if self._v6:
            families.append((socket.AF_INET6, "::1"))
        for family, host in families:
            with socket.socket(family, socket.SOCK_STREAM) as s:
                try:
                    s.bind((host, port))
                except OSError:
                    return False
        return True

    def get(self, count=1):
        ports = []
        with self._lock:
            while len(ports) < count:
                port = self._next
                self._next += 1
                if self._next >= 32000:
                    self._next = 20000
                if self._free(port):
                    ports.append(port)
        return ports[0] if count == 1 else ports


class Addresses:
    """Distinct loopback client addresses 127.77.x.y, one per call.

    Binding a client to its own address makes its session findable in the
    log (event=connect client=ADDR) and keeps per-IP limits apart. None of
    them is in any test's trusted_networks."""

    def __init__(self):
        self._lock = threading.Lock()
        self._n = 0

    def get(self):
        with self._lock:
            self._n += 1
            n = self._n
        return f"127.77.{(n // 250) % 250}.{n % 250 + 1}"


PORTS = Ports()
ADDRESSES = Addresses()


# --------------------------------------------------------------------------
# Config emitter (YAML, by hand: block mappings, flow-free, quoted when needed)

_PLAIN = re.compile(r"[A-Za-z0-9_./@+-][A-Za-z0-9_./@+:-]*")


def _scalar(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if (_PLAIN.fullmatch(text) and not text.endswith(":") and "::" not in text
            and text.lower() not in ("true", "false", "yes", "no", "on", "off", "null", "~")):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_yaml(value, indent=0):
    pad = " " * indent
    lines = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}{_scalar(key)}:")
                lines.append(to_yaml(item, indent + 2))
            elif isinstance(item, list):
                lines.append(f"{pad}{_scalar(key)}: []")
            elif isinstance(item, dict):
                lines.append(f"{pad}{_scalar(key)}: {{}}")
            else:
                lines.append(f"{pad}{_scalar(key)}: {_scalar(item)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                inner = to_yaml(item, indent + 2).split("\n")
                lines.append(f"{pad}- {inner[0].lstrip()}")
                lines.extend(inner[1:])
            else:
                lines.append(f"{pad}- {_scalar(item)}")
    else:
        lines.append(pad + _scalar(value))
    return "\n".join(lines)


# --------------------------------------------------------------------------
# Log lines

_KV = re.compile(r'([A-Za-z_][A-Za-z0-9_.-]*)=("(?:[^"\\]|\\.)*"|\S*)')
_PREFIX = re.compile(r"^\S+ mailwarden\[(\d+)\]: ")


def _json_text(value):
    """A JSON log value as the kv line writes it: numbers as their digits
    (seconds with three decimals for log_ms), strings as they are."""
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def parse_line(line):
    """A kv log line, or a JSON one (log.format json), as a dict of strings;
    the pid goes under '_pid', the raw line under '_line'. Quoted values
    are unescaped."""
    if line.startswith("{"):
        try:
            obj = json.loads(line)
        except ValueError:
            obj = None
        if isinstance(obj, dict):
            event = {k: _json_text(v) for k, v in obj.items()}
            event["_line"] = line
            event["_pid"] = event.pop("pid", "")
            if "child_pid" in event:  # the kv line's event field "pid"
                event["pid"] = event["child_pid"]
            return event
    event = {"_line": line}
    m = _PREFIX.match(line)
    rest = line
    if m:
        event["_pid"] = m.group(1)
        rest = line[m.end():]
    for key, value in _KV.findall(rest):
        if value.startswith('"') and value.endswith('"') and len(value) >= 2:
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        event.setdefault(key, value)
    return event


def audit_event(stderr, command):
    """The one audit line (event=admin) of an administration command, from
    its stderr (it goes to syslog too), as a dict."""
    found = [e for e in map(parse_line, stderr.splitlines())
             if e.get("event") == "admin" and e.get("command") == command]
    assert len(found) == 1, f"no single audit line for {command!r} in {stderr!r}"
    return found[0]


class LogFile:
    """The daemon's stderr, captured in a file, read as lines."""

    def __init__(self, path):
        self.path = path

    def size(self):
        try:
            return os.path.getsize(self.path)
        except FileNotFoundError:
            return 0

    def chunk(self, start=0):
        """(text, bytes consumed) of the complete lines from start on: a
        line being written is read on the next poll."""
        try:
            with open(self.path, "rb") as f:
                f.seek(start)
                data = f.read()
        except FileNotFoundError:
            return "", 0
        cut = data.rfind(b"\n") + 1
        return data[:cut].decode("utf-8", "replace"), cut

    def text(self, start=0):
        return self.chunk(start)[0]

    def lines(self, start=0):
        return self.text(start).splitlines()

    def events(self, start=0, **match):
        found = []
        for line in self.lines(start):
            event = parse_line(line)
            if all(event.get(k) == str(v) for k, v in match.items()):
                found.append(event)
        return found


# --------------------------------------------------------------------------
# The gateway


class GatewayProblem(AssertionError):
    pass


def base_config(workdir, port, sink_port=None):
    """The config every module starts from: one listener, example.test and
    other.test local, 127.0.0.10 trusted, example.test routed to the sink,
    other.test to a maildir. Modules change what they test."""
    cfg = {
        "hostname": "mx.gw.test",
        "state_dir": os.path.join(workdir, "state"),
        "user": "mailwarden",
        "smtpd_user": "mailwarden-smtpd",
        "smtpd_processes": 1,
        "shutdown_grace": "2s",
        "log": {"target": "stderr", "format": "kv", "level": "debug"},
        "listeners": [{"name": "mta", "address": "127.0.0.1", "port": port}],
        "local_domains": ["example.test", "other.test"],
        "trusted_networks": ["127.0.0.10/32"],
        "routes": {},
        "limits": {
            "line_length": 2048, "message_size": "1M", "recipients": 100,
            "connections": 100, "connections_per_ip": 10,
            "command_timeout": "10s", "data_timeout": "10s", "errors": 10,
        },
        "queue": {
            "retry_min": "1s", "retry_max": "2s", "lifetime": "1h",
            "delivery_concurrency": 10, "connect_timeout": "2s", "reply_timeout": "5s",
            # The tests' MX hosts are sinks on 127.0.0.x; the gateway's
            # default refuses loopback MX hosts as a loop (case 154, which
            # delivery/test_dns_failures.py tests with this off).
            "mx_allow_loopback": True,
        },
        # Never the machine's own resolver (not on loopback): a closed
        # loopback port, so an MX lookup fails at once as a temporary
        # error. Modules that test DNS point this at their dnsmasq.
        "dns": {"servers": ["127.0.0.1:1"]},
    }
    if sink_port is not None:
        cfg["routes"]["example.test"] = f"smtp://127.0.0.1:{sink_port}"
        cfg["routes"][".example.test"] = f"smtp://127.0.0.1:{sink_port}"
    cfg["routes"]["other.test"] = "maildir:maildir/other.test"
    return cfg


def make_workdir(prefix):
    """A work directory under /tmp that the daemon's unprivileged users can
    traverse (pytest's tmp_path parents are 0700)."""
    workdir = tempfile.mkdtemp(prefix=f"mw-{prefix}-", dir="/tmp")
    os.chmod(workdir, 0o755)
    return workdir


class Gateway:
    """One mailwarden daemon (master and children) under test."""

    registry = []  # live gateways, for the per-test checks in conftest

    def __init__(self, binary, workdir, config, name="gw"):
        self.binary = binary
        self.workdir = workdir
        self.config = config
        self.name = name
        self.config_path = os.path.join(workdir, "mailwarden.yaml")
        self.log = LogFile(os.path.join(workdir, "mailwarden.log"))
        self.proc = None
        self.start_offset = 0
        self.problems = []
        self.expected_dead = set()   # pids the test killed on purpose
        self.stopping = False
        self._checked_offset = 0
        self._known_children = set()
        # Run the daemon under this, e.g. ["ip", "netns", "exec", NS]: a
        # wrapper that execs, so that proc.pid stays the master's pid.
        self.command_prefix = []

    # -- config and paths

    # config None: the embedded default (no -c, as `make run`), whose
    # first listener is 127.0.0.1:2525 and state directory
    # ./mailwarden-data below the working directory.

    @property
    def port(self):
        return 2525 if self.config is None else int(self.config["listeners"][0]["port"])

    def listener_port(self, name):
        """The port of the listener called name."""
        return next(int(l["port"]) for l in self.config["listeners"] if l["name"] == name)

    @property
    def state_dir(self):
        return os.path.join(self.workdir, "mailwarden-data") if self.config is None else self.config["state_dir"]

    def path(self, *parts):
        return os.path.join(self.state_dir, *parts)

    def write_config(self):
        if self.config is None:
            return
        with open(self.config_path, "w") as f:
            f.write(to_yaml(self.config) + "\n")
        os.chmod(self.config_path, 0o644)

    # -- lifecycle

    def start(self, wait=True):
        assert self.proc is None or self.proc.poll() is not None, "already running"
        os.makedirs(self.state_dir, mode=0o755, exist_ok=True)
        self.write_config()
        env = dict(os.environ)
        for key, value in SANITIZER_ENV.items():
            env.setdefault(key, value)
        self.start_offset = self.log.size()
        self.stopping = False
        logf = open(self.log.path, "ab")
        try:
            self.proc = subprocess.Popen(
                self.command_prefix + [self.binary, "serve", "-f"] + ([] if self.config is None else ["-c", self.config_path]),
                stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                cwd=self.workdir, env=env, start_new_session=True)
        finally:
            logf.close()
        if self not in Gateway.registry:
            Gateway.registry.append(self)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=TIMEOUT):
        """Wait for both the queue and the smtpd to report ready (since the
        last start)."""
        self.wait_event(proc="queue", event="ready", start=self.start_offset, timeout=timeout)
        self.wait_event(proc="smtpd", event="ready", start=self.start_offset, timeout=timeout)
        if self.has_rules():
            # The rules' Hyperscan databases are compiled beside the first
            # scanner; when that added some, a second scanner takes over.
            # A test starts once that is settled (Debian's set: ~30 s).
            done = self.wait_event(proc="master", event="rules_compiled", start=self.start_offset, timeout=180)
            if done.get("new") == "yes":
                wait_until(lambda: len(self.events(start=self.start_offset, proc="scanner",
                                                   event="queue_connected")) >= 2,
                           timeout, what="the scanner with the compiled rules")
                # ... and the first one has left: its leaving (the queue's
                # scanner_gone replaced=yes) is no event of the test's own.
                self.wait_event(proc="queue", event="scanner_gone", replaced="yes", start=self.start_offset,
                                timeout=timeout)

    def has_rules(self):
        """Does this gateway run content rules (scan.rules, or the embedded
        default's, which always has the built-in set at hand)?"""
        return self.config is None or bool((self.config.get("scan") or {}).get("rules"))

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def master_pid(self):
        return self.proc.pid

    def children(self, which, start=None):
        """Pids of children of one kind from the spawned lines (since start,
        default: since the last start), oldest first."""
        start = self.start_offset if start is None else start
        pids = [int(e["pid"]) for e in self.log.events(start, proc="master", event="spawned", child=which)]
        self._known_children.update(pids)
        return pids

    def pid(self, which):
        """The current pid of 'master', 'queue' or 'smtpd' (latest spawned)."""
        if which == "master":
            return self.master_pid
        pids = self.children(which)
        assert pids, f"no spawned line for child={which} in the log"
        return pids[-1]

    def kill(self, sig, which="master"):
        pid = self.pid(which)
        self.expected_dead.add(pid)
        os.kill(pid, sig)
        return pid

    def stop(self, timeout=None):
        """SIGTERM the master; it must stop its children and exit 0."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.stopping = True
            if timeout is None:
                timeout = TIMEOUT + 5
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.problem(f"master did not exit within {timeout}s of SIGTERM")
                self._kill_all()
                return
            children = set(self.children("queue") + self.children("smtpd"))
            code = self.proc.returncode
            if code != 0:
                self.problem(f"master exited with {self._describe(code)} after SIGTERM, expected 0")
            try:
                wait_until(lambda: not any(pid_alive(p) for p in children), timeout=5,
                           what="children to exit")
            except TimeoutError:
                alive = [p for p in children if pid_alive(p)]
                self.problem(f"children {alive} still running after the master exited")
                self._kill_pids(alive)
        else:
            self._check_exit()

    def restart(self, wait=True):
        self.stop()
        return self.start(wait=wait)

    def wait_exit(self, timeout=TIMEOUT):
        """Wait for the master to exit on its own (after the test killed it)."""
        self.proc.wait(timeout=timeout)
        return self.proc.returncode

    def cleanup(self):
        """Teardown: stop everything, then check the whole log."""
        if self.running():
            self.stop()
        elif self.proc is not None:
            self._check_exit()
        # Children left behind by a master the test killed.
        leftovers = [p for p in self._all_children() if pid_alive(p)]
        if leftovers:
            self._kill_pids(leftovers)
        self.check_log(0)
        if self in Gateway.registry:
            Gateway.registry.remove(self)

    # -- problems

    def problem(self, text):
        if text not in self.problems:
            self.problems.append(text)

    @staticmethod
    def _describe(code):
        if code is None:
            return "no exit"
        if code < 0:
            try:
                return f"signal {signal.Signals(-code).name}"
            except ValueError:
                return f"signal {-code}"
        return f"exit code {code}"

    def _check_exit(self):
        code = self.proc.returncode
        if code is None or self.proc.pid in self.expected_dead or self.stopping:
            return  # killed on purpose, or judged by stop()
        self.problem(f"master (pid {self.proc.pid}) died unexpectedly: {self._describe(code)}")

    def _all_children(self):
        pids = {int(e["pid"]) for e in self.log.events(0, proc="master", event="spawned")}
        return pids | self._known_children

    def _kill_pids(self, pids):
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def _kill_all(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self._kill_pids([p for p in self._all_children() if pid_alive(p)])

    # A child_exited status that means a crash (exit codes are the master's
    # business: a child may exit 1 when its peer went away; a sanitizer
    # report is caught in the log itself).
    _CRASH = re.compile(r"\b(SIG)?(SEGV|ABRT|BUS|ILL|FPE|SYS|11|6|7|4|8|31)\b|core", re.I)

    def _crashed(self, event):
        if int(event.get("pid", "0") or 0) in self.expected_dead:
            return False
        status = event.get("status", "").replace("signal", "")
        return bool(self._CRASH.search(status))

    def check_log(self, start=None):
        """Record sanitizer reports, cores and crashed children found in the
        log since start (default: since the last check)."""
        if start is None:
            start = self._checked_offset
        text, consumed = self.log.chunk(start)
        self._checked_offset = start + consumed
        lines = text.splitlines()
        for i, line in enumerate(lines):
            if any(marker in line for marker in SANITIZER_MARKERS):
                excerpt = "\n".join(lines[max(0, i - 2):i + 25])
                self.problem(f"sanitizer report in the daemon log:\n{excerpt}")
                break
        for line in lines:
            if "core dumped" in line:
                self.problem(f"core dump: {line}")
            elif "child_exited" in line and parse_line(line).get("event") == "child_exited" \
                    and self._crashed(parse_line(line)):
                self.problem(f"child crashed: {line}")
        if self.proc is not None and self.proc.poll() is not None:
            self._check_exit()
        for name in os.listdir(self.workdir):
            if name == "core" or name.startswith("core."):
                self.problem(f"core file {os.path.join(self.workdir, name)}")

    def raise_problems(self):
        if self.problems:
            problems, self.problems = self.problems, []
            raise GatewayProblem(f"{self.name}: " + "\n---\n".join(problems)
                                 + f"\n(log: {self.log.path})")

    # -- log waits

    def mark(self):
        """A position in the log; pass it as start= to wait for later events."""
        return self.log.size()

    def wait_for(self, regex, timeout=TIMEOUT, start=None):
        """The first log line (since start, default: the last start) that
        matches regex, as a re.Match."""
        start = self.start_offset if start is None else start
        pattern = re.compile(regex)

        def find():
            for line in self.log.lines(start):
                m = pattern.search(line)
                if m:
                    return m
            self._fail_if_dead(f"log line /{regex}/")
            return None

        try:
            return wait_until(find, timeout, what=f"log line /{regex}/")
        except TimeoutError as e:
            raise TimeoutError(f"{e}\n--- log tail ---\n{self.tail()}") from None

    def wait_event(self, timeout=TIMEOUT, start=None, **match):
        """The first parsed event (since start) whose keys equal match."""
        start = self.start_offset if start is None else start
        what = " ".join(f"{k}={v}" for k, v in match.items())

        def find():
            found = self.log.events(start, **match)
            if found:
                return found[0]
            self._fail_if_dead(what)
            return None

        try:
            return wait_until(find, timeout, what=f"event {what}")
        except TimeoutError as e:
            raise TimeoutError(f"{e}\n--- log tail ---\n{self.tail()}") from None

    def events(self, start=None, **match):
        return self.log.events(self.start_offset if start is None else start, **match)

    def _fail_if_dead(self, what):
        if self.proc is not None and self.proc.poll() is not None and self.proc.pid not in self.expected_dead:
            raise GatewayProblem(
                f"master exited ({self._describe(self.proc.returncode)}) while waiting for {what}"
                f"\n--- log tail ---\n{self.tail()}")

    def tail(self, n=40):
        return "\n".join(self.log.lines(0)[-n:])

    # -- SMTP session helpers

    def session_of(self, client, start=None, timeout=TIMEOUT):
        """The session id of the (first) connection from client address."""
        return self.wait_event(proc="smtpd", event="connect", client=client,
                               start=start, timeout=timeout)["session"]

    def wait_session_end(self, client, start=None, timeout=TIMEOUT):
        session = self.session_of(client, start=start, timeout=timeout)
        self.wait_event(proc="smtpd", event="disconnect", session=session,
                        start=start, timeout=timeout)
        return session

    def wait_delivered(self, queue_id, to=None, start=None, timeout=TIMEOUT):
        match = {"proc": "queue", "event": "delivery", "queue_id": queue_id, "status": "sent"}
        if to is not None:
            match["to"] = to
        return self.wait_event(start=start, timeout=timeout, **match)


# --------------------------------------------------------------------------
# The SMTP sink (next hop)


class SinkMessage:
    def __init__(self, mail_from, rcpt_tos, data, mail_options, peer):
        self.mail_from = mail_from
        self.rcpt_tos = list(rcpt_tos)
        self.data = data            # bytes as aiosmtpd gives them (CRLF, unstuffed)
        self.mail_options = list(mail_options)
        self.peer = peer

    def after_received(self):
        """The message without the gateway's first Received: header (and its
        continuation lines); None if it does not start with one."""
        if not self.data.startswith(b"Received: from "):
            return None
        pos = self.data.find(b"\r\n")
        while pos >= 0 and self.data[pos + 2:pos + 3] in (b" ", b"\t"):
            pos = self.data.find(b"\r\n", pos + 2)
        return None if pos < 0 else self.data[pos + 2:]

    def __repr__(self):
        return f"<SinkMessage from={self.mail_from} to={self.rcpt_tos} {len(self.data)} bytes>"


class _SinkHandler:
    def __init__(self, sink):
        self.sink = sink

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        reply = self.sink.replies.get("MAIL")
        if reply:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Ok"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.sink.replies.get("RCPT")
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        self.sink.data_attempts += 1
        if self.sink.data_delay:
            await asyncio.sleep(self.sink.data_delay)
        reply = self.sink.replies.get("DATA")
        if reply:
            return reply
        msg = SinkMessage(envelope.mail_from, envelope.rcpt_tos, bytes(envelope.original_content),
                          envelope.mail_options, session.peer)
        with self.sink.cond:
            self.sink.messages.append(msg)
            self.sink.cond.notify_all()
        return "250 2.0.0 Ok: sink"


class Sink:
    """An SMTP next hop on 127.0.0.1:port that records what it receives.

    replies maps a stage ('MAIL', 'RCPT', 'DATA') to the reply it gives
    instead of accepting (e.g. '451 4.3.0 try later'); data_delay stalls
    the reply to the final dot (a delivery that stays in flight)."""

    def __init__(self, port, host="127.0.0.1", tls_context=None):
        self.port = port
        self.host = host
        self.tls_context = tls_context   # an ssl.SSLContext: the sink offers STARTTLS
        self.messages = []
        self.replies = {}
        self.data_attempts = 0
        self.data_delay = 0      # seconds the reply to the final dot is held back
        self.cond = threading.Condition()
        self._controller = None

    def start(self):
        from aiosmtpd.controller import Controller
        assert self._controller is None, "sink already running"
        # A new controller each time: a stopped one has closed its loop.
        extra = {"tls_context": self.tls_context} if self.tls_context is not None else {}
        controller = Controller(_SinkHandler(self), hostname=self.host, port=self.port,
                                server_hostname="sink.test", ready_timeout=TIMEOUT, **extra)
        controller.start()
        self._controller = controller
        return self

    def stop(self):
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def running(self):
        return self._controller is not None

    @property
    def url(self):
        return f"smtp://{self.host}:{self.port}"

    def wait_for(self, predicate=lambda m: True, count=1, timeout=TIMEOUT):
        """Wait until count messages satisfy predicate; return them."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                found = [m for m in self.messages if predicate(m)]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"sink: {len(found)} of {count} expected messages after "
                                       f"{timeout:g}s; has {self.messages}")
                self.cond.wait(min(left, POLL * 5))

    def with_token(self, token):
        token = token.encode() if isinstance(token, str) else token
        with self.cond:
            return [m for m in self.messages if token in m.data]

    def wait_token(self, token, timeout=TIMEOUT):
        token_b = token.encode() if isinstance(token, str) else token
        return self.wait_for(lambda m: token_b in m.data, timeout=timeout)[0]


# --------------------------------------------------------------------------
# Raw SMTP client


class Reply:
    def __init__(self, code, lines):
        self.code = code
        self.lines = lines          # text after "NNN-" / "NNN "

    @property
    def text(self):
        return "\n".join(self.lines)

    @property
    def keywords(self):
        """The keywords of an EHLO reply, upper case ('STARTTLS', 'AUTH', ...)."""
        return [line.split()[0].upper() for line in self.lines[1:] if line.split()]

    @property
    def enhanced(self):
        """The enhanced status code of the first line ('5.7.1'), or None."""
        m = re.match(r"([245]\.\d{1,3}\.\d{1,3})(\s|$)", self.lines[0] if self.lines else "")
        return m.group(1) if m else None

    def __repr__(self):
        return f"<Reply {self.code} {self.text!r}>"


class Closed(Exception):
    pass


class SmtpClient:
    """A line-level SMTP client over a plain socket, bound to its own
    loopback source address unless told otherwise."""

    def __init__(self, port, host="127.0.0.1", source=None, timeout=REPLY_TIMEOUT, tls_context=None,
                 server_hostname=None):
        if source is None and ":" not in host:
            source = ADDRESSES.get()
        self.source = source
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        if source is not None:
            self.sock.bind((source, 0))
        self.sock.connect((host, port))
        self.buf = b""
        self.closed = False
        if tls_context is not None:   # implicit TLS (RFC 8314)
            self.sock = tls_context.wrap_socket(self.sock, server_hostname=server_hostname)

    def starttls(self, tls_context, server_hostname=None):
        """STARTTLS, then the handshake; returns the 220 reply. Bytes the
        server sent in clear behind its 220 would be an injection: the
        handshake is not even tried then."""
        r = self.cmd("STARTTLS")
        if r.code != 220:
            return r
        assert self.buf == b"", f"cleartext after the 220: {self.buf!r}"
        self.sock = tls_context.wrap_socket(self.sock, server_hostname=server_hostname)
        return r

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.sock.sendall(data)

    def _fill(self):
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.closed = True
            raise Closed("connection closed by the server")
        self.buf += chunk

    def readline(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line.decode("utf-8", "replace")

    def reply(self):
        """One (possibly multi-line) reply."""
        lines = []
        while True:
            line = self.readline()
            m = re.match(r"(\d{3})([ -])(.*)$", line)
            assert m, f"malformed reply line {line!r}"
            lines.append(m.group(3))
            if m.group(2) == " ":
                return Reply(int(m.group(1)), lines)

    def replies(self, n):
        return [self.reply() for _ in range(n)]

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def greeting(self):
        return self.reply()

    def ehlo(self, name="client.test"):
        return self.cmd(f"EHLO {name}")

    def at_eof(self, timeout=TIMEOUT):
        """True if the server closes the connection (after any pending
        replies are read away) within timeout."""
        self.sock.settimeout(timeout)
        try:
            while True:
                self._fill()
        except Closed:
            return True
        except socket.timeout:
            return False

    def replies_until_closed(self):
        """Every reply until the server closes the connection (or is
        silent for the socket's timeout)."""
        replies = []
        try:
            while True:
                replies.append(self.reply())
        except (Closed, OSError):
            pass
        return replies

    def data(self, body):
        """DATA with an already transparent (dot-stuffed) body ending in
        CRLF; returns the final reply."""
        r = self.cmd("DATA")
        assert r.code == 354, f"DATA got {r}"
        self.send(body + (b".\r\n" if isinstance(body, bytes) else ".\r\n"))
        return self.reply()

    def transaction(self, mail_from, rcpts, body):
        """MAIL, RCPTs and DATA; returns the final reply. Raises if MAIL or a
        RCPT is not accepted."""
        r = self.cmd(f"MAIL FROM:<{mail_from}>")
        assert r.code == 250, f"MAIL got {r}"
        for rcpt in rcpts:
            r = self.cmd(f"RCPT TO:<{rcpt}>")
            assert r.code == 250, f"RCPT {rcpt} got {r}"
        return self.data(body)

    def up_to_data(self, mail_from="a@b.test", rcpts=("user@example.test",)):
        """Greeting, EHLO, MAIL, RCPTs and DATA: the body may follow
        (asserts each step, 354 last)."""
        assert self.greeting().code == 220
        self.ehlo()
        for line in [f"MAIL FROM:<{mail_from}>"] + [f"RCPT TO:<{rcpt}>" for rcpt in rcpts]:
            r = self.cmd(line)
            assert r.code == 250, f"{line} got {r}"
        r = self.cmd("DATA")
        assert r.code == 354, f"DATA got {r}"


def send_token(gw, token, rcpt="user@example.test"):
    """One message with token in its Subject, in its own session; asserts
    the 250 and returns the queue id."""
    with SmtpClient(gw.port) as c:
        assert c.greeting().code == 220
        c.ehlo()
        reply = c.transaction("a@b.test", [rcpt], f"Subject: {token}\r\n\r\n{token}\r\n".encode())
        c.cmd("QUIT")
    assert reply.code == 250, reply
    return queue_id(reply)


def write_rule_dir(tmp_path, text):
    """tmp_path/rules/50_test.cf holding text, readable by the scanner's
    unprivileged user; the folder, for scan.rules."""
    d = tmp_path / "rules"
    d.mkdir()
    (d / "50_test.cf").write_text(text)
    os.chmod(tmp_path, 0o755)
    os.chmod(d, 0o755)
    os.chmod(d / "50_test.cf", 0o644)
    return d


def send_message(gw, body, source=None, rcpt="user@example.test", sender="a@client.test"):
    """One message (bytes, dot-stuffed, ending in CRLF) in its own session
    from source (default: a fresh loopback address); the final reply."""
    with SmtpClient(gw.port, source=source or ADDRESSES.get()) as c:
        assert c.greeting().code == 220
        assert c.ehlo().code == 250
        return c.transaction(sender, [rcpt], body)


def rcpt_reply(port, source, rcpt, mail_from="a@b.test"):
    """Connect from source, EHLO, MAIL and one RCPT; the RCPT's reply."""
    with SmtpClient(port, source=source) as c:
        c.greeting()
        c.ehlo()
        r = c.cmd(f"MAIL FROM:<{mail_from}>")
        assert r.code == 250, f"MAIL got {r}"
        return c.cmd(f"RCPT TO:<{rcpt}>")


def send_from(port, source, rcpts, token, mail_from="a@b.test"):
    """One whole message from source; the final reply."""
    with SmtpClient(port, source=source) as c:
        c.greeting()
        c.ehlo()
        return c.transaction(mail_from, rcpts, f"Subject: {token}\r\n\r\nx\r\n".encode())


QUEUED = re.compile(r"queued as (\S+)")


def queue_id(reply):
    """The queue id from '250 2.0.0 Ok: queued as ID'."""
    text = reply.text if isinstance(reply, Reply) else reply
    m = QUEUED.search(text)
    assert m, f"no queue id in reply {text!r}"
    return m.group(1)


def stuff(text):
    """Make a CRLF message body transparent for DATA (RFC 5321 4.5.2)."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    lines = data.split(b"\r\n")
    return b"\r\n".join(b"." + l if l.startswith(b".") else l for l in lines)


def unique(prefix="t"):
    return f"{prefix}-{os.getpid()}-{time.monotonic_ns()}"


def user_ids(name):
    pw = pwd.getpwnam(name)
    return pw.pw_uid, pw.pw_gid


def rmtree(path):
    shutil.rmtree(path, ignore_errors=True)
