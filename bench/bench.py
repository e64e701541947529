#!/usr/bin/python3
"""mailwarden against Postfix on loopback: the benchmark behind `make bench`.

Load: Postfix's smtp-source. Downstream: Postfix's smtp-sink. The same
workload runs against mailwarden and against a private Postfix instance
configured as the same relay (generated main.cf/master.cf, its own ports
and queue directory, default durability). Every load is bounded in count
and time; every process started here is stopped here, by pid.

Latency from the end of DATA to delivery is measured by a probe: one extra
client session (this script, `probe` subcommand) that sends a small stamped
message, waits for its 250 and sends the next, all the time the load runs;
its messages go to a second domain whose next hop is a timing sink in the
same process, so end of DATA and arrival are read from one clock.

Knobs (environment): BENCH_MESSAGES, BENCH_RUNS, BENCH_CONCURRENCY,
BENCH_SIZES, BENCH_IDLE, BENCH_SYSTEMS, BENCH_TIMEOUT, BENCH_DIR, BENCH_OUT,
MW_BIN, BENCH_MW_CONFIG (YAML lines appended to mailwarden's configuration,
for A/B runs of one setting). See docs/benchmarks.md.
"""

import asyncio
import datetime
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

from listener import check_sole_listener, wait_sole_listener

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

PORT_MW = int(os.environ.get("BENCH_PORT_BASE", "26000")) + 25
PORT_PF = PORT_MW + 100
PORT_SINK = PORT_MW + 1
PORT_PROBE = PORT_MW + 2

TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def env_list(name, default):
    return [x for x in os.environ.get(name, default).replace(",", " ").split() if x]


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- /proc

def proc_stat(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
    except OSError:
        return None
    rest = s[s.rindex(")") + 2:].split()
    # rest[0] is field 3 (state); utime is field 14 -> rest[11]
    return {"ppid": int(rest[1]), "utime": int(rest[11]), "stime": int(rest[12]),
            "cutime": int(rest[13]), "cstime": int(rest[14]), "rss": int(rest[21]) * PAGE,
            "state": rest[0]}


def descendants(root):
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = proc_stat(int(d))
            if st:
                kids.setdefault(st["ppid"], []).append(int(d))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        for k in kids.get(p, []):
            out.append(k)
            todo.append(k)
    return out


def tree_cpu(root):
    """CPU seconds of root and its live descendants, plus the children it
    has reaped (cutime): continuous across children that exit."""
    st = proc_stat(root)
    if not st:
        return 0.0
    t = st["utime"] + st["stime"] + st["cutime"] + st["cstime"]
    for p in descendants(root):
        c = proc_stat(p)
        if c:
            t += c["utime"] + c["stime"]
    return t / TICK


def tree_rss(root):
    pids = [root] + descendants(root)
    return sum((proc_stat(p) or {"rss": 0})["rss"] for p in pids), len(pids)


def tree_pss(root):
    total = 0
    for p in [root] + descendants(root):
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


class RssSampler(threading.Thread):
    """Peak RSS and PSS of one process tree, or of the sum of several
    (roots: a pid or a list of pids)."""

    def __init__(self, roots):
        super().__init__(daemon=True)
        self.roots = roots if isinstance(roots, list) else [roots]
        self.peak, self.peak_pss, self.stop_ev = 0, 0, threading.Event()

    def run(self):
        n = 0
        while not self.stop_ev.is_set():
            self.peak = max(self.peak, sum(tree_rss(r)[0] for r in self.roots))
            if n % 5 == 0:  # PSS walks page tables: once a second is enough
                self.peak_pss = max(self.peak_pss, sum(tree_pss(r) for r in self.roots))
            n += 1
            self.stop_ev.wait(0.2)

    def stop(self):
        self.stop_ev.set()
        self.join()


# ---------------------------------------------------------------- helpers

TRASH = []


def retire(path):
    """Move a finished spool aside instead of deleting it: deleting
    thousands of files makes the next point's file creations slow on ext4
    (the inode allocator skips inodes freed in the last ~30 s), which would
    charge one point's clean-up to the next. Deleted at the end of the run."""
    if not os.path.exists(path):
        return
    trash = os.path.join(os.path.dirname(path), ".trash")
    os.makedirs(trash, exist_ok=True)
    dst = os.path.join(trash, f"{len(TRASH)}-{os.path.basename(path)}-{os.getpid()}")
    os.rename(path, dst)
    TRASH.append(dst)


def empty_trash():
    while TRASH:
        shutil.rmtree(TRASH.pop(), ignore_errors=True)

def wait_port(port, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                s.settimeout(5)
                if s.recv(512).startswith(b"220"):
                    s.sendall(b"QUIT\r\n")
                    return True
        except OSError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"nothing answers 220 on port {port}")


def wait_gone(pid, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = proc_stat(pid)
        if not st or st["state"] == "Z":
            return True
        time.sleep(0.05)
    return False


def stop_pid(proc_or_pid, timeout=20.0):
    """SIGTERM one process we started, SIGKILL if it does not go."""
    p = proc_or_pid
    pid = p.pid if isinstance(p, subprocess.Popen) else p
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    if isinstance(p, subprocess.Popen):
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    elif not wait_gone(pid, timeout):
        os.kill(pid, signal.SIGKILL)


# ---------------------------------------------------------------- systems

class Mailwarden:
    name = "mailwarden"
    # Extra configuration (the scanner variant adds its scan section).
    extra = ""
    # The bench clients relay as trusted hosts (outbound policy); the
    # content point (bench/content_bench.py) receives as from the internet.
    trusted = "trusted_networks: [127.0.0.0/8]\n"

    def __init__(self, work, binary):
        self.dir = os.path.join(work, self.name)
        self.bin = binary
        self.port = PORT_MW
        self.proc = None

    def setup(self):
        retire(self.dir)
        os.makedirs(self.dir)
        with open(os.path.join(self.dir, "mailwarden.yaml"), "w") as f:
            f.write(f"""hostname: mw.bench.test
state_dir: {self.dir}/state
smtpd_processes: 1
log: {{level: warning}}
listeners:
  - name: mta
    address: 127.0.0.1
    port: {self.port}
local_domains: [bench.test, probe.test]
{self.trusted}routes:
  bench.test: smtp://127.0.0.1:{PORT_SINK}
  probe.test: smtp://127.0.0.1:{PORT_PROBE}
limits:
  connections: 20000
  connections_per_ip: 20000
  message_size: 25M
queue:
  delivery_concurrency: 50
  per_destination: {os.environ.get('BENCH_MW_PER_DESTINATION', '50')}
""" + self.extra + os.environ.get("BENCH_MW_CONFIG", ""))

    def version(self):
        v = subprocess.run([self.bin, "version"], capture_output=True, text=True).stdout.strip()
        g = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"], capture_output=True, text=True)
        if g.returncode == 0 and os.path.realpath(self.bin).startswith(os.path.realpath(ROOT)):
            v += f" (git {g.stdout.strip()})"
        return v

    def start(self):
        retire(os.path.join(self.dir, "state"))
        self.prepare_state(os.path.join(self.dir, "state"))
        self.logf = open(os.path.join(self.dir, "mailwarden.log"), "ab")
        self.proc = subprocess.Popen([self.bin, "serve", "-c", os.path.join(self.dir, "mailwarden.yaml"), "-f"],
                                     stdout=self.logf, stderr=self.logf)
        wait_port(self.port)
        return self.proc.pid

    def prepare_state(self, state_dir):
        """Called with the fresh (absent) state_dir before each start."""

    def stop(self):
        if self.proc:
            stop_pid(self.proc)
            self.proc = None
            self.logf.close()

    def spool_dir(self):
        return os.path.join(self.dir, "state")


class MailwardenScan(Mailwarden):
    """The same relay with the scanner process in the path of every message
    (issue 10): a content check that scores, no threshold that acts. The
    bench clients are in trusted_networks, so the outbound policy applies."""
    name = "mailwarden-scan"
    extra = """scan:
  outbound:
    checks:
      headers: {action: score, points: 1}
"""


MASTER_CF = """\
{port}      inet  n       -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


class Postfix:
    name = "postfix"
    # More main.cf lines (the content point adds its milter).
    extra_main_cf = ""

    def __init__(self, work):
        self.dir = os.path.join(work, self.name)
        self.etc = os.path.join(self.dir, "etc")
        self.port = PORT_PF
        self.master = None

    def setup(self):
        subprocess.run(["postfix", "-c", self.etc, "stop"], capture_output=True) if os.path.exists(
            os.path.join(self.etc, "main.cf")) else None
        retire(self.dir)
        os.makedirs(self.etc)
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            f.write(f"""# generated by bench/bench.py: a relay for bench.test and probe.test
compatibility_level = 3.6
queue_directory = {self.dir}/spool
data_directory = {self.dir}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = pf.bench.test
myorigin = pf.bench.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relay_domains = bench.test probe.test
transport_maps = inline:{{ bench.test=smtp:[127.0.0.1]:{PORT_SINK}, probe.test=smtp:[127.0.0.1]:{PORT_PROBE} }}
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
local_recipient_maps =
alias_maps =
alias_database =
biff = no
smtpd_banner = $myhostname ESMTP
# The same limits as mailwarden's config: 50 parallel deliveries, enough
# smtpd processes for the 200-session points, no per-client limits.
default_process_limit = {os.environ.get('BENCH_POSTFIX_PROCESS_LIMIT', '300')}
smtp_destination_concurrency_limit = 50
default_destination_concurrency_limit = 50
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_client_message_rate_limit = 0
message_size_limit = 26214400
smtp_tls_security_level = none
smtpd_tls_security_level = none
maillog_file = {self.dir}/maillog
""" + self.extra_main_cf)
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(port=f"127.0.0.1:{self.port}"))
        os.makedirs(os.path.join(self.dir, "data"))
        shutil.chown(os.path.join(self.dir, "data"), "postfix", "postfix")

    def version(self):
        return "Postfix " + subprocess.run(["postconf", "-d", "-h", "mail_version"], capture_output=True,
                                           text=True).stdout.strip()

    def start(self):
        spool = os.path.join(self.dir, "spool")
        retire(spool)
        os.makedirs(spool)  # postfix-script creates what goes inside
        r = subprocess.run(["postfix", "-c", self.etc, "start"], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("postfix start failed: " + r.stdout + r.stderr)
        pidfile = os.path.join(spool, "pid", "master.pid")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with open(pidfile) as f:
                    self.master = int(f.read().split()[0])
                break
            except (OSError, ValueError, IndexError):
                time.sleep(0.05)
        wait_port(self.port)
        return self.master

    def stop(self):
        if self.master:
            subprocess.run(["postfix", "-c", self.etc, "stop"], capture_output=True)
            if not wait_gone(self.master, 30):
                stop_pid(self.master)
            self.master = None

    def spool_dir(self):
        return os.path.join(self.dir, "spool")

    def queue_empty(self):
        """True when this instance's queue holds nothing (`postqueue -p`)."""
        r = subprocess.run(["postqueue", "-c", self.etc, "-p"], capture_output=True, text=True)
        return r.returncode == 0 and "Mail queue is empty" in r.stdout


# ---------------------------------------------------------------- probe

async def probe_main(server_port, sink_port, out_path, interval, size):
    """Timing sink on sink_port + a client sending stamped messages to
    server_port until SIGTERM; writes {"lat": [seconds...], "sent": n}."""
    sent_at, lat = {}, []
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    pat = re.compile(rb"X-Bench-Probe: (\d+)")

    async def sink_conn(reader, writer):
        writer.write(b"220 probe-sink ESMTP\r\n")
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                cmd = line[:4].upper()
                if cmd in (b"EHLO", b"LHLO"):
                    writer.write(b"250-probe-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
                elif cmd == b"DATA":
                    writer.write(b"354 go\r\n")
                    await writer.drain()
                    body = await reader.readuntil(b"\r\n.\r\n")
                    t = time.monotonic()
                    m = pat.search(body)
                    if m and int(m.group(1)) in sent_at:
                        lat.append(t - sent_at.pop(int(m.group(1))))
                    writer.write(b"250 ok\r\n")
                elif cmd == b"QUIT":
                    writer.write(b"221 bye\r\n")
                    await writer.drain()
                    break
                else:
                    writer.write(b"250 ok\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        writer.close()

    server = await asyncio.start_server(sink_conn, "127.0.0.1", sink_port, limit=1 << 24)
    filler = (b"x" * 76 + b"\r\n") * max(1, size // 78)
    n = 0

    async def client():
        nonlocal n
        reader, writer = await asyncio.open_connection("127.0.0.1", server_port)

        async def reply():
            while True:
                line = await asyncio.wait_for(reader.readline(), 60)
                if not line:
                    raise ConnectionError("closed")
                if line[3:4] != b"-":
                    return line
        await reply()
        writer.write(b"EHLO probe.bench.test\r\n")
        await reply()
        while not stop.is_set():
            t_next = time.monotonic() + interval
            n += 1
            writer.write(b"MAIL FROM:<probe@src.test>\r\nRCPT TO:<p@probe.test>\r\nDATA\r\n")
            for _ in range(3):
                r = await reply()
            if not r.startswith(b"354"):
                raise RuntimeError(f"probe: {r!r}")
            writer.write(b"Subject: probe\r\nX-Bench-Probe: %d\r\n\r\n" % n + filler + b".\r\n")
            await writer.drain()
            sent_at[n] = time.monotonic()
            r = await reply()
            if not r.startswith(b"250"):
                sent_at.pop(n, None)
            elif n == 1:
                open(out_path + ".ready", "w").close()  # the daemon takes mail: start the clock
            delay = t_next - time.monotonic()
            if delay > 0:
                try:
                    await asyncio.wait_for(stop.wait(), delay)
                except asyncio.TimeoutError:
                    pass
        writer.write(b"QUIT\r\n")
        writer.close()

    err = None
    try:
        await client()
    except Exception as e:  # reported in the result, the run goes on
        err = repr(e)
    await stop.wait()
    # Give what is still in the queue a moment to arrive.
    deadline = time.monotonic() + 10
    while sent_at and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    server.close()
    with open(out_path, "w") as f:
        json.dump({"lat": lat, "sent": n, "lost": len(sent_at), "error": err}, f)


# ---------------------------------------------------------------- one point

def percentile(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    k = min(len(xs) - 1, max(0, int(round(p / 100.0 * len(xs) + 0.5)) - 1))
    return xs[k]


def run_point(system, work, conc, size, count, timeout):
    tmp = os.path.join(work, "point")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    sink_out = open(os.path.join(tmp, "sink.out"), "wb")
    sink = subprocess.Popen(["smtp-sink", "-u", "nobody", "-c", "-m", "1024", "-M", str(count),
                             f"127.0.0.1:{PORT_SINK}", "1024"], stdout=sink_out, stderr=subprocess.STDOUT)
    probe_out = os.path.join(tmp, "probe.json")
    # The ports must be ours alone: smtp-sink and Postfix bind with
    # SO_REUSEPORT, and a second bench on them would share the
    # connections silently (listener.py).
    try:
        wait_sole_listener(sink, PORT_SINK)
    except RuntimeError as e:
        stop_pid(sink)
        sink_out.close()
        with open(os.path.join(tmp, "sink.out"), "rb") as f:
            raise RuntimeError(f"smtp-sink: {e}: " + f.read()[-300:].decode(errors="replace")) from None
    try:
        root = system.start()
        check_sole_listener(system.port, [root] + descendants(root), system.name)
    except Exception:
        system.stop()
        stop_pid(sink)
        raise
    probe = subprocess.Popen([sys.executable, os.path.abspath(__file__), "probe", str(system.port),
                              str(PORT_PROBE), probe_out, os.environ.get("BENCH_PROBE_INTERVAL", "0.01"),
                              str(size)])
    deadline = time.monotonic() + 30
    while not os.path.exists(probe_out + ".ready") and time.monotonic() < deadline:
        time.sleep(0.02)
    cpu0 = tree_cpu(root)
    sampler = RssSampler(root)
    sampler.start()
    t0 = time.monotonic()
    src = subprocess.run(["timeout", str(int(timeout)), "smtp-source", "-d", "-s", str(conc),
                          "-m", str(count), "-l", str(size), "-f", "load@src.test", "-t", "rcpt@bench.test",
                          "-M", "src.test", f"127.0.0.1:{system.port}"],
                         capture_output=True, text=True)
    t1 = time.monotonic()
    try:
        sink.wait(max(1.0, timeout - (t1 - t0)))
        t2 = time.monotonic()
        complete = sink.returncode == 0
    except subprocess.TimeoutExpired:
        t2, complete = time.monotonic(), False
    cpu1 = tree_cpu(root)
    sampler.stop()
    try:  # a bench started on the same ports meanwhile took part of the load
        check_sole_listener(system.port, [root] + descendants(root), system.name)
    except RuntimeError as e:
        log(f"{system.name} c={conc}: {e}: the point is void")
        complete = False
    probe.send_signal(signal.SIGTERM)
    try:
        probe.wait(30)
    except subprocess.TimeoutExpired:
        probe.kill()
        probe.wait()
    if sink.poll() is None:
        stop_pid(sink)
    sink_out.close()
    system.stop()
    with open(os.path.join(tmp, "sink.out"), "rb") as f:
        counters = re.findall(rb"(\d+)", f.read().replace(b"\r", b"\n"))
    try:
        with open(probe_out) as f:
            pr = json.load(f)
    except (OSError, ValueError):
        pr = {"lat": [], "sent": 0, "lost": 0, "error": "no probe result"}
    res = {
        "system": system.name, "conc": conc, "size": size, "count": count,
        "source_rc": src.returncode, "source_err": src.stderr[-300:], "complete": complete,
        "accept_s": t1 - t0, "e2e_s": t2 - t0,
        "accept_rate": count / (t1 - t0) if src.returncode == 0 else 0.0,
        "e2e_rate": count / (t2 - t0) if complete and src.returncode == 0 else 0.0,
        "cpu_per_1k": (cpu1 - cpu0) / count * 1000, "peak_rss": sampler.peak, "peak_pss": sampler.peak_pss,
        "p50": percentile(pr["lat"], 50), "p99": percentile(pr["lat"], 99),
        "probes": len(pr["lat"]), "probe_err": pr.get("error"),
        "sink_last": int(counters[-1]) if counters else None,
    }
    log(f"{system.name} c={conc} size={size} n={count}: accept {res['accept_rate']:.0f}/s "
        f"e2e {res['e2e_rate']:.0f}/s p50 {res['p50']*1000:.1f}ms p99 {res['p99']*1000:.1f}ms "
        f"cpu {res['cpu_per_1k']:.2f}s/1k rss {res['peak_rss']/2**20:.1f}MiB probes {res['probes']}"
        + ("" if complete and src.returncode == 0 else f" INCOMPLETE rc={src.returncode} {src.stderr[-200:]!r}"))
    return res


# ---------------------------------------------------------------- idle sessions

IDLE_BATCH = 250


def idle_sessions(system, n, hold_timeout):
    root = system.start()
    time.sleep(0.5)
    rss0, pss0 = tree_rss(root)[0], tree_pss(root)
    socks, answered = [], 0
    import selectors
    sel = selectors.DefaultSelector()
    state = {}
    deadline = time.monotonic() + hold_timeout

    def pump(until_answered, until):
        nonlocal answered
        while time.monotonic() < min(until, deadline) and answered < until_answered:
            for key, _ in sel.select(0.1):
                s = key.fileobj
                try:
                    data = s.recv(4096)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                if not data:
                    sel.unregister(s)
                    continue
                st = state[s]
                st[1] += data
                if not re.search(rb"(^|\n)\d{3} [^\n]*\n", st[1]):
                    continue
                if st[0] == 0:
                    st[0], st[1] = 1, b""
                    s.send(b"EHLO idle.bench.test\r\n")
                elif st[0] == 1:
                    st[0] = 2
                    answered += 1
                    sel.unregister(s)

    # Connect in batches (a burst of 5 000 SYNs would overflow any listen
    # backlog); the next batch starts when this one is answered or after 5 s.
    for first in range(0, n, IDLE_BATCH):
        for i in range(first, min(n, first + IDLE_BATCH)):
            s = socket.socket()
            s.setblocking(False)
            try:
                s.connect_ex(("127.0.0.1", system.port))
            except OSError:
                s.close()
                continue
            socks.append(s)
            state[s] = [0, b""]  # phase 0: wait greeting, 1: wait EHLO reply, 2: done
            sel.register(s, selectors.EVENT_READ)
        pump(len(socks), time.monotonic() + 5)
    pump(len(socks), deadline)
    time.sleep(1.0)
    rss1, nproc = tree_rss(root)
    pss1 = tree_pss(root)
    for s in socks:
        s.close()
    sel.close()
    system.stop()
    res = {"system": system.name, "opened": len(socks), "answered": answered,
           "rss_before": rss0, "rss_after": rss1, "pss_before": pss0, "pss_after": pss1, "procs": nproc,
           "rss_per_session": (rss1 - rss0) / answered if answered else float("nan"),
           "pss_per_session": (pss1 - pss0) / answered if answered else float("nan")}
    log(f"idle {system.name}: {answered}/{n} sessions answered EHLO, "
        f"RSS +{(rss1-rss0)/2**20:.1f}MiB, PSS +{(pss1-pss0)/2**20:.1f}MiB, {nproc} processes")
    return res


# ---------------------------------------------------------------- report

def med(rows, key):
    vals = [r[key] for r in rows if r[key] == r[key]]
    return statistics.median(vals) if vals else float("nan")


def ratio(a, b):
    if not b or a != a or b != b:
        return "–"
    return f"{a / b:.2f}×"


def fmt(v, unit=""):
    if v != v:
        return "–"
    if unit == "ms":
        return f"{v * 1000:.1f}"
    if unit == "MiB":
        return f"{v / 2**20:.1f}"
    if unit == "KiB":
        return f"{v / 1024:.1f}"
    if abs(v) >= 100 or float(v).is_integer():
        return f"{v:.0f}"
    return f"{v:.2f}"


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = os.sysconf("SC_PHYS_PAGES") * PAGE / 2**30
    return f"{os.cpu_count()} × {cpu}, {mem:.0f} GiB RAM, kernel {platform.release()}"


def fs_of(path):
    r = subprocess.run(["df", "--output=source,fstype,target", path], capture_output=True, text=True)
    lines = r.stdout.strip().splitlines()
    return " ".join(lines[-1].split()) if len(lines) > 1 else "?"


CONTENT_BEGIN, CONTENT_END = "<!-- content-scanning -->", "<!-- /content-scanning -->"
MALWARE_BEGIN, MALWARE_END = "<!-- malware-bench -->", "<!-- /malware-bench -->"


def write_report(out, params, points, idle, fsync, versions, notes):
    head, content = "", ""
    if os.path.exists(out):
        with open(out) as f:
            old = f.read()
        # Keep a hand-written preamble above the generated part, if any.
        if "<!-- generated -->" in old:
            head = old.split("<!-- generated -->")[0]
        # Keep the content point's section (bench/content_bench.py), which
        # only a run with BENCH_CORPUS rewrites, and the malware bench's
        # (bench/malware_bench.py, BENCH_MALWARE=1).
        for begin, end in ((CONTENT_BEGIN, CONTENT_END), (MALWARE_BEGIN, MALWARE_END)):
            if begin in old and end in old:
                content += old[old.index(begin):old.index(end) + len(end)] + "\n"
    L = []
    if not head:
        L.append("# Benchmarks: mailwarden against Postfix\n")
    L.append("## Results\n")
    L.append("Generated by `make bench` (`scripts/bench.sh` → `bench/bench.py`); "
             "everything from here on is rewritten by each run. "
             "How it is measured, and what the numbers mean, is in the notes at the end.\n")
    L.append(f"- date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}")
    L.append(f"- machine: {machine()}")
    L.append(f"- spool file system: {fs_of(params['work'])}")
    L.append(f"- versions: {versions.get('mailwarden', '?')}; {versions.get('postfix', '?')}; "
             f"libevent {versions.get('libevent', '?')}")
    L.append(f"- parameters: {params['messages']} messages per point, {params['runs']} run(s) per point "
             f"(median shown), concurrency {params['conc']}, sizes {params['sizes']} bytes, "
             f"smtp-source -d (one session sends its share of messages, MAIL/RCPT/DATA each)")
    L.append(f"- command: `{params['command']}`")
    if params.get("note"):
        L.append(f"- {params['note']}")
    if params.get("reduced"):
        L.append("- **reduced matrix**: fewer messages/runs than the issue's defaults "
                 "(10 000 messages, 3 runs)")
    L.append("")
    L.append("## Throughput, latency, CPU, memory\n")
    L.append("accepted/s: messages / time until smtp-source got its last 250. "
             "e2e/s: messages / time until smtp-sink had them all. "
             "p50/p99: end of DATA → arrival at the next hop, in ms (probe, see notes). "
             "CPU: seconds of all daemon processes per 1000 messages. RSS: peak sum over the daemon's processes, MiB (sampled every 0.2 s; shared pages count once per process, which inflates a many-process design); PSS: the same with shared pages shared out (sampled every 1 s). "
             "Ratio = mailwarden / Postfix (for latency, CPU and RSS lower is better). "
             "\"+ scanner\": the same gateway with the scanner process in the path of every message "
             "(a content check runs on each; issue 10).\n")
    L.append("| size | conc | figure | mailwarden | + scanner | Postfix | ratio | ratio + scanner |")
    L.append("|---:|---:|---|---:|---:|---:|---:|---:|")
    figures = [("accepted/s", "accept_rate", ""), ("e2e/s", "e2e_rate", ""), ("p50 ms", "p50", "ms"),
               ("p99 ms", "p99", "ms"), ("CPU s/1k msg", "cpu_per_1k", ""), ("peak RSS MiB", "peak_rss", "MiB"),
               ("peak PSS MiB", "peak_pss", "MiB")]
    for size in params["sizes"]:
        for conc in params["conc"]:
            for label, key, unit in figures:
                def of(system):
                    rs = [r for r in points if r["system"] == system and r["size"] == size and r["conc"] == conc]
                    return med(rs, key) if rs else float("nan")
                mv, sv, pv = of("mailwarden"), of("mailwarden-scan"), of("postfix")
                L.append(f"| {size // 1024} KiB | {conc} | {label} | {fmt(mv, unit)} | {fmt(sv, unit)} | "
                         f"{fmt(pv, unit)} | {ratio(mv, pv)} | {ratio(sv, pv)} |")
    bad = [r for r in points if not r["complete"] or r["source_rc"] != 0]
    if bad:
        L.append("")
        L.append("Incomplete points (counted as 0/s): " + "; ".join(
            f"{r['system']} c={r['conc']} {r['size']}B rc={r['source_rc']} sink_last={r['sink_last']}" for r in bad))
    L.append("")
    L.append("## Idle sessions\n")
    L.append(f"{params['idle']} TCP connections opened in batches of {IDLE_BATCH} (the next batch when "
             "the last is answered, or after 5 s), each sends EHLO after the greeting and then "
             "holds; memory measured 1 s after the last answer (or the time limit). "
             "RSS sums every process of the daemon (shared pages count once per process); PSS shares them out.\n")
    L.append("| figure | mailwarden | + scanner | Postfix | ratio | ratio + scanner |")
    L.append("|---|---:|---:|---:|---:|---:|")
    im = next((r for r in idle if r["system"] == "mailwarden"), None)
    isc = next((r for r in idle if r["system"] == "mailwarden-scan"), None)
    ip = next((r for r in idle if r["system"] == "postfix"), None)
    for label, key, unit in [("sessions answered EHLO", "answered", ""), ("processes", "procs", ""),
                             ("RSS before, MiB", "rss_before", "MiB"), ("RSS after, MiB", "rss_after", "MiB"),
                             ("RSS per session, KiB", "rss_per_session", "KiB"),
                             ("PSS per session, KiB", "pss_per_session", "KiB")]:
        mv = im[key] if im else float("nan")
        sv = isc[key] if isc else float("nan")
        pv = ip[key] if ip else float("nan")
        L.append(f"| {label} | {fmt(mv, unit)} | {fmt(sv, unit)} | {fmt(pv, unit)} | {ratio(mv, pv)} | {ratio(sv, pv)} |")
    L.append("")
    L.append("## The disk's own commit rate\n")
    L.append(f"`bench/fsync_rate` in the spool's file system ({fs_of(params['work'])}), "
             f"{params['fsync_secs']} s per mode, 4 KiB messages, before and after the matrix (the "
             "disk is shared: the spread between the two shows how much it varied). This is the "
             "ceiling of a design that makes each message durable before its 250.\n")
    L.append("| mode | messages/s before | messages/s after |")
    L.append("|---|---:|---:|")
    desc = {"per-message": "per message: write, fsync(file), rename, fsync(dir)",
            "group-files": "32 files per group: 32 concurrent fsyncs, 32 renames, one fsync(dir)",
            "group-log": "32 messages appended to one log, one fdatasync"}
    for k in fsync["before"]:
        L.append(f"| {desc.get(k, k)} | {fsync['before'][k]:.0f} | {fsync.get('after', {}).get(k, float('nan')):.0f} |")
    L.append("")
    L.extend(notes)
    text = "\n".join(L) + "\n"
    with open(out, "w") as f:
        f.write(head + ("<!-- generated -->\n" if head else "") + text + ("\n" + content if content else ""))
    with open(out.replace(".md", ".json") if out.endswith(".md") else out + ".json", "w") as f:
        json.dump({"params": params, "points": points, "idle": idle, "fsync": fsync}, f, indent=1)


NOTES = """## Notes on method

- **Same relay on both sides.** mailwarden: `smtpd_processes: 1`, `delivery_concurrency: 50`,
  `log.level: warning`, limits raised so that no session is refused. Postfix: a private instance
  (`postfix -c DIR start`) with a generated main.cf/master.cf: `relay_domains` and `transport_maps`
  sending the two test domains to the same next hops, `smtp_destination_concurrency_limit = 50`,
  `default_process_limit = 300` (enough smtpd processes for 200 sessions), no chroot, no per-client
  limits, default durability (cleanup fsyncs the queue file before smtpd answers 250). Both start
  with an empty queue for every point and are stopped after it.
- **Durability.** mailwarden answers 250 only after fsync(file), rename into `queue/` and fsync of
  `queue/` (src/queue/spool.h). Postfix answers after fsync of the queue file; it does not fsync
  the directory (it relies on the file system's ordering).
- **Latency probe.** smtp-source cannot stamp messages, so one extra session (bench/bench.py `probe`)
  sends a stamped 4/100 KiB message, waits for the 250 and sends the next (at most one per 10 ms)
  for the whole point. Its recipient domain `probe.test` routes to a timing sink in the same
  process: latency = arrival of the end of data at the sink − the moment the probe wrote the
  final `.`, one clock. The probe rides in the same queue as the load, but on its own next hop:
  Postfix's queue manager serves destinations round-robin, so its probe does not wait behind the
  bench.test backlog, while mailwarden's scheduler is FIFO over all messages. The sample is the
  number of probe messages per point (shown in bench.json), so p99 of a short point is coarse.
- **Completion.** `smtp-sink -M N` exits when it has received N messages; that moment ends the
  e2e time. Every load and wait is bounded by BENCH_TIMEOUT.
- **CPU** is utime+stime of the daemon's master and every descendant, plus the children it reaped
  (Postfix's smtpd/cleanup/smtp processes come and go), read before and after the load.
- **2 cores** are shared by the load generator, the sink and the daemon; figures are relative,
  and the ratio is what the targets are about.
"""


# ---------------------------------------------------------------- main

def main():
    if len(sys.argv) > 1 and sys.argv[1] == "probe":
        _, _, sport, pport, out, interval, size = sys.argv
        asyncio.run(probe_main(int(sport), int(pport), out, float(interval), int(size)))
        return 0
    work = os.environ.get("BENCH_DIR", "/var/tmp/mailwarden-bench")
    out = os.environ.get("BENCH_OUT", os.path.join(ROOT, "docs", "benchmarks.md"))
    count = int(os.environ.get("BENCH_MESSAGES", "10000"))
    runs = int(os.environ.get("BENCH_RUNS", "3"))
    concs = [int(x) for x in env_list("BENCH_CONCURRENCY", "1 10 50 200")]
    sizes = [int(x) for x in env_list("BENCH_SIZES", "4096 102400")]
    idle_n = int(os.environ.get("BENCH_IDLE", "5000"))
    systems_wanted = env_list("BENCH_SYSTEMS", "mailwarden mailwarden-scan postfix")
    timeout = float(os.environ.get("BENCH_TIMEOUT", "300"))
    fsync_secs = float(os.environ.get("BENCH_FSYNC_SECONDS", "3"))
    binary = os.environ.get("MW_BIN", os.path.join(ROOT, "build", "mailwarden"))
    os.makedirs(work, exist_ok=True)
    systems = []
    if "mailwarden" in systems_wanted:
        systems.append(Mailwarden(work, binary))
    if "mailwarden-scan" in systems_wanted:
        systems.append(MailwardenScan(work, binary))
    if "postfix" in systems_wanted:
        systems.append(Postfix(work))
    for s in systems:
        s.setup()
    versions = {s.name: s.version() for s in systems}
    r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libevent-2.1-7"], capture_output=True, text=True)
    versions["libevent"] = r.stdout.strip() or "?"
    params = {"work": work, "messages": count, "runs": runs, "conc": concs, "sizes": sizes, "idle": idle_n,
              "fsync_secs": fsync_secs, "reduced": count < 10000 or runs < 3,
              "command": os.environ.get("BENCH_COMMAND", "make bench")}
    points, idle = [], []
    try:
        fs_bin = os.path.join(work, "fsync_rate")
        subprocess.run(["cc", "-O2", "-pthread", "-o", fs_bin, os.path.join(HERE, "fsync_rate.c")], check=True)
        def fsync_rate():
            r = subprocess.run([fs_bin, os.path.join(work, "fsync-scratch"), str(fsync_secs)],
                               capture_output=True, text=True, timeout=fsync_secs * 3 + 60, check=True)
            rates = {k: float(v) for k, v in (l.split() for l in r.stdout.splitlines())}
            log("fsync rate:", rates)
            return rates
        fsync = {"before": fsync_rate()}
        for rep in range(runs):
            for size in sizes:
                for conc in concs:
                    for s in systems:
                        points.append(run_point(s, work, conc, size, count, timeout))
        if idle_n > 0:
            for s in systems:
                idle.append(idle_sessions(s, idle_n, min(timeout, 60)))
        fsync["after"] = fsync_rate()
    finally:
        for s in systems:
            s.stop()
        empty_trash()
    write_report(out, params, points, idle, fsync, versions, NOTES.splitlines())
    log("wrote", out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
