#!/usr/bin/python3
"""make torture: kill -9 trials with an acknowledgement ledger (issue 14, Q-1, SEC-4).

Not part of make test. One gateway (spool on disk, the scanner in the path
of every message) delivers to an aiosmtpd sink on loopback that records
every message; each message carries a unique token in its Subject. Each
trial puts the gateway under load from CLIENTS concurrent SMTP clients for
TORTURE_LOAD seconds, SIGKILLs one randomly chosen victim at a random
moment of that load (master, queue, smtpd, scanner, or all of them at the
same instant) or cuts the power (scripts/torture_power.py: the spool is
then on XFS on a loop device, shut down without a log flush, when the
machine allows it), restarts what needs restarting, lets the load end and
waits until the spool is empty. The ledger then holds, per token, what the
client saw (250, refused, connection lost before or after the final dot)
and how often the sink got it:

- lost: a token answered 250 that never reached the sink (must be 0);
- duplicates: a token answered 250 that arrived twice (a delivery in
  flight at the kill, repeated after it: allowed, counted);
- violations: a token that arrived three times or more, a token not
  answered 250 that arrived twice, a token whose final dot never left the
  client that arrived at all, or a crash / sanitizer report in the log.

The kill and restart steps, the load and the ledger are the ones of
tests/system/durability/test_kill_under_load.py (reused, not copied).

Knobs (environment): TORTURE_TRIALS (default 1000), TORTURE_SECONDS (an
overall bound, default 0 = none; no trial starts after it), TORTURE_LOAD
(seconds of load per trial, default 1.5), TORTURE_SEED (random seed),
TORTURE_VICTIMS (comma list, default master,queue,smtpd,scanner,all,power;
power is left out with the reason when the machine cannot do it),
MW_BIN (default build/mailwarden), TORTURE_KEEP=1 keeps the work directory.
Exit status 1 when a message was lost or a violation was seen.

Negative control (the power trials have teeth): with every fsync of the
spool skipped by the fault shim, power cuts lose acknowledged messages:

    cc -shared -fPIC -o /tmp/shim.so tests/system/faults/eio_shim.c -ldl
    LD_PRELOAD=/tmp/shim.so MW_FAULT_CALL=fsync MW_FAULT_PATH=/xfs/state/spool/ \
      MW_FAULT_NTH=0 MW_FAULT_NOOP=1 TORTURE_VICTIMS=power TORTURE_TRIALS=5 make torture
"""

import collections
import os
import random
import shutil
import signal
import sys
import traceback
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [os.path.join(ROOT, "tests", "system"), os.path.join(ROOT, "tests", "system", "durability")]

import mwsys  # noqa: E402
import test_kill_under_load as kill  # noqa: E402
import torture_power  # noqa: E402

VICTIMS = ("master", "queue", "smtpd", "scanner", "all", "power")
DRAIN_TIMEOUT = 60.0
SPOOL_TIMEOUT = 20.0


def _env_number(name, default, kind=float):
    value = os.environ.get(name, "")
    return kind(value) if value else default


class Settings:
    def __init__(self):
        self.trials = _env_number("TORTURE_TRIALS", 1000, int)
        self.seconds = _env_number("TORTURE_SECONDS", 0.0)
        self.load = _env_number("TORTURE_LOAD", 1.5)
        self.seed = _env_number("TORTURE_SEED", int(time.time()), int)
        victims = os.environ.get("TORTURE_VICTIMS", "")
        self.victims = tuple(v for v in victims.split(",") if v) or VICTIMS
        unknown = [v for v in self.victims if v not in VICTIMS]
        if unknown:
            sys.exit(f"torture: unknown TORTURE_VICTIMS {unknown}; choose from {','.join(VICTIMS)}")
        self.no_power = torture_power.unavailable() if "power" in self.victims else None
        if self.no_power and victims:
            sys.exit(f"torture: power-loss trials cannot run here: {self.no_power}")
        if self.no_power:
            print(f"torture: no power-loss trials: {self.no_power}", flush=True)
            self.victims = tuple(v for v in self.victims if v != "power")
        self.binary = os.path.abspath(os.environ.get("MW_BIN") or os.path.join(ROOT, "build", "mailwarden"))
        self.keep = os.environ.get("TORTURE_KEEP") == "1"


# --------------------------------------------------------------------------
# The gateway and its victims


def make_gateway(binary, workdir, sink, state_dir=None):
    config = mwsys.base_config(workdir, mwsys.PORTS.get(), sink.port)
    if state_dir:
        config["state_dir"] = state_dir    # the spool on the XFS that power trials cut
    config["smtpd_processes"] = 2          # a killed smtpd leaves the other one serving
    config["log"]["level"] = "info"        # thousands of trials: keep the log small
    config["limits"].update({"connections": 200, "connections_per_ip": 20})
    config["scan"] = kill.SCAN_EVERYTHING  # the scanner sees every message
    return mwsys.Gateway(binary, workdir, config, name="torture")


def kill_smtpd(gw):
    """SIGKILL one live smtpd; the master starts a new one (its clients
    see their connection drop, the other smtpd keeps serving)."""
    live = [p for p in gw.children("smtpd") if mwsys.pid_alive(p)]
    victim = random.choice(live)
    mark = gw.mark()
    gw.expected_dead.add(victim)
    os.kill(victim, signal.SIGKILL)
    mwsys.wait_until(lambda: not mwsys.pid_alive(victim), timeout=mwsys.TIMEOUT, what=f"smtpd {victim} to die")
    gw.wait_event(proc="master", event="child_exited", child="smtpd", pid=victim, start=mark)
    gw.wait_event(proc="master", event="spawned", child="smtpd", start=mark)
    gw.wait_event(proc="smtpd", event="ready", start=mark)
    return set()


def cut_power(gw, xfs):
    """Power loss: every process of the gateway stopped at one instant, the
    spool's file system cut off without a log flush, the processes killed,
    the file system mounted again (log recovery) and the gateway started."""
    pids = kill._gateway_pids(gw)
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    xfs.cut()
    gw.expected_dead.update(pids)
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    gw.wait_exit()
    mwsys.wait_until(lambda: not kill._gateway_pids(gw), timeout=mwsys.TIMEOUT,
                     what="every process of the gateway to exit after the power cut")
    xfs.remount()
    left_in_tmp = kill._entries(gw, "tmp")
    gw.start()
    return left_in_tmp


def kill_victim(gw, victim, xfs):
    """Kill and wait until the gateway serves again; what the kill left in
    spool/tmp (recovery must have removed it)."""
    if victim == "power":
        return cut_power(gw, xfs)
    if victim == "master":
        return kill._kill_master_and_restart(gw)
    if victim == "all":
        return kill._kill_master_and_restart(gw, children_too=True)
    if victim == "queue":
        return kill._kill_queue(gw)
    if victim == "scanner":
        return kill._kill_scanner(gw)
    return kill_smtpd(gw)


# --------------------------------------------------------------------------
# One trial


class Totals:
    def __init__(self):
        self.trials = 0
        self.by_victim = collections.Counter()
        self.acked = 0
        self.delivered = 0           # acknowledged tokens at the sink
        self.unacked_delivered = 0   # sent in full, no 250 seen, delivered (allowed once)
        self.lost = 0
        self.duplicates = 0
        self.violations = []
        self.issued = 0


def drain(gw, sink, acked):
    """Wait until every acknowledged token is at the sink and the spool is
    empty (bounded); the sink's per-token counts."""
    def all_arrived():
        counts = kill._sink_tokens(sink)
        return counts if all(t in counts for t in acked) else None

    try:
        mwsys.wait_until(all_arrived, timeout=DRAIN_TIMEOUT, what="every acknowledged token at the sink")
    except TimeoutError:
        pass

    def spool_empty():
        return not kill._entries(gw, "queue") and not kill._receiving(gw)

    try:
        mwsys.wait_until(spool_empty, timeout=SPOOL_TIMEOUT, what="spool/queue and spool/tmp to empty")
    except TimeoutError:
        pass
    return kill._sink_tokens(sink), spool_empty()


def judge(ledger, counts, totals):
    """Add one trial's ledger to the totals; the violations it showed."""
    found = []
    acked = ledger.acked
    lost = sorted(t for t in acked if t not in counts)
    totals.acked += len(acked)
    totals.delivered += len(acked) - len(lost)
    totals.lost += len(lost)
    totals.duplicates += sum(1 for t in acked if counts.get(t, 0) == 2)
    if lost:
        found.append(f"{len(lost)} acknowledged tokens lost: {lost[:10]}")
    thrice = sorted(t for t, n in counts.items() if n > 2)
    if thrice:
        found.append(f"delivered more than twice: {thrice[:10]}")
    unanswered = list(ledger.refused) + list(ledger.dot_no_reply)
    totals.unacked_delivered += sum(1 for t in unanswered if t in counts)
    twice = sorted(t for t in unanswered if counts.get(t, 0) > 1)
    if twice:
        found.append(f"not acknowledged yet delivered twice: {twice[:10]}")
    half = sorted(t for t in ledger.dot_unsent if t in counts)
    if half:
        found.append(f"delivered although the final dot was never sent: {half[:10]}")
    if ledger.errors:
        found.append(f"client threads failed: {ledger.errors[:3]}")
    return found


def run_trial(gw, sink, xfs, settings, trial, totals):
    victim = random.choice(settings.victims)
    if not gw.running():
        gw.start()
    ledger = kill.Ledger(f"{os.getpid()}-{trial}")
    started = time.monotonic()
    clients, deadline = kill._start_load(gw.port, ledger, settings.load)
    left_in_tmp = set()
    try:
        time.sleep(random.uniform(0.1, settings.load * 0.9))
        left_in_tmp = kill_victim(gw, victim, xfs)
    finally:
        kill._join_load(clients, deadline)
    stale = left_in_tmp & kill._entries(gw, "tmp")
    counts, spool_empty = drain(gw, sink, ledger.acked)
    with sink.cond:
        sink.messages.clear()       # this trial is judged; keep memory flat
    totals.trials += 1
    totals.by_victim[victim] += 1
    totals.issued += ledger.issued
    found = judge(ledger, counts, totals)
    if stale:
        found.append(f"spool/tmp files from before the kill survived recovery: {sorted(stale)[:5]}")
    if kill._entries(gw, "corrupt"):
        found.append(f"spool/corrupt holds {sorted(kill._entries(gw, 'corrupt'))[:5]}")
    if not spool_empty:
        found.append(f"spool not empty after the trial: queue={sorted(kill._entries(gw, 'queue'))[:5]}")
    gw.check_log()
    if gw.problems:
        found.append("; ".join(gw.problems))
        gw.problems = []
    totals.violations.extend(f"trial {trial} ({victim}): {v}" for v in found)
    if victim in ("queue", "smtpd", "scanner"):
        # The master doubles a child's restart delay per death (up to 30 s):
        # a clean restart gives the next trial a fresh master.
        gw.stop()
    print(f"trial {trial:4d} {victim:7s} acked={len(ledger.acked):4d} "
          f"refused={len(ledger.refused)} no_reply={len(ledger.dot_no_reply)} "
          f"unsent={len(ledger.dot_unsent)} lost={sum(1 for t in ledger.acked if t not in counts)} "
          f"dups={sum(1 for t in ledger.acked if counts.get(t, 0) == 2)} "
          f"{time.monotonic() - started:.1f}s" + (" VIOLATION" if found else ""), flush=True)
    return not found


def report(totals, elapsed, spool):
    victims = " ".join(f"{v}={n}" for v, n in sorted(totals.by_victim.items()))
    print("\n== make torture ==")
    print(f"trials:                    {totals.trials} ({victims}) in {elapsed:.0f}s")
    print(f"spool:                     {spool}")
    print(f"messages issued:           {totals.issued}")
    print(f"messages acknowledged:     {totals.acked}")
    print(f"acknowledged, delivered:   {totals.delivered}")
    print(f"lost:                      {totals.lost}")
    print(f"duplicates (acknowledged): {totals.duplicates}")
    print(f"no 250 seen, delivered:    {totals.unacked_delivered} (each at most once)")
    print(f"violations:                {len(totals.violations)}")
    for v in totals.violations[:20]:
        print(f"  {v}")


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main():
    settings = Settings()
    if not os.access(settings.binary, os.X_OK):
        sys.exit(f"torture: {settings.binary} is not executable (make build, or set MW_BIN)")
    random.seed(settings.seed)
    # SIGTERM (timeout, a CI runner) ends the run like ^C: the gateway is
    # stopped and the loop device detached in the finally below.
    signal.signal(signal.SIGTERM, _interrupt)
    print(f"torture: {settings.trials} trials, load {settings.load}s each, victims "
          f"{','.join(settings.victims)}, seed {settings.seed}, binary {settings.binary}", flush=True)
    workdir = mwsys.make_workdir("torture")
    # A copy of the binary: a rebuild during a long run must not change it.
    binary = os.path.join(workdir, "mailwarden")
    shutil.copy2(settings.binary, binary)
    xfs = None
    if "power" in settings.victims:
        xfs = torture_power.XfsSpool(workdir).setup()
    sink = mwsys.Sink(mwsys.PORTS.get()).start()
    gw = make_gateway(binary, workdir, sink,
                      state_dir=os.path.join(xfs.mountpoint, "state") if xfs else None)
    totals = Totals()
    started = time.monotonic()
    failed = False
    try:
        for trial in range(1, settings.trials + 1):
            if settings.seconds and time.monotonic() - started >= settings.seconds:
                print(f"torture: TORTURE_SECONDS={settings.seconds:g} reached", flush=True)
                break
            if not run_trial(gw, sink, xfs, settings, trial, totals):
                failed = True
                print(f"  log: {gw.log.path}", flush=True)
            elif not gw.running():
                os.truncate(gw.log.path, 0)   # a passed trial's log is not needed
    except KeyboardInterrupt:
        print("torture: interrupted", flush=True)
    except Exception:   # a step of the harness itself failed: stop, report, fail
        traceback.print_exc()
        totals.violations.append(f"trial {totals.trials + 1}: the harness failed (traceback above)")
    finally:
        gw.cleanup()
        sink.stop()
        if xfs:
            xfs.teardown(keep=settings.keep or bool(totals.violations) or totals.lost > 0)
    report(totals, time.monotonic() - started,
           "XFS on a loop device (power trials: xfs_io shutdown without log flush)" if xfs
           else f"{workdir} (no power trials: {settings.no_power or 'not chosen'})")
    failed = failed or bool(totals.violations) or totals.lost > 0 or bool(gw.problems)
    if failed or settings.keep:
        print(f"work directory kept: {workdir}")
    else:
        mwsys.rmtree(workdir)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
