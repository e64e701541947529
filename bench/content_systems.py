#!/usr/bin/python3
"""The three systems of the content point (bench/content_bench.py), each
with the same small interface: setup / version / train(corpus) /
start_scanner / start / roots(master) / bayes_symbol(message) / stop /
stop_scanner. mailwarden scans in its own scanner process; the other two
are the benchmark's private Postfix with a milter in front of a scanner
daemon (spamass-milter + spamd, rspamd's proxy). Every daemon runs from
the work directory on loopback ports and is stopped by pid."""

import os
import pwd
import re
import shutil
import socket
import subprocess
import time

import bench
from bench import log, retire, stop_pid, PORT_MW
BASE = PORT_MW + 200           # the scanners' ports: spamd, milters, rspamd, redis
PORT_SPAMD, PORT_SA_MILTER = BASE, BASE + 1
PORT_RS_PROXY, PORT_RS_NORMAL, PORT_RS_CONTROLLER = BASE + 2, BASE + 3, BASE + 4
PORT_REDIS, PORT_DEAD_DNS, PORT_RS_FUZZY = BASE + 5, BASE + 6, BASE + 7


def wait_listen(port, timeout):
    """Until something accepts TCP connections on the port (not SMTP)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"nothing listens on port {port} after {timeout:.0f} s")


def run_logged(cmd, what, timeout=1800):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"{what} failed ({r.returncode}): {(r.stdout + r.stderr)[-500:]}")
    return r.stdout


def uid_of(pid):
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None


class MailwardenContent(bench.Mailwarden):
    """mailwarden receiving as from the internet (inbound policy), rules and
    Bayes scored, tagged at 5, as `make eval` configures it."""
    name = "mailwarden-content"
    label = "mailwarden (rules + Bayes)"
    trusted = "trusted_networks: []\n"     # the default trusts loopback
    extra = """scan:
  rules: [/usr/share/spamassassin]
  bayes_min_learned: 200
  inbound:
    checks: {rules: score, bayes: score}
    tag: 5
"""

    def train(self, corpus):
        self.learned = os.path.join(self.dir, "learned")
        os.makedirs(self.learned, exist_ok=True)
        conf = os.path.join(self.dir, "learn.yaml")
        with open(conf, "w") as f:
            f.write(f"hostname: learn.bench.test\nstate_dir: {self.learned}\n"
                    "scan: {bayes_min_learned: 200}\n")
        for cls in ("spam", "ham"):
            out = run_logged([self.bin, "learn", "-c", conf, f"--{cls}", corpus.train[cls]], "mailwarden learn")
            log(f"{self.name}: learn --{cls}: {out.strip()}")
        # The rules' Hyperscan databases, compiled once here as spamd and
        # rspamd load their rules before they serve: every start then finds
        # them in its cache instead of serving with PCRE2 while the master's
        # compiler works (some 15 s of CPU for Debian's set).
        warm = os.path.join(self.dir, "warm.yaml")
        with open(warm, "w") as f:
            f.write(f"hostname: learn.bench.test\nstate_dir: {self.learned}\n"
                    "scan: {rules: [/usr/share/spamassassin], inbound: {checks: {rules: score}}}\n")
        sample = os.path.join(corpus.train["ham"], sorted(os.listdir(corpus.train["ham"]))[0])
        run_logged([self.bin, "scan", "-c", warm, sample], "mailwarden scan (compiles the rules' databases)")
        log(f"{self.name}: rules compiled into {self.learned}/rules-cache")

    def prepare_state(self, state_dir):
        os.makedirs(state_dir)
        shutil.copy(os.path.join(self.learned, "bayes.db"), state_dir)
        shutil.copytree(os.path.join(self.learned, "rules-cache"), os.path.join(state_dir, "rules-cache"))

    def start_scanner(self):
        pass

    def stop_scanner(self):
        pass

    def roots(self, master):
        """(every process of the system, the scanner's): the scanner is the
        master's child running as scanner_user."""
        uid = pwd.getpwnam("mailwarden-scan").pw_uid
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            scan = [p for p in bench.descendants(master) if uid_of(p) == uid]
            if scan:
                return [master], scan[:1]
            time.sleep(0.1)
        return [master], []

    def bayes_symbol(self, message):
        r = subprocess.run([self.bin, "scan", "-c", os.path.join(self.dir, "mailwarden.yaml"), "--json",
                            message], capture_output=True, text=True)
        m = re.search(r"BAYES_\d+", r.stdout)
        return m.group(0) if m else None


class PostfixMilter(bench.Postfix):
    """The benchmark's private Postfix with one milter; a milter that does not
    answer makes Postfix answer 451 (never a pass-through)."""

    def __init__(self, work, milter_port):
        super().__init__(work)
        self.extra_main_cf = f"""smtpd_milters = inet:127.0.0.1:{milter_port}
non_smtpd_milters =
milter_protocol = 6
milter_default_action = tempfail
milter_mail_macros = i {{mail_addr}} {{client_addr}} {{client_name}} {{auth_authen}}
"""

    def version(self):
        return super().version() + "; " + self.scanner_version()

    def roots(self, master):
        return [master] + self.scanner_pids(), self.scanner_pids()


class PostfixSpamAssassin(PostfixMilter):
    """spamass-milter (spamc per message) in front of spamd, 2 children (one
    per core), network tests off, the same Bayes training as mailwarden."""
    name = "postfix-sa"
    label = "Postfix + SpamAssassin"

    def __init__(self, work):
        super().__init__(work, PORT_SA_MILTER)
        self.sa = os.path.join(work, "spamassassin")
        self.spamd = self.milter = None

    def train(self, corpus):
        retire(self.sa)
        site = os.path.join(self.sa, "site")
        os.makedirs(site)
        os.makedirs(os.path.join(self.sa, "bayes"))
        for f in os.listdir("/etc/spamassassin"):
            if f.endswith(".pre"):
                shutil.copy(os.path.join("/etc/spamassassin", f), site)
        with open(os.path.join(site, "local.cf"), "w") as f:
            f.write(f"required_score 5\nuse_bayes 1\nbayes_auto_learn 0\n"
                    f"bayes_path {self.sa}/bayes/bayes\nbayes_file_mode 0666\n")
        self.args = [f"--siteconfigpath={site}", "--local"]
        for cls in ("spam", "ham"):
            out = run_logged(["sa-learn", *self.args, f"--{cls}", corpus.train[cls]], "sa-learn")
            log(f"{self.name}: sa-learn --{cls}: {out.strip()}")
        subprocess.run(["chmod", "-R", "a+rwX", self.sa], check=True)

    def start_scanner(self):
        self.spamd_log = open(os.path.join(self.sa, "spamd.log"), "ab")
        self.spamd = subprocess.Popen(
            ["spamd", *self.args, "--nouser-config", f"--listen=127.0.0.1:{PORT_SPAMD}", "--min-children=2",
             "--max-children=2", "--username=nobody", "--syslog=stderr"],
            stdout=self.spamd_log, stderr=self.spamd_log)
        wait_listen(PORT_SPAMD, 300)
        # -m: headers only (no Subject or body rewrite), as the other two.
        self.milter = subprocess.Popen(
            ["spamass-milter", "-p", f"inet:{PORT_SA_MILTER}@127.0.0.1", "-m", "--",
             "-d", "127.0.0.1", "-p", str(PORT_SPAMD)], stdout=self.spamd_log, stderr=self.spamd_log)
        wait_listen(PORT_SA_MILTER, 60)

    def stop_scanner(self):
        for p in (self.milter, self.spamd):
            if p:
                stop_pid(p)
        self.spamd = self.milter = None

    def scanner_pids(self):
        return [p.pid for p in (self.spamd, self.milter) if p]

    def scanner_version(self):
        v = subprocess.run(["spamd", "--version"], capture_output=True, text=True).stdout.splitlines()
        return (v[0] if v else "spamd ?") + ", spamass-milter " + subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", "spamass-milter"], capture_output=True, text=True).stdout

    def bayes_symbol(self, message):
        with open(message, "rb") as f:
            r = subprocess.run(["spamc", "-d", "127.0.0.1", "-p", str(PORT_SPAMD), "-R"], stdin=f,
                               capture_output=True, text=True)
        m = re.search(r"BAYES_\d+", r.stdout)
        return m.group(0) if m else None


RSPAMD_LOCAL = {
    # No query leaves the machine: the resolver is a loopback port where
    # nothing listens, and the modules that need DNS or remote data are off.
    "options.inc": "dns {{ nameserver = [\"127.0.0.1:{dead}\"]; timeout = 0.2s; retransmits = 1; }}\n",
    "logging.inc": "level = \"warning\";\n",
    "worker-normal.inc": "count = 2;\n",
    "worker-proxy.inc": "count = 1;\nupstream \"local\" {{ default = yes; hosts = \"127.0.0.1:{normal}\"; }}\n",
    # Redis for Bayes only: with a global redis.conf, greylisting and rate
    # limits (which answer 451) would switch on too.
    "classifier-bayes.conf": "servers = \"127.0.0.1:{redis}\";\n",
}
RSPAMD_OFF = ["rbl", "surbl", "emails", "spf", "dkim", "dmarc", "arc", "asn", "fuzzy_check", "dcc",
              "mx_check", "hfilter", "rspamd_update", "url_redirector", "phishing", "whitelist"]


class PostfixRspamd(PostfixMilter):
    """rspamd 3.4 with Debian's default rules, its proxy worker speaking the
    milter protocol to Postfix, 2 normal workers (one per core), Bayes in a
    private Redis; DNS-based modules off."""
    name = "postfix-rspamd"
    label = "Postfix + rspamd"

    def __init__(self, work):
        super().__init__(work, PORT_RS_PROXY)
        self.rs = os.path.join(work, "rspamd")
        self.rspamd = self.redis = None

    def configure(self):
        retire(self.rs)
        for d in ("local.d", "db", "run", "log", "redis"):
            os.makedirs(os.path.join(self.rs, d))
        ports = {"localhost:11333": PORT_RS_NORMAL, "localhost:11334": PORT_RS_CONTROLLER,
                 "localhost:11332": PORT_RS_PROXY, "localhost:11335": PORT_RS_FUZZY}
        with open("/etc/rspamd/rspamd.conf") as f:
            top = f.read()
        for old, port in ports.items():
            top = top.replace(f'"{old}"', f'"127.0.0.1:{port}"')
        with open(os.path.join(self.rs, "rspamd.conf"), "w") as f:
            f.write(top)
        for name, text in RSPAMD_LOCAL.items():
            with open(os.path.join(self.rs, "local.d", name), "w") as f:
                f.write(text.format(dead=PORT_DEAD_DNS, redis=PORT_REDIS, normal=PORT_RS_NORMAL))
        for m in RSPAMD_OFF:
            with open(os.path.join(self.rs, "local.d", f"{m}.conf"), "w") as f:
                f.write("enabled = false;\n")
        for d in ("db", "run", "log"):
            shutil.chown(os.path.join(self.rs, d), "_rspamd", "_rspamd")

    def train(self, corpus):
        self.configure()
        self.start_scanner()
        try:
            for cls in ("spam", "ham"):
                # "bulk": learn every message, as sa-learn and mailwarden learn
                # do; otherwise rspamd skips those its Bayes already puts in
                # the class (train on error), and learns a third of the ham.
                out = run_logged(["rspamc", "-h", f"127.0.0.1:{PORT_RS_CONTROLLER}", "-n", "2", "-t", "60",
                                  "--header", "Learn-Type: bulk", f"learn_{cls}", corpus.train[cls]],
                                 "rspamc learn")
                errors = [re.sub(r"<[^>]*>", "ID", e) for e in re.findall(r'error = "?([^"\n]*)', out)]
                log(f"{self.name}: rspamc learn_{cls}: {out.count('success = true')} learnt, "
                    + ", ".join(f"{errors.count(e)} '{e}'" for e in sorted(set(errors))))
        finally:
            self.stop_scanner(keep_redis=True)

    def start_scanner(self):
        self.log = open(os.path.join(self.rs, "log", "stdout.log"), "ab")
        if not self.redis:
            self.redis = subprocess.Popen(
                ["redis-server", "--port", str(PORT_REDIS), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", os.path.join(self.rs, "redis")], stdout=self.log, stderr=self.log)
            wait_listen(PORT_REDIS, 30)
        rs = self.rs
        self.rspamd = subprocess.Popen(
            ["rspamd", "-f", "-u", "_rspamd", "-g", "_rspamd", "-c", f"{rs}/rspamd.conf",
             "--var", f"LOCAL_CONFDIR={rs}", "--var", f"DBDIR={rs}/db", "--var", f"RUNDIR={rs}/run",
             "--var", f"LOGDIR={rs}/log"], stdout=self.log, stderr=self.log)
        # The first start compiles the regexps for Hyperscan: minutes on a busy machine.
        for port in (PORT_RS_NORMAL, PORT_RS_CONTROLLER, PORT_RS_PROXY):
            wait_listen(port, 600)
        self.wait_hyperscan()

    def wait_hyperscan(self):
        """Until the Hyperscan database is compiled (hs_cache_dir is DBDIR;
        the first start compiles, later ones find the cache) and a moment
        for the workers to load it, so that the measured messages are not
        scanned with the slow fallback."""
        deadline = time.monotonic() + 600
        db = os.path.join(self.rs, "db")
        while time.monotonic() < deadline and not any(f.endswith(".hs") for f in os.listdir(db)):
            time.sleep(0.5)
        time.sleep(5)

    def stop_scanner(self, keep_redis=False):
        if self.rspamd:
            stop_pid(self.rspamd, 30)
            self.rspamd = None
        if self.redis and not keep_redis:
            stop_pid(self.redis)
            self.redis = None
        self.log.close()

    def scanner_pids(self):
        return [p.pid for p in (self.rspamd, self.redis) if p]

    def scanner_version(self):
        v = subprocess.run(["rspamd", "--version"], capture_output=True, text=True).stdout.strip()
        r = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.split()
        return v.replace("Rspamd daemon version ", "rspamd ") + ", redis " + (r[2].split("=")[-1] if len(r) > 2 else "?")

    def bayes_symbol(self, message):
        r = subprocess.run(["rspamc", "-h", f"127.0.0.1:{PORT_RS_NORMAL}", "symbols", message],
                           capture_output=True, text=True)
        m = re.search(r"BAYES_(SPAM|HAM)", r.stdout)
        return m.group(0) if m else None
