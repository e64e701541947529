"""A stop that comes while the children are still starting (loading their
tables, compiling rules, dropping privileges) is handled like any other:
each child finishes cleanly and exits 0, instead of being killed half set
up by the default action of SIGTERM (the stop signals stay blocked from
fork until the child's event loop handles them)."""

import signal

import mwsys

# Enough rules that the scanner's start-up (compiling them) takes a while.
RULES = "".join(f"body MW_R{i} /w{i}x+(?:ab|cd){{2,5}}z{i}/i\nscore MW_R{i} 0.5\n" for i in range(3000))


def test_sigterm_during_start_up_ends_every_child_cleanly(make_gateway_fn, make_sink_fn, tmp_path):
    rules = tmp_path / "many.cf"
    rules.write_text(RULES)
    tmp_path.chmod(0o755)
    rules.chmod(0o644)
    gw = make_gateway_fn(sink=make_sink_fn(), scan={"rules": [str(rules)], "inbound": {"checks": {"rules": "score"}}},
                         start=False)
    for _ in range(3):
        gw.start(wait=False)
        mark = gw.start_offset
        gw.wait_event(start=mark, proc="master", event="spawned", child="scanner")
        gw.kill(signal.SIGTERM)
        assert gw.wait_exit(timeout=20) == 0
        exits = gw.events(start=mark, proc="master", event="child_exited")
        assert {e["child"] for e in exits} >= {"scanner", "queue", "smtpd"}, exits
        assert all(e["status"] == "exit 0" for e in exits), [(e["child"], e["status"]) for e in exits]
