"""Fixtures of the scanner's system tests: a dnsmasq on loopback serving
the test hosts' PTR/A/MX/TXT records and a DNSBL zone, with a query log
(so a test can prove that no query was sent), and helpers for zone files
and SMTP dialogues from fixed client addresses.

Client addresses (all on the loopback interface, none trusted):

    127.50.0.2   listed in bl.test (answer 127.0.0.2)
    127.50.0.3   clean: PTR clean.mail.test, which resolves back
    127.50.0.4   no PTR
    127.50.0.5   PTR badfc.mail.test, which resolves to 192.0.2.5
    127.50.0.6   listed in bl.test with code 127.0.0.4
    127.50.1.x   for local zone files and lists
"""

import ctypes
import os
import subprocess

import pytest

import mwsys
from scan_env import CLONE_NEWNET, SPF_CLIENT, DnsServer


@pytest.fixture(scope="module")
def private_network():
    """A network namespace of the module's own, holding its whole world:
    dnsmasq, the gateway, the sink and the clients. libspf2 passes every
    127/8 client, so SPF needs a client address outside loopback; inside
    this namespace 192.0.2.77 sits on the namespace's own lo and no packet
    ever reaches a real interface. Root only (unshare). Entered by the
    calling thread; everything started afterwards inherits it."""
    if not mwsys.is_root():
        pytest.skip("a private network namespace needs root")
    libc = ctypes.CDLL(None, use_errno=True)
    original = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    if libc.unshare(CLONE_NEWNET) != 0:
        os.close(original)
        pytest.skip(f"unshare(CLONE_NEWNET): {os.strerror(ctypes.get_errno())}")
    try:
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        subprocess.run(["ip", "addr", "add", f"{SPF_CLIENT}/32", "dev", "lo"], check=True)
        yield SPF_CLIENT
    finally:
        libc.setns(original, CLONE_NEWNET)
        os.close(original)


@pytest.fixture(scope="module")
def dns(workdir, ports):
    server = DnsServer(workdir, ports.get())
    server.start()
    yield server
    server.stop()
