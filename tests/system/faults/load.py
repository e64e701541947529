"""Slowloris and normal load against a gateway (issue 14, catalogue case
156): the engine shared by tests/system/faults/test_slowloris.py (a
bounded run in make test) and bench/slowloris.py (`make load`, the full
5 000 connections).

Slow clients are raw asyncio sockets, each bound to a loopback source
address of its own group (127.0.0.0/8 is all local on Linux), so the
per-IP cap is never what stops them: every group holds at most
`per_ip` of them. Each sends one byte per second of an endless stream of
commands (EHLO, then NOOPs) and reads what comes back. The normal client
is a blocking SmtpClient in the caller's thread that sends whole
messages, one after the other, for a fixed time: its rate is what load
must not take away."""

import asyncio
import os
import multiprocessing
import time

import mwsys

SLOW_BYTES = b"EHLO slow.test\r\n" + b"NOOP\r\n" * 1000


def source_addresses(count, per_ip, prefix="127.66"):
    """count addresses for slow clients, per_ip of them on each of
    ceil(count / per_ip) distinct loopback addresses."""
    groups = (count + per_ip - 1) // per_ip
    ips = [f"{prefix}.{g // 250}.{g % 250 + 1}" for g in range(groups)]
    return [ips[i // per_ip] for i in range(count)]


# ASan keeps freed memory in quarantine (and shadow memory besides): a
# process's RSS under it grows with churn, not with what it holds.
ASAN = "asan" in os.environ.get("MW_BIN", "")


def rss_bytes(pid):
    """Resident set size of a process (VmRSS), in bytes."""
    value = mwsys.proc_status(pid)["VmRSS"]   # "1234 kB"
    return int(value.split()[0]) * 1024


class SlowClients:
    """count slow clients against 127.0.0.1:port, run by an event loop in
    a process of their own (in a thread, the test's own client would wait
    for the GIL and measure Python, not the gateway); opened over ramp
    seconds, each sending one byte a second until stop(). Counters:
    greeted (got a 220), refused (a 4xx or 5xx greeting), closed (the
    server ended the session), failed (connect errors)."""

    def __init__(self, port, count, per_ip, ramp=5.0, interval=1.0, prefix="127.66"):
        self.port = port
        self.sources = source_addresses(count, per_ip, prefix)
        self.ramp = ramp
        self.interval = interval
        ctx = multiprocessing.get_context("fork")
        self._counters = {name: ctx.Value("l", 0) for name in ("greeted", "refused", "closed", "failed")}
        self._refusals = ctx.Queue()
        self._stop_event = ctx.Event()
        self._process = ctx.Process(target=self._run, name="slow-clients", daemon=True)
        self.greetings = []       # the first few refusals, for messages
        self._writers = []

    def __getattr__(self, name):
        counters = self.__dict__.get("_counters", {})
        if name in counters:
            return counters[name].value
        raise AttributeError(name)

    def _count(self, name):
        with self._counters[name].get_lock():
            self._counters[name].value += 1

    @property
    def pid(self):
        return self._process.pid

    @property
    def count(self):
        return len(self.sources)

    def start(self):
        self._process.start()
        return self

    def _run(self):
        asyncio.run(self._main())

    def stop(self, timeout=30):
        """Stop sending and close every connection."""
        self._stop_event.set()
        self._process.join(timeout)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        while not self._refusals.empty():
            self.greetings.append(self._refusals.get())

    def wait_connected(self, timeout):
        """Wait until every client has its greeting (or a refusal)."""
        mwsys.wait_until(lambda: self.greeted + self.refused + self.failed >= self.count, timeout,
                         what=f"{self.count} slow clients greeted (greeted={self.greeted} "
                              f"refused={self.refused} failed={self.failed})")

    async def _main(self):
        step = self.ramp / max(1, self.count)
        tasks = []
        for i, source in enumerate(self.sources):
            tasks.append(asyncio.ensure_future(self._client(source)))
            if step > 0 and i % 50 == 49:
                await asyncio.sleep(step * 50)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._stop_event.wait)
        for w in self._writers:
            w.close()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _client(self, source):
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port, local_addr=(source, 0))
        except OSError:
            self._count("failed")
            return
        self._writers.append(writer)
        try:
            line = await reader.readline()
            if line.startswith(b"220"):
                self._count("greeted")
            else:
                self._count("refused")
                if self.refused <= 5:
                    self._refusals.put((source, line))
                return
            drain = asyncio.ensure_future(self._read_all(reader))
            for i in range(len(SLOW_BYTES)):
                if self._stop_event.is_set() or drain.done():
                    break
                writer.write(SLOW_BYTES[i:i + 1])
                await asyncio.sleep(self.interval)
            if drain.done():
                self._count("closed")
        except (OSError, asyncio.IncompleteReadError):
            self._count("closed")
        finally:
            writer.close()

    @staticmethod
    async def _read_all(reader):
        while await reader.read(4096):
            pass


def normal_rate(port, seconds, source="127.0.0.1", rcpt="user@example.test"):
    """Messages per second one ordinary client gets accepted, sending
    small messages one after the other in one session for seconds (each
    must get 250)."""
    body = b"Subject: normal load\r\n\r\n" + b"x" * 60 + b"\r\n"
    with mwsys.SmtpClient(port, source=source, timeout=30) as c:
        assert c.greeting().code == 220
        assert c.ehlo("normal.test").code == 250
        n = 0
        t0 = time.monotonic()
        while time.monotonic() - t0 < seconds:
            r = c.transaction("normal@client.test", [rcpt], body)
            assert r.code == 250, f"a normal message under load got {r}"
            n += 1
        elapsed = time.monotonic() - t0
        c.cmd("QUIT")
    return n / elapsed
