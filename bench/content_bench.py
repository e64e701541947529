#!/usr/bin/python3
"""The content-scanning point of `make bench` (issue 11): real mail from a
corpus through three gateways that scan it with rules and Bayes, on loopback:

  mailwarden          its scanner process (SpamAssassin's rules + Bayes)
  Postfix + SA        spamass-milter in front of spamd (same rules, sa-learn)
  Postfix + rspamd    rspamd's proxy worker in milter mode (its own rules,
                      Bayes in a private Redis)

Each system is trained on the same half of the corpus, verified to scan (a
GTUBE message is refused or arrives marked as spam), then takes the same
mix of messages from the other half at each concurrency. Every daemon runs
from a temporary directory on its own loopback ports and is stopped by pid;
every run is bounded in count and time. Called by scripts/bench.sh when
BENCH_CORPUS is set; knobs in docs/benchmarks.md.
"""

import json
import os
import random
import re
import shutil
import signal
import smtplib
import subprocess
import sys
import threading
import time

import bench
from bench import ROOT, HERE, log, stop_pid, tree_cpu, RssSampler, PORT_SINK
from content_systems import MailwardenContent, PostfixSpamAssassin, PostfixRspamd, run_logged
from listener import check_sole_listener, wait_sole_listener

GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
SPAM_MARK = re.compile(rb"^X-Spam(-Flag)?: *yes", re.I | re.M)
SENDER, RECIPIENT = "bench@src.test", "rcpt@bench.test"


# ---------------------------------------------------------------- corpus

class Corpus:
    """The corpus split as `make eval` splits it (bench/eval_split.py: even
    files train, odd ones are sent), training capped per class."""

    def __init__(self, src, work, train_limit):
        self.dir = os.path.join(work, "corpus")
        stamp = os.path.join(self.dir, "source")
        if not os.path.exists(stamp) or open(stamp).read() != os.path.abspath(src):
            shutil.rmtree(self.dir, ignore_errors=True)   # another corpus: split again
            unpacked = src
            if not os.path.isdir(src):
                unpacked = os.path.join(self.dir, "unpacked")
                os.makedirs(unpacked, exist_ok=True)
                run_logged(["tar", "-xJf", src, "-C", unpacked], "unpacking the corpus")
            run_logged([sys.executable, os.path.join(HERE, "eval_split.py"), unpacked,
                        os.path.join(self.dir, "split"), "0"], "splitting the corpus")
            with open(stamp, "w") as f:
                f.write(os.path.abspath(src))
        self.train = {}
        for cls in ("spam", "ham"):
            files = self.files("train", cls)[:train_limit or None]
            d = os.path.join(self.dir, f"train-{train_limit}", cls)
            if not os.path.isdir(d):
                os.makedirs(d)
                for f in files:
                    os.link(f, os.path.join(d, os.path.basename(f)))
            self.train[cls] = d
        self.counts = {c: len(os.listdir(d)) for c, d in self.train.items()}

    def files(self, half, cls):
        d = os.path.join(self.dir, "split", half, cls)
        return sorted(os.path.join(d, f) for f in os.listdir(d))

    def mix(self, count, spam_share):
        """count test messages, spam_share of them spam, in a fixed shuffled
        order (the same for every system); the test half is cycled when
        count is larger."""
        spam, ham = self.files("test", "spam"), self.files("test", "ham")
        n_spam = round(count * spam_share)
        picked = [spam[i % len(spam)] for i in range(n_spam)] + \
                 [ham[i % len(ham)] for i in range(count - n_spam)]
        random.Random(11).shuffle(picked)
        return picked


# ---------------------------------------------------------------- sink

class Sink:
    """smtp-sink as the next hop; a thread reads its live counter and notes
    when each count was reached, so the moment the n-th message arrived is
    known however late the caller asks (the client may finish long after
    the last delivery). With dump_dir every message is dumped to a file of
    its own (the probes read them); with dump_file all are appended to one
    file, whose X-Mail-Args lines tell the point's own messages (by their
    envelope sender) from any other arriving at the same port."""

    def __init__(self, dump_dir=None, dump_file=None):
        cmd = ["smtp-sink", "-u", "nobody", "-c"]
        if dump_dir:
            os.makedirs(dump_dir, exist_ok=True)
            os.chmod(dump_dir, 0o777)
            cmd += ["-d", os.path.join(dump_dir, "%H%M%S.")]
        self.dump_file = dump_file
        if dump_file:
            os.makedirs(os.path.dirname(dump_file), exist_ok=True)
            os.chmod(os.path.dirname(dump_file), 0o777)
            if os.path.exists(dump_file):
                os.unlink(dump_file)
            cmd += ["-D", dump_file]
        self.proc = subprocess.Popen(cmd + [f"127.0.0.1:{PORT_SINK}", "1024"], stdout=subprocess.PIPE)
        self.times = []   # times[k]: when the counter reached k + 1
        self.cond = threading.Condition()
        threading.Thread(target=self.read, daemon=True).start()
        try:
            wait_sole_listener(self.proc, PORT_SINK)
        except RuntimeError:
            self.stop()
            raise

    @property
    def count(self):
        return len(self.times)

    def read(self):
        buf = b""
        while True:
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            if not chunk:
                break
            buf = (buf + chunk)[-256:]
            m = re.findall(rb"mesg=(\d+)\r", buf)
            if m:
                now = time.monotonic()
                with self.cond:
                    while len(self.times) < int(m[-1]):
                        self.times.append(now)
                    self.cond.notify_all()

    def expect(self, n, until):
        """Wait until n messages arrived or the monotonic deadline; returns
        the arrival time of the n-th or None."""
        with self.cond:
            while len(self.times) < n and time.monotonic() < until:
                self.cond.wait(min(1.0, max(0.01, until - time.monotonic())))
            return self.times[n - 1] if n and len(self.times) >= n else None

    def idle_since(self):
        """When the last message arrived (None: none yet)."""
        with self.cond:
            return self.times[-1] if self.times else None

    def senders(self):
        """{envelope sender: messages} of the dump file (smtp-sink writes
        "X-Mail-Args: <sender> PARAMS" first in every message it dumps)."""
        out = {}
        if not self.dump_file or not os.path.exists(self.dump_file):
            return out
        with open(self.dump_file, "rb") as f:
            for line in f:
                if line.startswith(b"X-Mail-Args: "):
                    who = line[13:].split(b" ", 1)[0].strip().decode(errors="replace")
                    out[who] = out.get(who, 0) + 1
        return out

    def stop(self):
        stop_pid(self.proc)


# ---------------------------------------------------------------- one point

def verify(system, corpus, work):
    """Refuse to measure a pass-through: GTUBE must be refused or arrive
    marked as spam, and Bayes must answer on a message it learnt."""
    dump = os.path.join(work, "verify-dump")
    shutil.rmtree(dump, ignore_errors=True)
    sink = Sink(dump)
    try:
        root = system.start()
        msg = (f"From: <{SENDER}>\r\nTo: <{RECIPIENT}>\r\nSubject: bench verification\r\n"
               f"Message-ID: <gtube.{time.time()}@src.test>\r\nDate: {time.strftime('%a, %d %b %Y %H:%M:%S +0000', time.gmtime())}\r\n"
               f"\r\n{GTUBE}\r\n")
        try:
            with smtplib.SMTP("127.0.0.1", system.port, timeout=120) as s:
                s.sendmail(SENDER, [RECIPIENT], msg)
            outcome = None
            if sink.expect(1, time.monotonic() + 60):
                time.sleep(0.2)
                for name in os.listdir(dump):
                    with open(os.path.join(dump, name), "rb") as f:
                        if SPAM_MARK.search(f.read()):
                            outcome = "delivered marked as spam"
            if not outcome:
                raise RuntimeError(f"{system.name} passed GTUBE through unmarked: not scanning")
        except smtplib.SMTPDataError as e:
            if not 500 <= e.smtp_code < 600:
                raise RuntimeError(f"{system.name} answered GTUBE with {e.smtp_code} {e.smtp_error!r}")
            outcome = f"refused ({e.smtp_code})"
        bayes = system.bayes_symbol(corpus.files("train", "spam")[0])
        if not bayes:
            raise RuntimeError(f"{system.name}: Bayes does not answer on a learnt spam message")
        log(f"verify {system.name}: GTUBE {outcome}; a learnt spam message hits {bayes}")
        return {"gtube": outcome, "bayes": bayes, "pid": root}
    finally:
        system.stop()
        sink.stop()


def point_sender(system, conc):
    """The envelope sender of one load point: its own, so that the sink
    counts the point's messages and nothing else (a message left from an
    earlier phase, or another bench's on the same ports)."""
    return f"bench.{system.name}.c{conc}.{os.getpid()}.{int(time.time() * 1000) % 10**8}@src.test"


def wait_delivered(sink, system, n, deadline):
    """Until n messages arrived at the sink, or the system's queue is
    empty and nothing arrived for 5 s (the rest will not come: a Postfix
    queue that drained delivered what it had), or the deadline."""
    while time.monotonic() < deadline:
        if sink.expect(n, min(deadline, time.monotonic() + 1.0)) is not None:
            return True
        last = sink.idle_since() or 0.0
        if time.monotonic() - last > 5 and getattr(system, "queue_empty", lambda: None)():
            return False
    return False


def wait_drained(system, deadline):
    """Until the system's queue is empty (Postfix: `postqueue -p`; a
    system without a queue to ask about: at once). False: not drained."""
    empty = getattr(system, "queue_empty", lambda: True)
    while not empty():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.5)
    return True


def check_ports_ours(system, master, sink):
    """The system's SMTP port and the sink's are held by this bench's
    processes alone (listener.py: SO_REUSEPORT lets another bench share
    them silently); RuntimeError otherwise."""
    check_sole_listener(system.port, [master] + bench.descendants(master), system.name)
    check_sole_listener(PORT_SINK, [sink.proc.pid], "smtp-sink")


def ports_shared(system, master, sink):
    """None while check_ports_ours holds, else why not: a bench that
    started on the same ports during the point took part of its traffic."""
    try:
        check_ports_ours(system, master, sink)
        return None
    except RuntimeError as e:
        return str(e)


def run_point(system, mixfile, conc, count, timeout, work, also=None):
    """One load point; `also` names more processes (name: pid, e.g. a
    clamd the system shares) whose CPU per message is reported apart.
    Its messages carry an envelope sender of their own (point_sender);
    what arrives with another is counted as foreign, and a point with
    foreign arrivals is reported as not valid (its timing is not its own)."""
    also = also or {}
    sender = point_sender(system, conc)
    sink = Sink(dump_file=os.path.join(work, "sink", "dump"))
    out = os.path.join(work, "client.json")
    try:
        master = system.start()
        check_ports_ours(system, master, sink)
        # A fresh spool is empty; anything here would be counted twice.
        if not wait_drained(system, time.monotonic() + 60):
            raise RuntimeError(f"{system.name}: the queue of the previous phase did not drain")
        all_roots, scan_roots = system.roots(master)
        if not scan_roots:
            raise RuntimeError(f"{system.name}: no scanner process found")
        cpu0 = [tree_cpu(r) for r in all_roots], [tree_cpu(r) for r in scan_roots]
        also0 = {n: tree_cpu(p) for n, p in also.items()}
        sampler, scan_sampler = RssSampler(all_roots), RssSampler(scan_roots)
        sampler.start()
        scan_sampler.start()
        deadline = time.monotonic() + timeout
        client = subprocess.run([sys.executable, os.path.join(HERE, "smtp_replay.py"), str(system.port),
                                 str(conc), mixfile, out, str(deadline), sender], capture_output=True, text=True,
                                timeout=timeout + 60)
        if client.returncode != 0:
            raise RuntimeError(f"smtp_replay failed: {client.stderr[-500:]}")
        with open(out) as f:
            cl = json.load(f)
        wait_delivered(sink, system, cl["accepted"], deadline)
        shared = ports_shared(system, master, sink)
        cpu1 = [tree_cpu(r) for r in all_roots], [tree_cpu(r) for r in scan_roots]
        also_ms = {n: 1000 * (tree_cpu(p) - also0[n]) for n, p in also.items()}
        sampler.stop()
        scan_sampler.stop()
        drained = wait_drained(system, time.monotonic() + 10)
        time.sleep(0.5)   # the dump of the last message
        senders = sink.senders()
    finally:
        system.stop()
        sink.stop()
    arrived = senders.get(f"<{sender}>", 0)
    foreign = sum(senders.values()) - arrived
    if shared:
        log(f"{system.name} c={conc}: {shared}; the point is not valid")
    if foreign:
        log(f"{system.name} c={conc}: {foreign} messages of other senders at the sink "
            f"({', '.join(sorted(senders))[:300]}): another bench on these ports? The point is not valid")
    # The n-th arrival of the point's own; with foreign arrivals the
    # counter's times are not the point's own.
    t_last = sink.times[cl["accepted"] - 1] if not foreign and arrived >= cl["accepted"] > 0 else None
    t_end = t_last or (sink.idle_since() or time.monotonic())
    scanned = cl["accepted"] + cl["refused"]
    res = {"system": system.name, "conc": conc, "count": count, **cl, "arrived": arrived, "foreign": foreign,
           "drained": drained, "complete": t_last is not None and cl["sent"] == count and arrived == cl["accepted"],
           "shared_port": shared, "valid": not foreign and not shared,
           "e2e_s": t_end - cl["t_start"], "e2e_rate": arrived / (t_end - cl["t_start"]),
           "cpu_ms": 1000 * (sum(cpu1[0]) - sum(cpu0[0])) / max(scanned, 1),
           "scan_cpu_ms": 1000 * (sum(cpu1[1]) - sum(cpu0[1])) / max(scanned, 1),
           "client_cpu_ms": 1000 * cl["client_cpu_s"] / max(cl["sent"], 1),
           "peak_rss": sampler.peak, "scan_peak_rss": scan_sampler.peak, "scan_peak_pss": scan_sampler.peak_pss}
    for n, ms in also_ms.items():
        res[f"{n}_cpu_ms"] = ms / max(scanned, 1)
    log(f"{system.name} c={conc}: {arrived}/{count} at the sink, {res['e2e_rate']:.0f} msg/s e2e, "
        f"refused {cl['refused']}, tempfail {cl['tempfailed']}, scanner {res['scan_cpu_ms']:.2f} ms CPU/msg, "
        f"{res['scan_peak_rss'] / 2**20:.0f} MiB; all {res['cpu_ms']:.2f} ms/msg"
        + ("" if res["complete"] else " INCOMPLETE") + ("" if res["valid"] else f" NOT VALID ({foreign} foreign"
                                                        + (", a port shared" if shared else "") + ")")
        + ("" if drained else " (queue not drained)") + (f" replies {cl['samples']}" if cl["samples"] else ""))
    return res


# ---------------------------------------------------------------- report

BEGIN, END = bench.CONTENT_BEGIN, bench.CONTENT_END


def section(params, points, checks, versions):
    def of(system, conc, key):
        rows = [dict(r, per_cpu_s=1000 / r["cpu_ms"] if r["cpu_ms"] > 0 else float("nan"))
                for r in points if r["system"] == system and r["conc"] == conc and r.get("valid", True)]
        return bench.med(rows, key)

    names = [s for s in ("mailwarden-content", "postfix-sa", "postfix-rspamd") if s in params["systems"]]
    labels = {"mailwarden-content": MailwardenContent.label, "postfix-sa": PostfixSpamAssassin.label,
              "postfix-rspamd": PostfixRspamd.label}
    L = [BEGIN, "## Content scanning (issue 11)\n",
         "Real mail through three gateways that scan it with rules and Bayes "
         "(`bench/content_bench.py`, run by `make bench` when `BENCH_CORPUS` is set). "
         "Targets: ≥ 1 000 msg/s end to end, ≥ 5× Postfix + SpamAssassin, ≥ 1.5× Postfix + rspamd.\n",
         f"- date: {params['date']}; machine: {params['machine']}",
         f"- versions: " + "; ".join(versions[n] for n in names),
         f"- corpus: `{os.path.basename(params['corpus'])}`, split as `make eval` splits it; each system "
         f"learnt the same {params['train']['spam']} spam + {params['train']['ham']} ham of the training half",
         f"- load: {params['messages']} messages of the other half per point ({100 * params['spam_share']:.0f} % spam, "
         f"a fixed shuffled order, the same for every system; the half is cycled when it is smaller), "
         f"sessions {', '.join(map(str, params['conc']))}, {params['runs']} run(s) per point (median shown), "
         f"at most {params['timeout']:.0f} s each",
         f"- command: `{params['command']}`",
         f"- load average (1 min) before / after: {params['load'][0]:.1f} / {params['load'][1]:.1f} "
         "(other work on the machine takes CPU from every system alike)",
         "- checked before measuring: " + "; ".join(
             f"{labels[n]}: GTUBE {checks[n]['gtube']}, a learnt spam message hits {checks[n]['bayes']}" for n in names)]
    if params.get("note"):
        L.append(f"- **{params['note']}**")
    L += ["",
          "msg/s: messages at the next hop / time from the client's first connection to the last arrival. "
          "Scanner CPU: user+system seconds of the scanner's processes per scanned message (mailwarden: its "
          "scanner process; SpamAssassin: spamd and its children, spamass-milter and the spamc it starts; "
          "rspamd: all its processes and Redis). All CPU: the same for every process of the system "
          "(MTA + scanner). msg per CPU second: 1000 / all CPU ms, what the system gets out of a core "
          "whatever else the machine runs (on a busy machine the steadier comparison). "
          "RSS: peak sum over those processes, sampled every 0.2 s; PSS shares out shared pages. "
          "Ratio: mailwarden / the other (for CPU and memory lower is better).\n",
          "| sessions | figure | " + " | ".join(labels[n] for n in names) + " | ratio to SA | ratio to rspamd |",
          "|---:|---|" + "---:|" * len(names) + "---:|---:|"]
    figures = [("msg/s end to end", "e2e_rate", ""), ("refused / tempfailed", None, ""),
               ("scanner CPU ms/msg", "scan_cpu_ms", ""), ("all CPU ms/msg", "cpu_ms", ""),
               ("msg per CPU second (all)", "per_cpu_s", ""),
               ("client CPU ms/msg", "client_cpu_ms", ""),
               ("scanner peak RSS MiB", "scan_peak_rss", "MiB"), ("scanner peak PSS MiB", "scan_peak_pss", "MiB"),
               ("all peak RSS MiB", "peak_rss", "MiB")]
    for conc in params["conc"]:
        for label, key, unit in figures:
            if key is None:
                cells = [" / ".join(f"{of(n, conc, k):.0f}" for k in ("refused", "tempfailed")) for n in names]
                L.append(f"| {conc} | {label} | " + " | ".join(cells) + " | | |")
                continue
            vals = {n: of(n, conc, key) for n in names}
            mw = vals.get("mailwarden-content", float("nan"))
            L.append(f"| {conc} | {label} | " + " | ".join(bench.fmt(vals[n], unit) for n in names) +
                     f" | {bench.ratio(mw, vals.get('postfix-sa', float('nan')))}"
                     f" | {bench.ratio(mw, vals.get('postfix-rspamd', float('nan')))} |")
    bad = [r for r in points if not r["complete"]]
    if bad:
        L.append("\nIncomplete (time limit reached; the rate counts what arrived): " + "; ".join(
            f"{r['system']} c={r['conc']} {r['arrived']}/{r['count']}" for r in bad))
    L += invalid_note(points)
    L += ["", CAVEATS, END]
    return "\n".join(L) + "\n"


CAVEATS = """Setup and caveats:

- **Same path.** The client (`bench/smtp_replay.py`, asyncio, one process) sends each message as it
  is saved (mbox `From ` line removed) from `bench@src.test` to `rcpt@bench.test`; every gateway
  relays to the same `smtp-sink`. mailwarden receives it as internet mail (inbound policy, not a
  trusted network): `scan.rules: [/usr/share/spamassassin]`, `checks: {rules: score, bayes: score}`,
  `tag: 5`, its scanner's two worker threads. Postfix is the private instance of the transport
  benchmark plus `smtpd_milters` and `milter_default_action = tempfail` (an absent scanner is a
  451, never a pass-through); restarted for every point, the scanners only per system.
- **SpamAssassin**: Debian's spamd with the same rule files (`/usr/share/spamassassin`), `--local`
  (no network tests), `--min-children=2 --max-children=2` (one per core), Bayes from `sa-learn`,
  `required_score 5`; spamass-milter `-m` (headers only, no Subject or body rewrite), one spamc per
  message, no rejection. Messages over spamc's 500 KB default go through unscanned (rare here).
- **rspamd**: Debian's 3.4 with its own default rules (it cannot read SpamAssassin's files without
  its `spamassassin` module and a rule copy; that is not how it is deployed), proxy worker in milter
  mode, 2 normal workers (one per core), Bayes in a private Redis (`rspamc learn_spam/learn_ham`
  with `Learn-Type: bulk`: every message learnt, as by the others, not only those it misjudges),
  logging at `warning` (as mailwarden's `log.level`). No query leaves the machine: its resolver is
  a dead loopback port, and the modules that need DNS or remote data are off (rbl, surbl, emails,
  spf, dkim, dmarc, arc, asn, fuzzy_check, dcc, mx_check, hfilter, rspamd_update, url_redirector,
  phishing, whitelist). Its default actions apply: a score of 15 is refused at SMTP (counted as
  refused; such messages never reach the sink, and the rate counts what did).
- **2 cores** are shared by the client, the sink, the MTA and the scanner. The systems run one
  after the other, minutes apart: on a busy machine each gets a different share of the CPU, so
  the end-to-end rates and their ratios move with the load, while CPU per message does not much.
"""


def invalid_note(points):
    """The points left out of the figures: messages of other senders
    reached the sink during them (another bench on the same ports)."""
    bad = [r for r in points if not r.get("valid", True)]
    if not bad:
        return []
    return ["\nLeft out (messages of other senders reached the sink, or another process listened on the "
            "system's or the sink's port: another bench on these ports; rerun with another `BENCH_PORT_BASE`): "
            + "; ".join(f"{r['system']} c={r['conc']} {r['foreign']} foreign"
                        + (", port shared" if r.get("shared_port") else "") for r in bad)]


def write_section(out, text, begin=BEGIN, end=END):
    """Put the section (between the markers begin and end) into the report:
    in place of an older one, or at the end (bench/bench.py keeps it when
    it rewrites the rest)."""
    old = ""
    if os.path.exists(out):
        with open(out) as f:
            old = f.read()
    if begin in old and end in old:
        new = old[:old.index(begin)] + text + old[old.index(end) + len(end) + 1:]
    else:
        new = old + ("\n" if old and not old.endswith("\n\n") else "") + text
    with open(out, "w") as f:
        f.write(new)


# ---------------------------------------------------------------- main

SYSTEMS = {"mailwarden-content": lambda w, b: MailwardenContent(w, b),
           "postfix-sa": lambda w, b: PostfixSpamAssassin(w),
           "postfix-rspamd": lambda w, b: PostfixRspamd(w)}


def main():
    out = os.environ.get("BENCH_OUT", os.path.join(ROOT, "docs", "benchmarks.md"))
    if sys.argv[1:] == ["report"]:
        return report_only(out)
    corpus_src = os.environ.get("BENCH_CORPUS")
    if not corpus_src:
        log("content point skipped: set BENCH_CORPUS to a corpus (.tar.xz or directory, as for make eval)")
        return 0
    work = os.path.join(os.environ.get("BENCH_DIR", "/var/tmp/mailwarden-bench"), "content")
    count = int(os.environ.get("BENCH_CONTENT_MESSAGES", "5000"))
    runs = int(os.environ.get("BENCH_RUNS", "3"))
    concs = [int(x) for x in bench.env_list("BENCH_CONTENT_CONCURRENCY", "10 50")]
    timeout = float(os.environ.get("BENCH_CONTENT_TIMEOUT", "600"))
    binary = os.environ.get("MW_BIN", os.path.join(ROOT, "build", "mailwarden"))
    wanted = bench.env_list("BENCH_CONTENT_SYSTEMS", " ".join(SYSTEMS))
    os.makedirs(work, exist_ok=True)
    corpus = Corpus(corpus_src, work, int(os.environ.get("BENCH_CONTENT_TRAIN", "0")))
    spam_share = float(os.environ.get("BENCH_CONTENT_SPAM_SHARE", "0.3"))
    mixfile = os.path.join(work, "mix.txt")
    with open(mixfile, "w") as f:
        f.write("\n".join(corpus.mix(count, spam_share)) + "\n")
    params = {"corpus": corpus_src, "messages": count, "runs": runs, "conc": concs, "timeout": timeout,
              "spam_share": spam_share, "train": corpus.counts, "systems": wanted,
              "command": os.environ.get("BENCH_COMMAND", "make bench"), "note": os.environ.get("BENCH_NOTE"),
              "load": [os.getloadavg()[0]], "machine": bench.machine(),
              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    points, checks, versions = [], {}, {}
    for name in wanted:
        system = SYSTEMS[name](work, binary)
        system.setup()
        versions[name] = system.version()
        try:
            system.train(corpus)
            system.start_scanner()
            checks[name] = verify(system, corpus, work)
            for _ in range(runs):
                for conc in concs:
                    points.append(run_point(system, mixfile, conc, count, timeout, work))
        finally:
            system.stop()
            system.stop_scanner()
    params["load"].append(os.getloadavg()[0])
    keep = load_json(out)
    with open(json_of(out), "w") as f:
        # The malware bench (bench/malware_bench.py) keeps its figures in
        # the same file, under "malware": a content run leaves them there.
        json.dump({"params": params, "points": points, "checks": checks, "versions": versions,
                   **({"malware": keep["malware"]} if "malware" in keep else {})}, f, indent=1)
    write_section(out, section(params, points, checks, versions))
    log("wrote the content section of", out)
    return 0


def json_of(out):
    return os.path.join(os.path.dirname(out), "benchmarks-content.json")


def load_json(out):
    try:
        with open(json_of(out)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def report_only(out):
    """Write the section again from the figures of the last run (after a
    change of the report's text)."""
    with open(json_of(out)) as f:
        d = json.load(f)
    write_section(out, section(d["params"], d["points"], d["checks"], d["versions"]))
    return 0


if __name__ == "__main__":
    # SIGTERM (timeout(1), a stopped make) unwinds like Ctrl-C, so that the
    # finally blocks stop every daemon this script started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
