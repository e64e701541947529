"""Scanner files fail closed (SCAN-3, issue 16 item 2): a missing list or
zone stops the gateway from starting, naming the file and the key; at a
reload the previous contents stay in force and the failure is logged
loudly; only "optional: true" lets the gateway run without a file."""

import os
import re

import pytest

import mwsys
from scan_env import CLEAN, session, write

LISTED = "127.50.2.9"
ZONE = ":127.0.0.2:Listed locally\n127.50.2.0/28\n"


def _must_not_start(gw):
    gw.start(wait=False)
    gw.expected_dead.add(gw.proc.pid)   # it must not run
    assert gw.wait_exit() == 1


@pytest.mark.parametrize("key", ["ip_allow", "ip_deny", "recipients", "rbl_files"])
def test_serve_refuses_to_start_when_a_scanner_file_is_missing(make_gateway_fn, workdir, key):
    missing = os.path.join(workdir, f"missing-{key}.txt")
    scan = {"inbound": {"checks": {"iplist": "refuse", "rbl_file": "refuse", "recipient": "refuse"}}}
    if key == "rbl_files":
        scan["rbl_files"] = [{"file": missing, "name": "intended"}]
        shown = "scan.rbl_files[0].file"
    else:
        scan[key] = missing
        shown = f"scan.{key}"
    gw = make_gateway_fn(start=False, scan=scan)
    _must_not_start(gw)
    gw.wait_for(rf"mailwarden\.yaml:\d+: {re.escape(shown)}: "
                rf"cannot open {re.escape(missing)}: No such file or directory", start=0)
    assert not gw.events(start=0, event="ready")


def test_optional_missing_zone_starts_and_says_so(make_gateway_fn, workdir):
    missing = os.path.join(workdir, "optional.zone")
    gw = make_gateway_fn(scan={
        "rbl_files": [{"file": missing, "name": "extra", "optional": True}],
        "inbound": {"checks": {"rbl_file": "refuse"}}})
    warning = gw.wait_event(proc="master", event="config_warning")
    assert "scan.rbl_files[0].file" in warning["msg"] and "optional" in warning["msg"]
    gw.wait_event(proc="smtpd", event="scan_file_unreadable", file=missing, optional="yes")
    r = session(gw, CLEAN)
    assert r["greeting"].code == 220
    r["client"].close()


def test_zone_removed_at_reload_keeps_the_previous_contents_in_force(make_gateway_fn, workdir):
    zone = os.path.join(workdir, "reload.zone")
    write(zone, ZONE)
    gw = make_gateway_fn(scan={
        "rbl_files": [{"file": zone, "name": "localbl"}],
        "inbound": {"checks": {"rbl_file": "refuse"}}})
    r = session(gw, LISTED)
    assert r["greeting"].code == 554
    r["client"].close()
    mark = gw.mark()
    os.unlink(zone)
    gw.wait_event(start=mark, proc="queue", event="scan_file_error", file=zone)
    failed = gw.wait_event(start=mark, proc="smtpd", event="scan_reload_failed", file=zone)
    assert "previous contents stay in force" in failed["msg"]
    r = session(gw, LISTED)
    assert r["greeting"].code == 554, "the zone must still be in force"
    r["client"].close()
    # The file comes back: it is loaded again.
    mark = gw.mark()
    write(zone, ":127.0.0.2:Listed locally\n127.50.3.0/28\n")
    gw.wait_event(start=mark, event="scan_files_reloaded")
    r = session(gw, LISTED)
    assert r["greeting"].code == 220
    r["client"].close()
