#!/usr/bin/python3
"""Deliveries per second from the queue to a local sink, with connection
reuse on and off.

    MW_BIN=build/mailwarden /usr/bin/python3 bench/delivery_rate.py [N]

For each mode: a gateway whose next hop (an aiosmtpd sink on loopback) is
down gets N messages; then the sink starts, `mailwarden queue flush` runs,
and the time until the sink holds all N is measured. The sink is Python,
so the figure is a lower bound of what the queue can do."""

import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, "..", "tests", "system"), os.path.join(HERE, "..", "tests", "system", "delivery")]

import mwsys  # noqa: E402
from peers import PeerSink  # noqa: E402


def run(binary, n, reuse, concurrency):
    workdir = mwsys.make_workdir("bench")
    sink = PeerSink(mwsys.PORTS.get())
    cfg = mwsys.base_config(workdir, mwsys.PORTS.get(), sink.port)
    cfg["log"]["level"] = "info"
    cfg["limits"]["connections_per_ip"] = 100
    cfg["queue"].update({"retry_min": "1h", "retry_max": "1h", "delivery_concurrency": concurrency,
                         "per_destination": concurrency, "connection_reuse": reuse})
    gw = mwsys.Gateway(binary, workdir, cfg, name="bench").start()
    try:
        with mwsys.SmtpClient(gw.port) as c:
            c.greeting()
            c.ehlo()
            for i in range(n):
                r = c.transaction("bench@other.test", ["user@example.test"],
                                  (f"Subject: bench {i}\r\n\r\n" + ("x" * 48 + "\r\n") * 20).encode())
                assert r.code == 250, r
        mwsys.wait_until(lambda: len(gw.events(proc="queue", event="retry_scheduled")) >= n, timeout=60)
        sink.start()
        t0 = time.monotonic()
        subprocess.run([binary, "queue", "-c", gw.config_path, "flush"], check=True, capture_output=True)
        mwsys.wait_until(lambda: len(sink.messages) >= n, timeout=300)
        elapsed = time.monotonic() - t0
        return n / elapsed, sink.connections
    finally:
        gw.cleanup()
        sink.stop()
        mwsys.rmtree(workdir)


def main():
    binary = os.environ["MW_BIN"]
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    for concurrency in (1, 10):
        for reuse in (True, False):
            rate, conns = run(binary, n, reuse, concurrency)
            print(f"n={n} concurrency={concurrency:2d} reuse={'on ' if reuse else 'off'}: "
                  f"{rate:7.1f} deliveries/s over {conns} connections", flush=True)


if __name__ == "__main__":
    main()
