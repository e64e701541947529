"""`mailwarden partners` (SCAN-11, issue 13) on a real store: pairs added,
imported (CSV or one pair a line), exported, removed and expired through
the command, with the configuration's state_dir and max_age (the daemon's
use of the store: test_partners.py)."""

import os
import sqlite3
import subprocess

import pytest

import mwsys


@pytest.fixture
def cfg(mw_bin, tmp_path):
    workdir = mwsys.make_workdir("partners-cmd")
    config = mwsys.base_config(workdir, 2525)
    config["emergency"] = {"partners": {"max_age": "1h"}}
    path = os.path.join(workdir, "mailwarden.yaml")
    with open(path, "w") as f:
        f.write(mwsys.to_yaml(config))
    os.makedirs(os.path.join(workdir, "state", "spool"))
    yield mw_bin, path, os.path.join(workdir, "state", "spool", "partners.db")
    mwsys.rmtree(workdir)


def partners(cfg, *args, stdin=None):
    mw_bin, path, _ = cfg
    return subprocess.run([mw_bin, "partners", "-c", path, *args], input=stdin,
                          capture_output=True, text=True, timeout=30)


def pairs_of(export_text):
    lines = export_text.splitlines()
    assert lines[0] == "internal,external,domain,first_seen,last_seen,count"
    return sorted(tuple(line.split(",")[:2]) for line in lines[1:])


def test_import_export_round_trip(cfg, tmp_path):
    src = tmp_path / "pairs.txt"
    src.write_text("# partners from the old gateway\n"
                   "alice@example.test bob@partner.test\n"
                   "\n"
                   "Alice@Example.TEST,Carol@Other.test\n"
                   "dave@example.test\tnot-an-address\n")
    p = partners(cfg, "import", str(src))
    assert p.returncode == 0, p.stderr
    exported = partners(cfg, "export")
    assert exported.returncode == 0, exported.stderr
    assert pairs_of(exported.stdout) == [("alice@example.test", "bob@partner.test"),
                                        ("alice@example.test", "carol@other.test")]
    # the export is itself an import file: a second store gets the same pairs
    csv = tmp_path / "export.csv"
    csv.write_text(exported.stdout)
    os.unlink(cfg[2])
    p = partners(cfg, "import", str(csv))
    assert p.returncode == 0, p.stderr
    assert pairs_of(partners(cfg, "export").stdout) == pairs_of(exported.stdout)


def test_add_list_remove(cfg):
    assert partners(cfg, "add", "u@example.test", "x@partner.test").returncode == 0
    assert partners(cfg, "add", "u@example.test", "x@partner.test").returncode == 0
    listed = partners(cfg, "list").stdout
    assert "u@example.test x@partner.test count=2" in listed
    assert partners(cfg, "remove", "u@example.test", "x@partner.test").returncode == 0
    assert partners(cfg, "list").stdout == ""
    gone = partners(cfg, "remove", "u@example.test", "x@partner.test")
    assert gone.returncode == 1 and "no known pair" in gone.stderr
    assert partners(cfg, "add", "nodomain", "x@partner.test").returncode == 2


def test_expire_forgets_pairs_older_than_max_age(cfg):
    assert partners(cfg, "add", "u@example.test", "old@partner.test").returncode == 0
    assert partners(cfg, "add", "u@example.test", "new@partner.test").returncode == 0
    db = sqlite3.connect(cfg[2])
    db.execute("UPDATE partner SET last_seen = last_seen - 7200 WHERE external = 'old@partner.test'")
    db.commit()
    db.close()
    p = partners(cfg, "expire")
    assert p.returncode == 0 and "1 pairs expired" in p.stderr, p.stderr
    assert pairs_of(partners(cfg, "export").stdout) == [("u@example.test", "new@partner.test")]
