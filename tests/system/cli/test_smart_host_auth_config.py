"""queue.smart_host_auth at check-config and serve (issue 15): the
credentials file must exist, hold one "user password" line and be
private (no access for others); each problem names the configuration
file, the line and the key, and serve refuses to start on it as
check-config does. The files are made here with the mode each case
needs (a checked-out file's mode depends on the umask)."""

import os
import subprocess

import pytest


def run(mw_bin, *args, cwd):
    return subprocess.run([mw_bin, *args], capture_output=True, text=True, cwd=cwd, timeout=30,
                          stdin=subprocess.DEVNULL)


def write(path, text, mode=0o600):
    path.write_text(text)
    os.chmod(path, mode)
    return path


CONFIG = """hostname: mx.example.org
state_dir: {state}
local_domains: [example.org]
routes:
  example.org: smtp://10.1.2.3:25
queue:
  smart_host: {smart_host}
  smart_host_auth:
    credentials: relay-credentials
"""


def check(mw_bin, tmp_path, smart_host="smtps://relay.example.net"):
    write(tmp_path / "mw.yaml", CONFIG.format(state=tmp_path / "state", smart_host=smart_host), 0o644)
    return run(mw_bin, "check-config", "--no-dns", "-c", "mw.yaml", cwd=tmp_path)


def test_private_credentials_are_accepted(mw_bin, tmp_path):
    write(tmp_path / "relay-credentials", "user@provider.test secret\n", 0o640)
    r = check(mw_bin, tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("mw.yaml: configuration ok"), r.stdout


@pytest.mark.parametrize("mode", [0o644, 0o604, 0o602])
def test_credentials_others_can_access_are_refused(mw_bin, tmp_path, mode):
    creds = write(tmp_path / "relay-credentials", "user@provider.test secret\n", mode)
    r = check(mw_bin, tmp_path)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr == (f"mw.yaml:9: queue.smart_host_auth.credentials: {creds}: mode {mode:04o} lets every "
                        "user read or change the password; chmod 600 (or 640 with the group of the user "
                        "mailwarden runs as)\n")


def test_missing_credentials_file_is_named(mw_bin, tmp_path):
    r = check(mw_bin, tmp_path)
    assert r.returncode == 1
    assert r.stderr == (f"mw.yaml:9: queue.smart_host_auth.credentials: {tmp_path / 'relay-credentials'}: "
                        "cannot open: No such file or directory\n")


def test_a_second_line_is_named_with_its_line(mw_bin, tmp_path):
    creds = write(tmp_path / "relay-credentials", "# relay\nuser one\nuser two\n")
    r = check(mw_bin, tmp_path)
    assert r.returncode == 1
    assert r.stderr == (f"mw.yaml:9: queue.smart_host_auth.credentials: {creds}:3: only one 'user password' "
                        "line is allowed\n")


def test_auth_to_an_lmtp_smart_host_is_refused(mw_bin, tmp_path):
    write(tmp_path / "relay-credentials", "user secret\n")
    r = check(mw_bin, tmp_path, smart_host="lmtp://10.0.0.1")
    assert r.returncode == 1
    assert r.stderr == ("mw.yaml:9: queue.smart_host_auth: AUTH is for an smtp:// or smtps:// smart host, "
                        "not lmtp://10.0.0.1\n")


def test_serve_refuses_to_start_with_readable_credentials(mw_bin, tmp_path):
    creds = write(tmp_path / "relay-credentials", "user secret\n", 0o644)
    check(mw_bin, tmp_path)
    r = run(mw_bin, "serve", "-c", "mw.yaml", cwd=tmp_path)
    assert r.returncode != 0
    assert f"queue.smart_host_auth.credentials: {creds}: mode 0644" in r.stderr, r.stderr
