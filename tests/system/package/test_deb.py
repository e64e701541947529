"""The Debian package end to end (issue 15): build it, install it into a
throwaway root, run the installed gateway, purge it, find nothing left.

The throwaway root is an overlay of this machine's / (its changes land in
a temporary upper directory, the machine is untouched), entered with
`unshare -m` + `chroot` for every step. The three users are deleted in the
overlay first, so the test sees the package create and remove them.

The package is `make deb`'s (a full build: minutes), or MW_DEB=/path/to.deb
to test one already built. Needs root, dpkg-buildpackage and debhelper
(`make deb-deps`), and overlayfs in a mount namespace; skipped otherwise.
"""

import glob
import os
import shutil
import smtplib
import subprocess
import tempfile

import pytest

import mwsys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
USERS = ("mailwarden", "mailwarden-smtpd", "mailwarden-scan")
INSTALLED = (
    "/usr/sbin/mailwarden",
    "/etc/mailwarden/mailwarden.yaml",
    "/usr/share/mailwarden/rules/mailwarden-base.cf",
    "/usr/share/mailwarden/rules/yara/eicar.yar",
    "/lib/systemd/system/mailwarden.service",
    "/usr/share/man/man8/mailwarden.8.gz",
    "/usr/share/man/man5/mailwarden.yaml.5.gz",
    "/usr/share/doc/mailwarden/operations.md.gz",
    "/var/lib/mailwarden",
)
LEFT_AFTER_PURGE = INSTALLED + ("/etc/mailwarden", "/var/lib/mailwarden-users", "/usr/share/mailwarden",
                                "/usr/share/doc/mailwarden")


class Root:
    """An overlay of / whose changes live in a temporary directory."""

    def __init__(self, base):
        self.upper = os.path.join(base, "upper")
        self.work = os.path.join(base, "work")
        self.merged = os.path.join(base, "merged")
        for d in (self.upper, self.work, self.merged):
            os.makedirs(d)

    def _script(self, command):
        m = self.merged
        return (f"set -e; mount -t overlay overlay -o lowerdir=/,upperdir={self.upper},workdir={self.work} {m}; "
                f"mount -t proc proc {m}/proc; mount --rbind /dev {m}/dev; "
                f"mount -t tmpfs tmpfs {m}/run; "
                f"exec chroot {m} /bin/sh -c '{command}'")

    def run(self, command, check=True, timeout=120):
        r = subprocess.run(["unshare", "-m", "--propagation", "private", "/bin/sh", "-c", self._script(command)],
                           capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(f"{command!r} exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
        return r

    def start(self, command, log):
        """command as the process itself (unshare, sh and chroot exec it): its pid is the Popen's."""
        return subprocess.Popen(["unshare", "-m", "--propagation", "private", "/bin/sh", "-c",
                                 self._script("exec " + command)], stdout=log, stderr=subprocess.STDOUT)

    def host_path(self, path):
        """A file the root wrote, as seen from outside (it is in the upper directory)."""
        return os.path.join(self.upper, path.lstrip("/"))

    def exists(self, paths):
        tests = "; ".join(f"test -e {p} && echo {p}" for p in paths)
        return self.run(tests + "; true").stdout.split()


def _usable():
    if not mwsys.is_root():
        return "needs root (dpkg -i and an overlay mount)"
    if os.environ.get("MW_DEB"):
        return None
    if "asan" in os.environ.get("MW_BIN", ""):
        # The package is built from the source, whatever MW_BIN is: the
        # plain pass of make test has built and tested it already.
        return "the package does not depend on MW_BIN; the plain pass tests it"
    for tool in ("dpkg-buildpackage", "dh"):
        if not shutil.which(tool):
            return f"{tool} is not installed (make deb-deps)"
    return None


@pytest.fixture(scope="module")
def deb(tmp_path_factory):
    why = _usable()
    if why:
        pytest.skip(why)
    if os.environ.get("MW_DEB"):
        return os.path.abspath(os.environ["MW_DEB"])
    out = tmp_path_factory.mktemp("deb")
    r = subprocess.run(["make", "-C", REPO, "deb", f"DEB_BUILD={out}", "JOBS=2"],
                       capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, r.stdout + r.stderr
    debs = glob.glob(f"{out}/mailwarden_*.deb")
    assert len(debs) == 1, debs
    return debs[0]


@pytest.fixture(scope="module")
def root():
    base = tempfile.mkdtemp(prefix="mw-deb-root-", dir="/var/tmp")
    r = Root(base)
    probe = r.run("true", check=False)
    if probe.returncode != 0:
        mwsys.rmtree(base)
        pytest.skip(f"no overlay root here: {probe.stderr.strip()}")
    # Start from a machine without the users (deps.sh makes them on this one).
    for u in reversed(USERS):
        r.run(f"getent passwd {u} >/dev/null && userdel {u}; getent group {u} >/dev/null && groupdel {u}; true")
        assert r.run(f"getent passwd {u}", check=False).returncode != 0
    yield r
    mwsys.rmtree(base)


def _send(port, token):
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
        s.sendmail("a@client.test", ["user@example.test"], f"Subject: {token}\r\n\r\nhello {token}\r\n")


def _test_config(root, ports):
    """The installed example with test ports: only the ports differ."""
    text = open(root.host_path("/etc/mailwarden/mailwarden.yaml")).read()
    for old, new in zip(("port: 25\n", "port: 587\n", "port: 465\n"), ports):
        assert old in text
        text = text.replace(old, f"port: {new}\n")
    with open(root.host_path("/etc/mailwarden/test.yaml"), "w") as f:
        f.write(text)
    return "/etc/mailwarden/test.yaml"


def test_package_installs_runs_and_purges(deb, root, ports):
    os.makedirs(root.host_path("/root"), exist_ok=True)
    shutil.copy(deb, root.host_path("/root/mailwarden.deb"))
    root.run("dpkg -i /root/mailwarden.deb && rm /root/mailwarden.deb")

    # Installed where the unit and the example expect, as a conffile, with the users.
    assert sorted(root.exists(INSTALLED)) == sorted(INSTALLED)
    conffiles = root.run("dpkg-query -W -f=\"\\${Conffiles}\" mailwarden").stdout
    assert "/etc/mailwarden/mailwarden.yaml" in conffiles
    for u in USERS:
        assert root.run(f"getent passwd {u}", check=False).returncode == 0, f"user {u} missing"
    # Installed, not enabled: nothing listens on port 25 until the admin says so.
    assert root.exists(["/etc/systemd/system/multi-user.target.wants/mailwarden.service"]) == []

    # The unit as installed: systemd-analyze verify finds nothing (it
    # checks the ExecStart binary too, so only after the install).
    verify = root.run("systemd-analyze verify /lib/systemd/system/mailwarden.service 2>&1", check=False)
    assert verify.returncode == 0 and verify.stdout.strip() == "", verify.stdout

    # The example as installed passes the installed binary's check.
    check = root.run("/usr/sbin/mailwarden check-config --no-dns -c /etc/mailwarden/mailwarden.yaml")
    assert "configuration ok" in check.stdout + check.stderr

    # The gateway from the installed paths, on test ports.
    mta, sub, subs = ports.get(3)
    config = _test_config(root, (mta, sub, subs))
    log_path = os.path.join(os.path.dirname(root.upper), "gateway.log")
    with open(log_path, "w") as log:
        gw = root.start(f"/usr/sbin/mailwarden serve -f -c {config}", log)
    try:
        mwsys.wait_until(lambda: "child=smtpd" in open(log_path).read(), timeout=30, what="smtpd spawned")
        token = mwsys.unique("deb")
        mwsys.wait_until(lambda: _try_send(mta, token), timeout=15, what="the mta listener")
        maildir = root.host_path("/var/lib/mailwarden/maildir/example.test/new")
        found = mwsys.wait_until(
            lambda: [p for p in glob.glob(maildir + "/*") if token in open(p, errors="replace").read()],
            timeout=20, what="the message in the installed state_dir")
        assert len(found) == 1
        # Built-in rules from /usr/share/mailwarden: the scanner ran on it.
        assert "Authentication-Results" in open(found[0]).read()
    finally:
        gw.terminate()
        gw.wait(timeout=30)
    assert gw.returncode == 0, open(log_path).read()[-2000:]

    # The test's own copy is not the package's (purge keeps what an admin
    # added next to the conffile, as rmdir would refuse): it goes first.
    root.run(f"rm {config}")
    root.run("dpkg --purge mailwarden")
    assert root.exists(LEFT_AFTER_PURGE) == []
    for u in USERS:
        assert root.run(f"getent passwd {u}", check=False).returncode != 0, f"user {u} left"
        assert root.run(f"getent group {u}", check=False).returncode != 0, f"group {u} left"
    assert root.run("dpkg-query -W -f=\"\\${Status}\" mailwarden", check=False).stdout.strip() in ("",
                                                                                                 "unknown ok not-installed")


def _try_send(port, token):
    try:
        _send(port, token)
        return True
    except (OSError, smtplib.SMTPException):
        return False
