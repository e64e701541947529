"""The deployment picture of the DMZ test, started and stopped as a whole:
the namespaces (dmz_netns.py), the internet's DNS and MX host
(dmz_internet.py), the two internal Postfix servers (dmz_postfix.py) and
mailwarden in the dmz, which is the only way between the internet and the
internal networks.

mailwarden's configuration is the one an operator would write for this
picture: a.example, sub.a.example and b.example are local and statically
routed to the internal server that holds them, the internal subnets may
relay, and DNS for everything else is the internet's resolver."""

import contextlib
import os
import signal

import mwsys
from dmz_postfix import InternalPostfix
from dmz_internet import InternetDns, InternetSink
from dmz_netns import (DMZ_INTERNAL_A, DMZ_INTERNAL_B, INTERNAL_A, INTERNAL_B, INTERNAL_NETWORKS,
                   INTERNET_DNS, Network)

DOMAINS_A = ["a.example", "sub.a.example"]
DOMAINS_B = ["b.example"]


def gateway_config():
    """The config keys this picture changes in mwsys.base_config."""
    route_a = f"smtp://{INTERNAL_A}:25"
    route_b = f"smtp://{INTERNAL_B}:25"
    return {
        "hostname": "mx.a.example",
        "listeners": [{"name": "mta", "address": "0.0.0.0", "port": 25}],
        "local_domains": DOMAINS_A + DOMAINS_B,
        "trusted_networks": INTERNAL_NETWORKS,
        "routes": {**{d: route_a for d in DOMAINS_A}, **{d: route_b for d in DOMAINS_B}},
        "dns": {"servers": [f"{INTERNET_DNS}:53"], "timeout": "1s"},
        "queue": {"mx_port": 25, "retry_min": "1s", "retry_max": "2s"},
    }


class Picture:
    def __init__(self, workdir, make_gateway):
        self.workdir = workdir
        self.make_gateway = make_gateway
        self.net = Network()
        self.dns = self.sink = self.internal_a = self.internal_b = self.gw = None

    def start(self):
        """Build it all; dmz_netns.NetnsUnavailable when the machine cannot."""
        self.net.build()
        self.dns = InternetDns(self.net, self.workdir).start()
        self.sink = InternetSink(self.net, self.workdir).start()
        self.internal_a = InternalPostfix(self.net, "internal-a", self.workdir, INTERNAL_A,
                                          INTERNAL_NETWORKS[0], DOMAINS_A, DMZ_INTERNAL_A).launch()
        self.internal_b = InternalPostfix(self.net, "internal-b", self.workdir, INTERNAL_B,
                                          INTERNAL_NETWORKS[1], DOMAINS_B, DMZ_INTERNAL_B).launch()
        self.internal_a.ready()
        self.internal_b.ready()
        self.gw = self.make_gateway(start=False, name="dmz", **gateway_config())
        self.gw.command_prefix = self.net.command("dmz", [])
        self.gw.start()
        return self

    def stop(self):
        """Everything that was started, each step even when one before it
        failed; then whatever still runs in our namespaces, by pid, and the
        namespaces themselves. Returns the errors met."""
        errors = []
        steps = [self.gw.stop if self.gw else None,
                 self.internal_b.stop if self.internal_b else None,
                 self.internal_a.stop if self.internal_a else None,
                 self.sink.stop if self.sink else None,
                 self.dns.stop if self.dns else None]
        for step in filter(None, steps):
            try:
                step()
            except Exception as e:  # teardown goes on: report, do not stop
                errors.append(f"{step.__qualname__}: {e}")
        errors += self._kill_leftovers()
        errors += self.net.destroy()
        return errors

    def _kill_leftovers(self):
        """Whatever still runs in our namespaces (so ours) 5 s after the
        daemons were stopped (children exit just after their master) is
        killed by pid, and reported."""
        def left():
            return [(role, pid) for role in Network.ROLES if self.net[role] in self.net.created
                    for pid in self.net.pids(role) if mwsys.pid_alive(pid)]
        try:
            mwsys.wait_until(lambda: not left(), timeout=5, what="the namespaces to empty")
            return []
        except TimeoutError:
            pass
        stragglers = left()
        for _, pid in stragglers:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return [f"pid {pid} ({_command(pid)}) still ran in {role} at teardown, killed"
                for role, pid in stragglers]

    @contextlib.contextmanager
    def internet_link_down(self):
        """The dmz's interface towards the internet is down inside the
        block and up again after it, whatever happened in it."""
        self.net.set_internet_link(up=False)
        try:
            yield
        finally:
            self.net.set_internet_link(up=True)

    def internal(self, domain):
        """The internal server responsible for domain."""
        return self.internal_a if domain in DOMAINS_A else self.internal_b


def _command(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return "?"
