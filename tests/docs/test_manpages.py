"""The man pages cannot fall behind the program (issue 15): every command
`mailwarden --help` lists has its entry in mailwarden(8), with every option
its usage names; every top-level key the configuration loader knows has
its entry in mailwarden.yaml(5); both pages render without a warning.

The pages are the build's (build/man/, made when scdoc is installed); the
build is the one MW_BIN points into, as for the system tests."""
import os
import pathlib
import re
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def build():
    binary = os.environ.get("MW_BIN")
    if not binary:
        pytest.skip("MW_BIN is not set (the mailwarden binary of the build under test)")
    build = pathlib.Path(binary).resolve().parent
    if not (build / "man").is_dir():
        if shutil.which("scdoc"):
            pytest.fail(f"scdoc is installed but {build}/man was not built")
        pytest.skip("scdoc is not installed: the build makes no man pages")
    return build


def render(page):
    r = subprocess.run(["man", "--warnings", "-P", "cat", "-l", str(page)], capture_output=True, text=True,
                       env=dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8"), timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout, r.stderr


def section(text, title):
    """The lines of one top-level section of a rendered page."""
    body = text.split(f"\n{title}\n", 1)[1]
    return re.split(r"\n[A-Z][A-Z -]+\n", body, maxsplit=1)[0]


def terms(text):
    """The names an entry starts with (7 spaces in), comma-separated."""
    names = set()
    for line in re.findall(r"^ {7}(\S.*)$", text, re.M):
        for name in line.split(","):
            names.add(name.strip().split(" ")[0])
    return names


@pytest.mark.parametrize("name", ["mailwarden.8", "mailwarden.yaml.5"])
def test_page_renders_without_warnings(build, name):
    page = build / "man" / name
    _, warnings = render(page)
    assert warnings == "", warnings
    r = subprocess.run(["groff", "-man", "-ww", "-z", str(page)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stderr == "", r.stderr


def listed_commands(build):
    out = subprocess.run([str(build / "mailwarden"), "--help"], capture_output=True, text=True).stdout
    return re.findall(r"^  ([a-z][a-z-]*) ", out.split("commands:\n", 1)[1], re.M)


def test_every_command_has_its_entry_in_mailwarden_8(build):
    text, _ = render(build / "man" / "mailwarden.8")
    entries = terms(section(text, "COMMANDS"))
    commands = listed_commands(build)
    assert len(commands) >= 10
    missing = [c for c in commands if c not in entries]
    assert missing == [], f"commands without an entry in mailwarden(8): {missing}"


def test_every_option_a_usage_names_is_in_mailwarden_8(build):
    source = (ROOT / "docs/man/mailwarden.8.scd").read_text()
    for command in listed_commands(build):
        usage = subprocess.run([str(build / "mailwarden"), command, "--help"], capture_output=True,
                               text=True).stdout
        for option in set(re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", usage)):
            assert f"*{option}*" in source, f"mailwarden {command} {option} is not in mailwarden(8)"


def test_every_top_level_key_has_its_entry_in_mailwarden_yaml_5(build):
    keys = subprocess.run([str(build / "mailwarden-config-keys"), "--sections"], capture_output=True,
                          text=True, check=True).stdout.split()
    assert {"listeners", "routes", "scan", "queue", "limits", "emergency"} <= set(keys)
    text, _ = render(build / "man" / "mailwarden.yaml.5")
    entries = terms(section(text, "TOP-LEVEL KEYS"))
    missing = [k for k in keys if k not in entries]
    assert missing == [], f"top-level keys without an entry in mailwarden.yaml(5): {missing}"


def test_mailwarden_yaml_5_holds_the_generated_reference(build):
    text, _ = render(build / "man" / "mailwarden.yaml.5")
    assert "@CONFIG_KEYS@" not in text and "@CHECKS@" not in text
    reference = section(text, "ALL SCALAR KEYS")
    for key in ("limits.message_size (size, 1k to 2G; default: 25M)", "queue.retry_min (duration",
                "log.format (one of: kv, json; default: kv)", "scan.dns_timeout_ms (number"):
        assert key in reference
    assert "yara" in section(text, "SCAN")


def test_the_docs_point_to_nothing_outside_the_project():
    for path in [ROOT / "docs/operations.md", ROOT / "docs/logging.md", *(ROOT / "docs/man").glob("*.scd")]:
        assert "../shared" not in path.read_text(), path
