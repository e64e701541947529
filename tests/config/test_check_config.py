"""Golden tests for `mailwarden check-config`.

Each NAME.yaml here is checked with `mailwarden check-config -c NAME.yaml`
(run from this directory, so messages name the file as written) and the
output, stdout then stderr, must equal NAME.out byte for byte.
good*.yaml must load (exit 0, report on stdout, nothing on stderr);
bad*.yaml must fail (exit 1, errors on stderr, nothing on stdout).

To add a case: write the YAML, write the .out you expect by hand, run.
In a .out file @HERE@ stands for this directory: relative file names in a
configuration are made absolute against it, and messages name them so.
"""
import os
import pathlib
import subprocess

import pytest

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
MW_BIN = os.environ.get("MW_BIN")

if not MW_BIN:
    pytest.skip("MW_BIN is not set (path to the built mailwarden binary)", allow_module_level=True)

CASES = sorted(p.name for p in HERE.glob("*.yaml"))


def check_config(*args, cwd=HERE):
    # Golden output must not depend on the machine's DNS: the double-reverse
    # check (SEC-3) is tested against dnsmasq in tests/system/delivery.
    return subprocess.run(
        [MW_BIN, "check-config", "--no-dns", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_every_case_has_expected_output():
    missing = [c for c in CASES if not (HERE / c).with_suffix(".out").exists()]
    assert not missing, f"no .out file for {missing}"
    assert any(c.startswith("good") for c in CASES)
    assert any(c.startswith("bad") for c in CASES)


@pytest.mark.parametrize("case", CASES)
def test_golden_output(case):
    assert case.startswith(("good", "bad")), f"{case}: name must start with good or bad"
    expected = (HERE / case).with_suffix(".out").read_text().replace("@HERE@", str(HERE))
    result = check_config("-c", case)
    assert result.stdout + result.stderr == expected
    if case.startswith("good"):
        assert result.returncode == 0
        assert result.stderr == ""
    else:
        assert result.returncode == 1
        assert result.stdout == ""


def test_embedded_default_is_ok(tmp_path):
    result = check_config(cwd=tmp_path)
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "<embedded default>: configuration ok"
    # Issue 11: the demo scans content; check-config says with which rules.
    if os.path.isdir("/usr/share/spamassassin"):
        assert lines[1] == "<embedded default>: scan.rules: /usr/share/spamassassin (Debian's spamassassin package)"
        # Its rules we cannot run are counted in one line, not listed.
        assert lines[2].startswith("<embedded default>: scan.rules: warning: ")
        assert len(lines) == 5
    else:
        assert lines[1] == (f"<embedded default>: scan.rules: {ROOT}/rules/mailwarden-base.cf "
                            "(mailwarden's built-in set (apt install spamassassin for SpamAssassin's))")
    # The demo's submission listeners require AUTH and it has no users.
    for listener in ("submission", "submissions"):
        assert (f"<embedded default>: warning: listener {listener} requires AUTH but auth.credentials is not set: "
                "nobody can log in there") in lines
    assert result.stderr == ""
    # checking does not create the state directory
    assert list(tmp_path.iterdir()) == []


def test_missing_file_is_an_error(tmp_path):
    result = check_config("-c", "absent.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == "absent.yaml: cannot open: No such file or directory\n"


def test_configuration_ok_means_serve_starts(tmp_path):
    """Issue 16 item 1: what serve refuses, check-config refuses too."""
    conf = tmp_path / "mw.yaml"
    conf.write_text("hostname: mx.example.org\nstate_dir: state\n"
                    "auth:\n  credentials: /nonexistent/credentials\n")
    checked = check_config("-c", str(conf))
    assert checked.returncode == 1
    assert checked.stderr == (f"{conf}:4: auth.credentials: /nonexistent/credentials: "
                              "cannot open: No such file or directory\n")
    served = subprocess.run([MW_BIN, "serve", "-f", "-c", str(conf)], cwd=tmp_path,
                            capture_output=True, text=True, timeout=30)
    assert served.returncode == 1
    assert checked.stderr in served.stderr


def test_open_relay_stops_serve_unless_allowed(tmp_path):
    """REL-1, issue 16 item 5: trusting 0.0.0.0/0 is an error for serve too."""
    conf = tmp_path / "mw.yaml"
    conf.write_text("hostname: mx.example.org\nstate_dir: state\ntrusted_networks: [0.0.0.0/0]\n")
    served = subprocess.run([MW_BIN, "serve", "-f", "-c", str(conf)], cwd=tmp_path,
                            capture_output=True, text=True, timeout=30)
    assert served.returncode == 1
    assert f"{conf}:3: trusted_networks[0]: 0.0.0.0/0 makes the gateway an open relay" in served.stderr
    conf.write_text("hostname: mx.example.org\ntrusted_networks: [0.0.0.0/0]\nallow_open_relay: true\n")
    checked = check_config("-c", str(conf))
    assert checked.returncode == 0
    assert "warning: trusted_networks contains 0.0.0.0/0" in checked.stdout


def test_absolute_path_is_named_as_given(tmp_path):
    conf = tmp_path / "mw.yaml"
    conf.write_text("hostname: mx.example.org\nlimits:\n  errors: 0\n")
    result = check_config("-c", str(conf))
    assert result.returncode == 1
    assert result.stderr == f"{conf}:3: limits.errors: must be between 1 and 1000\n"


def test_levels_option_shows_what_each_emergency_level_changes():
    # SCAN-11: "each level's effect documented", from the loaded snapshots.
    result = check_config("--levels", "-c", "good-levels.yaml")
    assert result.returncode == 0, result.stderr
    out = result.stdout.split("level 0 normal", 1)[1].splitlines()
    assert out == [
        ": the configuration as written",
        "level 1 flood:",
        "  limits.message_size: 25M -> 5M",
        "  limits.recipients: 1000 -> 20",
        "  limits.connections: 1000 -> 20",
        "  limits.connections_per_ip: 20 -> 2",
        "  scan.inbound.checks.dnsbl: off -> refuse",
        "  scan.inbound.checks.rdns: score -> refuse",
        "  scan.inbound.tag: 5 -> 3",
        "  scan.inbound.quarantine: off -> 6",
        "  scan.inbound.refuse: 15 -> 8",
        "level 2 outbreak:",
        "  scan.scanner_timeout_ms: 60000 -> 20000",
        "  scan.inbound.checks.clamav: off -> refuse",
        "level 3 partners:",
        "  partners_only: both (strangers get 450 4.7.1)",
    ]


def test_levels_option_prints_each_levels_trigger():
    # SCAN-11 triggers: what raises a level and when it comes down again.
    result = check_config("--levels", "-c", "good-triggers.yaml")
    assert result.returncode == 0, result.stderr
    triggers = [line for line in result.stdout.splitlines() if line.startswith("  trigger:")]
    assert triggers == [
        "  trigger: queue_depth >= 5000 or received_per_minute >= 3000, held for 1m; lowered when clear for 5m",
        "  trigger: spool_free_below < 2G or malware_share >= 5% (last 10 minutes, 20 messages at least),"
        " held for 1m; lowered when clear for 5m",
        "  trigger: sessions >= 900, held for 2s; lowered when clear for 10s",
    ]
