"""Address rewriting (TOP-5): a plain-text table referenced from the
configuration maps recipients where they enter the queue (single
addresses and whole domains) and envelope senders on the way out; a table
that loops or does not parse is refused with file:line."""

import os
import subprocess

import pytest

import mwsys

TABLE = """\
# canonical addresses
j.doe@example.test      ->  john.doe@example.test
@old.test               ->  @example.test
Jane@Example.TEST       ->  jane.roe@example.test     # domain case is ignored
internal-7@corp.test    ->  sales@example.test
"""


@pytest.fixture(scope="module")
def gw(make_gateway, sink, workdir):
    path = os.path.join(workdir, "rewrite.txt")
    with open(path, "w") as f:
        f.write(TABLE)
    os.chmod(path, 0o644)
    return make_gateway(sink=sink, rewrite_table=path, local_domains=["example.test", "other.test", "old.test"],
                        routes={"example.test": sink.url, "old.test": sink.url})


def _send(gw, sender, rcpts, token):
    with mwsys.SmtpClient(gw.port, source="127.0.0.10") as c:
        assert c.greeting().code == 220
        c.ehlo()
        reply = c.transaction(sender, rcpts, f"Subject: {token}\r\n\r\nx\r\n".encode())
        c.cmd("QUIT")
    assert reply.code == 250, reply
    return mwsys.queue_id(reply)


@pytest.mark.parametrize("given,delivered", [
    ("j.doe@example.test", "john.doe@example.test"),
    ("someone@old.test", "someone@example.test"),
    ("Jane@example.test", "jane.roe@example.test"),
    ("unlisted@example.test", "unlisted@example.test"),
])
def test_recipient_is_rewritten_on_the_way_in(gw, sink, given, delivered):
    token = mwsys.unique("rcpt")
    start = gw.mark()
    qid = _send(gw, "a@other.test", [given], token)
    assert sink.wait_token(token).rcpt_tos == [delivered]
    gw.wait_delivered(qid, to=delivered, start=start)
    if given != delivered:
        gw.wait_event(proc="queue", event="rewritten", **{"from": given, "to": delivered}, start=start)


def test_two_aliases_of_one_mailbox_deliver_once(gw, sink):
    token = mwsys.unique("twice")
    _send(gw, "a@other.test", ["j.doe@example.test", "john.doe@example.test"], token)
    assert sink.wait_token(token).rcpt_tos == ["john.doe@example.test"]


def test_sender_is_rewritten_on_the_way_out(gw, sink):
    token = mwsys.unique("sender")
    _send(gw, "internal-7@corp.test", ["user@example.test"], token)
    assert sink.wait_token(token).mail_from == "sales@example.test"


@pytest.mark.parametrize("table,problem", [
    ("a@x.test -> b@x.test\nb@x.test -> a@x.test\n", ":1: rewrite_table: rewriting loops"),
    ("@x.test -> @y.test\n@y.test -> @x.test\n", ":1: rewrite_table: rewriting loops"),
    ("a@x.test b@x.test c@x.test\n", ":1: rewrite_table: expected: FROM -> TO"),
    ("\n\nnot-an-address -> b@x.test\n", ":3: rewrite_table: not an address"),
    ("a@x.test -> @y.test\n", ":1: rewrite_table: an address cannot be rewritten to a whole domain"),
    ("a@x.test -> b@x.test\na@X.TEST -> c@x.test\n", ":2: rewrite_table: duplicate rule for a@x.test"),
    ("a@x.test -> b@" + "x" * 300 + ".test\n", ":1: rewrite_table: domain name"),
    ("a@x.test -> " + "b" * 2000 + "@x.test\n", ":1: rewrite_table: line longer than 1024 bytes"),
    ("a@x.test\0 -> b@x.test\n", ":1: rewrite_table: NUL byte in line"),
])
def test_bad_table_is_refused_by_check_config(mw_bin, workdir, table, problem):
    path = os.path.join(workdir, "bad-rewrite.txt")
    with open(path, "w") as f:
        f.write(table)
    cfg = os.path.join(workdir, "bad.yaml")
    with open(cfg, "w") as f:
        f.write(f"state_dir: {workdir}/bad-state\nrewrite_table: bad-rewrite.txt\n")
    p = subprocess.run([mw_bin, "check-config", "-c", cfg], capture_output=True, text=True, timeout=10)
    assert p.returncode == 1
    assert f"{path}{problem}" in p.stderr, p.stderr
