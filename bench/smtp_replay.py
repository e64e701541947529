#!/usr/bin/python3
"""Replay saved messages over SMTP in parallel sessions: the client of the
content point (bench/content_bench.py), because smtp-source can only send
made-up text. Each message is sent as it is (an mbox "From " line taken
off, lines ending in CRLF, dot-stuffed), one transaction after the other
on each session, MAIL/RCPT/DATA pipelined when the server offers it.

Usage: PORT SESSIONS LISTFILE OUT.json DEADLINE [SENDER]
  LISTFILE: one message path per line, sent in that order;
  DEADLINE: a time.monotonic() value (the same clock as the caller's)
            after which no new transaction starts;
  SENDER:   the envelope sender (default bench@src.test): one of its own
            per load point lets the sink tell the point's messages from
            any others.
OUT.json: t_start, t_end (monotonic), sent, accepted, refused (5xx at any
step), tempfailed (4xx), errors (sessions lost), client CPU seconds."""

import asyncio
import json
import resource
import sys
import time

SENDER, RECIPIENT = b"bench@src.test", b"rcpt@bench.test"
REPLY_TIMEOUT = 300


def encode(raw):
    """A saved message as DATA: CRLF lines, leading dots doubled, the
    terminating dot line appended. A bare CR (a few old messages have one)
    ends a line too: RFC 5321 2.3.8 forbids sending it, and mailwarden
    refuses such mail and closes the session."""
    if raw.startswith(b"From "):
        raw = raw.split(b"\n", 1)[1] if b"\n" in raw else b""
    lines = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return b"".join((b"." + l if l.startswith(b".") else l) + b"\r\n" for l in lines) + b".\r\n"


class Replay:
    def __init__(self, port, messages, deadline, sender=SENDER):
        self.port, self.messages, self.deadline, self.sender = port, messages, deadline, sender
        self.next = 0
        self.stats = {"sent": 0, "accepted": 0, "refused": 0, "tempfailed": 0, "errors": 0}
        self.samples = {}   # a few replies of each failing kind, for the log

    def take(self):
        if self.next >= len(self.messages) or time.monotonic() >= self.deadline:
            return None
        self.next += 1
        return self.messages[self.next - 1]

    def more(self):
        return self.next < len(self.messages) and time.monotonic() < self.deadline

    async def session(self):
        """One client session after the other while there is work: a session
        the server closes (after a refusal, say) is replaced, so that the
        concurrency stays what was asked; a failed connect ends it."""
        while self.more():
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                self.stats["errors"] += 1
                return
            try:
                await self.converse(reader, writer)
            except (OSError, ConnectionError, asyncio.TimeoutError, ValueError):
                self.stats["errors"] += 1
            writer.close()

    async def converse(self, reader, writer):
        async def reply():
            """One whole reply, multi-line joined: (code, its lines' texts)."""
            texts = []
            while True:
                line = await asyncio.wait_for(reader.readline(), REPLY_TIMEOUT)
                if len(line) < 4:
                    raise ConnectionError("connection closed")
                texts.append(line[4:].strip().upper())
                if line[3:4] != b"-":
                    return int(line[:3]), texts

        await reply()
        writer.write(b"EHLO replay.src.test\r\n")
        pipelining = b"PIPELINING" in (await reply())[1]
        while (body := self.take()) is not None:
            await self.transaction(writer, reply, body, pipelining)
        writer.write(b"QUIT\r\n")
        await writer.drain()

    async def transaction(self, writer, reply, body, pipelining):
        """MAIL, RCPT, DATA, the message; counts the outcome by the first
        failing reply, else the reply to the message."""
        self.stats["sent"] += 1
        cmds = [b"MAIL FROM:<%s>\r\n" % self.sender, b"RCPT TO:<%s>\r\n" % RECIPIENT, b"DATA\r\n"]
        replies = []
        if pipelining:
            writer.write(b"".join(cmds))
            for _ in cmds:
                replies.append(await reply())
        else:
            for c in cmds:
                writer.write(c)
                replies.append(await reply())
                if replies[-1][0] >= 400:
                    break
        codes = [r[0] for r in replies]
        envelope_ok = codes[:2] == [250, 250]
        if codes[-1] == 354:
            # DATA accepted although MAIL or RCPT failed: send an empty message.
            writer.write(body if envelope_ok else b".\r\n")
            replies.append(await reply())
            codes.append(replies[-1][0])
        final = codes[-1] if envelope_ok else next(c for c in codes if c >= 400)
        if final >= 400:
            kind = self.samples.setdefault(str(final), [])
            if len(kind) < 3:
                kind.append(b" ".join(next(r for r in replies if r[0] == final)[1]).decode(errors="replace"))
        if 200 <= final < 300:
            self.stats["accepted"] += 1
        elif 400 <= final < 500:
            self.stats["tempfailed"] += 1
        else:
            self.stats["refused"] += 1
        if final >= 400:
            writer.write(b"RSET\r\n")
            await reply()


async def main(port, sessions, messages, deadline, sender=SENDER):
    replay = Replay(port, messages, deadline, sender)
    t_start = time.monotonic()
    await asyncio.gather(*(replay.session() for _ in range(sessions)))
    return {"t_start": t_start, "t_end": time.monotonic(), **replay.stats, "samples": replay.samples}


if __name__ == "__main__":
    port, sessions, listfile, out, deadline = sys.argv[1:6]
    sender = sys.argv[6].encode() if len(sys.argv) > 6 else SENDER
    with open(listfile) as f:
        paths = [p for p in f.read().splitlines() if p]
    cache = {}
    for p in paths:
        if p not in cache:
            with open(p, "rb") as f:
                cache[p] = encode(f.read())
    res = asyncio.run(main(int(port), int(sessions), [cache[p] for p in paths], float(deadline), sender))
    ru = resource.getrusage(resource.RUSAGE_SELF)
    res["client_cpu_s"] = ru.ru_utime + ru.ru_stime
    with open(out, "w") as f:
        json.dump(res, f)
