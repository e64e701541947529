"""Rewriting comes before the relay and route checks (TOP-5, REL-1,
issue 16 item 4): RCPT is judged on the address the mail will go to. A
local domain renamed by the table needs a route only under its new name,
and a rule cannot carry an internet client's mail to a foreign domain."""

import os

import pytest

import mwsys

INTERNET = "127.0.0.2"
TABLE = """\
@old.test               ->  @new.test
info@new.test           ->  someone@foreign.test   # an alias that leaves the organisation
"""


@pytest.fixture(scope="module")
def gw(make_gateway, sink, workdir):
    path = os.path.join(workdir, "rewrite-order.txt")
    with open(path, "w") as f:
        f.write(TABLE)
    os.chmod(path, 0o644)
    return make_gateway(sink=sink, rewrite_table=path, local_domains=["old.test", "new.test"],
                        routes={"new.test": sink.url})


def test_renamed_local_domain_is_routed_by_its_new_name(gw, sink):
    token = mwsys.unique("renamed")
    start = gw.mark()
    final = mwsys.send_from(gw.port, INTERNET, ["x@old.test"], token)
    assert final.code == 250, final
    assert sink.wait_token(token).rcpt_tos == ["x@new.test"]
    # The address as given stays with the recipient (the DSN's ORCPT).
    gw.wait_event(proc="queue", event="rewritten", **{"from": "x@old.test", "to": "x@new.test"}, start=start)


def test_rewrite_to_a_foreign_domain_is_relaying_and_refused_for_internet_clients(gw):
    r = mwsys.rcpt_reply(gw.port, INTERNET, "info@new.test")
    assert r.code == 554 and "Relay access denied" in r.text, r


def test_rewrite_to_a_foreign_domain_is_allowed_for_trusted_clients(gw):
    assert mwsys.rcpt_reply(gw.port, "127.0.0.10", "info@new.test").code == 250
