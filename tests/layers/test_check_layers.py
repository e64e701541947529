"""The layer order of DESIGN.md is checked by scripts/check-layers.sh, which
`make test` runs: each test here runs it on a copy of src/ with one include
changed, and expects it to tell."""
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts/check-layers.sh"


def check(src):
    return subprocess.run([str(SCRIPT), str(src)], capture_output=True, text=True)


@pytest.fixture
def src(tmp_path):
    copy = tmp_path / "src"
    shutil.copytree(ROOT / "src", copy, ignore=shutil.ignore_patterns("*.o"))
    return copy


def add_include(path, header):
    text = path.read_text()
    path.write_text(f'#include "{header}"\n' + text)


def test_the_tree_keeps_the_layer_order():
    r = check(ROOT / "src")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "check-layers: ok" in r.stdout


@pytest.mark.parametrize("file,header", [
    ("util/alloc.c", "config/config.h"),
    ("net/conn.c", "tls/tls.h"),
    ("config/schema.c", "policy/route.h"),
    ("scan/checks.c", "queue/envelope.h"),
    ("queue/spool.h", "master/child.h"),
])
def test_an_include_of_a_higher_layer_fails(src, file, header):
    add_include(src / file, header)
    r = check(src)
    assert r.returncode == 1
    assert f"src/{file} includes {header}" in r.stdout
    assert "above" in r.stdout


@pytest.mark.parametrize("file,header", [
    ("smtp/commands.c", "scan/scan.h"),        # same layer
    ("master/master.c", "queue/queue.h"),      # below
])
def test_an_include_of_the_same_or_a_lower_layer_passes(src, file, header):
    add_include(src / file, header)
    r = check(src)
    assert r.returncode == 0, r.stdout


def test_a_folder_outside_the_layer_list_fails(src):
    (src / "extra").mkdir()
    (src / "extra/x.c").write_text('#include "util/alloc.h"\n')
    add_include(src / "util/alloc.c", "extra/x.h")
    r = check(src)
    assert r.returncode == 1
    assert "folder 'extra' is not in the layer list" in r.stdout


def test_config_includes_nothing_above_its_layer():
    """Issue 10: the sections above config/ register themselves
    (config/section.h), so config/ needs no header of theirs."""
    allowed = {"config", "util", "net", "ipc"}
    for path in (ROOT / "src/config").iterdir():
        for line in path.read_text().splitlines():
            if line.startswith('#include "'):
                folder = line.split('"')[1].split("/")[0]
                assert folder in allowed, f"{path.name}: {line}"


def test_no_upward_include_is_allowed_any_more():
    text = SCRIPT.read_text()
    allow = text.split("ALLOW=(", 1)[1].split(")", 1)[0]
    assert not [l for l in allow.splitlines() if l.strip()], allow
