"""The README stands on its own (issue 16 item 12): a clone of the project
holds everything it points to, and what it says about the demo matches the
embedded default configuration and the Makefile."""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def paragraphs():
    return [p.replace("\n", " ") for p in README.split("\n\n")]


def test_readme_points_to_nothing_outside_the_project():
    assert "../" not in README
    for target in re.findall(r"\]\(([^)#]+)\)", README):
        if "://" not in target:
            assert (ROOT / target).exists(), f"README links to {target}, which is not in the project"


def test_readme_says_which_networks_the_demo_trusts():
    default = (ROOT / "src/config/default.c").read_text()
    block = default.split('"trusted_networks:\\n"', 1)[1].split('"routes:', 1)[0]
    networks = re.findall(r'"  - ([^/"]+)/\d+\\n"', block)
    assert networks, "no trusted_networks in the embedded default"
    told = [p for p in paragraphs() if "demo trusts" in p and "relay" in p]
    assert told, "the README does not say what the demo trusts"
    for net in networks:
        assert f"`{net}`" in told[0], f"the demo trusts {net}; the README does not say so"


def test_readme_says_make_run_stays_in_the_foreground_and_when_log_target_counts():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^run:.*\n\t.*mailwarden serve -f\s*$", makefile, re.M)
    assert any("make run" in p and "foreground" in p for p in paragraphs())
    assert any("without -f" in p and "log.target" in p and "ignored" in p for p in paragraphs())
