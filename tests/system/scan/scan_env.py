"""Peers and helpers of the scan tests: the client addresses and their
DNS records, a dnsmasq of our own, SMTP sessions from a chosen source.
A module of its own name, not conftest: pytest imports every folder's
conftest under that one name, so `from conftest import` would find
another folder's."""

import os
import signal
import subprocess

import mwsys

LISTED = "127.50.0.2"
CLEAN = "127.50.0.3"
NOPTR = "127.50.0.4"
BADFC = "127.50.0.5"
LISTED_CODE4 = "127.50.0.6"


def _rev(ip):
    return ".".join(reversed(ip.split("."))) + ".in-addr.arpa"


RECORDS = [
    f"--host-record=2.0.50.127.bl.test,127.0.0.2",
    f"--host-record=6.0.50.127.bl.test,127.0.0.4",
    f"--ptr-record={_rev(CLEAN)},clean.mail.test",
    f"--host-record=clean.mail.test,{CLEAN}",
    f"--ptr-record={_rev(LISTED)},listed.mail.test",
    f"--host-record=listed.mail.test,{LISTED}",
    f"--ptr-record={_rev(LISTED_CODE4)},listed4.mail.test",
    f"--host-record=listed4.mail.test,{LISTED_CODE4}",
    f"--ptr-record={_rev(BADFC)},badfc.mail.test",
    "--host-record=badfc.mail.test,192.0.2.5",
    "--mx-host=good.test,mx.good.test,10",
    "--host-record=mx.good.test,192.0.2.10",
    "--host-record=a-only.test,192.0.2.11",
    "--txt-record=spf-pass.test,v=spf1 ip4:192.0.2.77 -all",
    "--txt-record=spf-fail.test,v=spf1 -all",
    "--txt-record=spf-include.test,v=spf1 include:spf-inner.test -all",
    "--txt-record=spf-inner.test,v=spf1 a:inner-host.spf-inner.test -all",
    "--host-record=inner-host.spf-inner.test,192.0.2.77",
    f"--ptr-record={_rev('192.0.2.77')},spf.mail.test",
    "--host-record=spf.mail.test,192.0.2.77",
    "--mx-host=spf-pass.test,mx.good.test,10",
    "--mx-host=spf-fail.test,mx.good.test,10",
    "--mx-host=spf-include.test,mx.good.test,10",
    # a forged HELO name: it resolves to the gateway's listener (issue 18 item 5)
    "--host-record=forged-helo.mail.test,127.0.0.1",
    # everything else under test/ and in-addr.arpa does not exist
    "--address=/test/",
    "--address=/in-addr.arpa/",
]


SPF_CLIENT = "192.0.2.77"
CLONE_NEWNET = 0x40000000


class DnsServer:
    """dnsmasq on 127.0.0.1:port with RECORDS (and a module's extra ones,
    dnsmasq options such as "--txt-record=name,text") and a query log."""

    def __init__(self, workdir, port, extra=()):
        self.port = port
        self.extra = list(extra)
        self.log = os.path.join(workdir, "dnsmasq.log")
        self.proc = None

    @property
    def servers(self):
        return f"127.0.0.1:{self.port}"

    def start(self):
        self.proc = subprocess.Popen(
            ["dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", "--no-daemon",
             "--listen-address=127.0.0.1", "--bind-interfaces", f"--port={self.port}",
             "--user=root", "--pid-file=", "--log-queries", f"--log-facility={self.log}",
             "--cache-size=0", *self.extra, *RECORDS],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        mwsys.wait_until(lambda: os.path.exists(self.log) and "started" in open(self.log).read(),
                         what="dnsmasq start")

    def stop(self):
        if self.proc:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=5)
            self.proc = None

    def queries(self):
        """Every name queried so far, in order."""
        names = []
        with open(self.log) as f:
            for line in f:
                if "query[" in line:
                    names.append(line.split("]", 1)[1].split()[0])
        return names


def write(path, text):
    """Replace a file the way an editor or rsync does: new inode, renamed in."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def session(gw, source, helo="client.test", sender="a@good.test", rcpt="user@example.test"):
    """Connect from source and go as far as the gateway lets us. Returns a
    dict of the replies: greeting, helo, mail, rcpt (stopping at the first
    refusal) and the client, still open."""
    c = mwsys.SmtpClient(gw.port, source=source)
    out = {"client": c}
    out["greeting"] = c.greeting()
    if out["greeting"].code != 220:
        return out
    out["helo"] = c.cmd(f"EHLO {helo}")
    if out["helo"].code != 250:
        return out
    out["mail"] = c.cmd(f"MAIL FROM:<{sender}>")
    if out["mail"].code != 250:
        return out
    out["rcpt"] = c.cmd(f"RCPT TO:<{rcpt}>")
    return out


def send(gw, source, token, helo="client.test", sender="a@good.test", rcpt="user@example.test",
         extra_headers=""):
    """A whole message; returns (replies dict, final reply or None)."""
    r = session(gw, source, helo=helo, sender=sender, rcpt=rcpt)
    c = r["client"]
    try:
        if r.get("rcpt") is None or r["rcpt"].code != 250:
            return r, None
        body = f"Subject: {token}\r\n{extra_headers}\r\nscanner test {token}\r\n"
        final = c.data(body.encode())
        c.cmd("QUIT")
        return r, final
    finally:
        c.close()
