#!/usr/bin/python3
"""Slowloris at full size (issue 14, catalogue case 156): `make load`.

    MW_BIN=build/mailwarden /usr/bin/python3 bench/slowloris.py [N] [PER_IP]

N slow clients (default 5 000, 20 per loopback source address, one byte
a second each) hold sessions open against one gateway while an ordinary
client sends messages. Prints the ordinary client's rate without and with
them, smtpd's resident memory before, under load and after, and the
bytes per slow session; exits 1 if the rate under load is below 80 % of
the rate without, a slow client was refused, or a session costs more than
32 KiB. Bounded: about a minute. tests/system/faults/test_slowloris.py
runs the same with 500 clients in make test (and checks the caps)."""

import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, "..", "tests", "system"), os.path.join(HERE, "..", "tests", "system", "faults")]

import mwsys  # noqa: E402
from load import SlowClients, normal_rate, rss_bytes  # noqa: E402
from procs import cpu_seconds  # noqa: E402

RATE_SECONDS = 5.0
SESSION_BYTES_MAX = 32 * 1024


def main():
    binary = os.path.abspath(os.environ["MW_BIN"])
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    per_ip = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    workdir = mwsys.make_workdir("load")
    sink = mwsys.Sink(mwsys.PORTS.get()).start()
    cfg = mwsys.base_config(workdir, mwsys.PORTS.get(), sink.port)
    cfg["log"]["level"] = "info"
    cfg["limits"].update({"connections": n + 10, "connections_per_ip": per_ip, "command_timeout": "5m"})
    gw = mwsys.Gateway(binary, workdir, cfg, name="load").start()
    failures = []
    slow = None
    try:
        smtpd = gw.pid("smtpd")
        unloaded = normal_rate(gw.port, RATE_SECONDS)
        rss_before = rss_bytes(smtpd)
        t0 = time.monotonic()
        slow = SlowClients(gw.port, n, per_ip, ramp=10.0).start()
        slow.wait_connected(timeout=40)
        print(f"{n} slow clients from {len(set(slow.sources))} addresses connected in "
              f"{time.monotonic() - t0:.1f} s: greeted={slow.greeted} refused={slow.refused} failed={slow.failed}")
        rss_loaded = rss_bytes(smtpd)
        cpu0 = {name: cpu_seconds(pid) for name, pid in (("smtpd", smtpd), ("slow clients", slow.pid))}
        loaded = normal_rate(gw.port, RATE_SECONDS)
        cpu = {name: (cpu_seconds(pid) - cpu0[name]) / RATE_SECONDS
               for name, pid in (("smtpd", smtpd), ("slow clients", slow.pid))}
        slow_refused = slow.refused + slow.failed
        slow.stop()
        slow = None
        time.sleep(1)
        rss_after = rss_bytes(smtpd)
        per_session = (rss_loaded - rss_before) / n
        print(f"normal client: {unloaded:.1f} msg/s unloaded, {loaded:.1f} msg/s loaded "
              f"({100 * loaded / unloaded:.0f} %)")
        print(f"smtpd RSS: {rss_before // 1024} KiB before, {rss_loaded // 1024} KiB under load, "
              f"{rss_after // 1024} KiB after; {per_session:.0f} bytes per slow session")
        print("CPU while loaded: " + ", ".join(f"{name} {100 * share:.0f} %" for name, share in cpu.items()))
        if slow_refused:
            failures.append(f"{slow_refused} slow clients were refused or failed to connect")
        if loaded < 0.8 * unloaded:
            failures.append("the normal client got less than 80 % of its unloaded rate")
        if per_session > SESSION_BYTES_MAX:
            failures.append(f"more than {SESSION_BYTES_MAX} bytes per session")
        if not gw.running():
            failures.append("the gateway died")
    finally:
        if slow is not None:
            slow.stop()
        gw.cleanup()
        sink.stop()
        mwsys.rmtree(workdir)
    for f in failures:
        print(f"FAIL: {f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
