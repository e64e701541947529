"""The spool's file system fills up (issue 14, catalogue case 148, Q-1).

The spool is put on a small tmpfs mounted for the test (skipped where
mounting is not allowed), and a filler file takes the last free byte.
Then:

- a message whose transaction began while there was room, and the disk
  filled up before its DATA, is refused with 452 4.3.1 (no space left
  when its file is made: at DATA; when its body is written: after the
  final dot), never 250, and nothing of it is left half-accepted (no file
  with its bytes in spool/tmp or spool/queue; it is never delivered);
- the queue logs why (No space left on device);
- a message queued before the disk filled is still delivered;
- once the filler is gone, acceptance resumes by itself: no restart, no
  operator command;
- with less room than a message announces (SIZE) plus the reserve
  (smtp/spool_room.h, 1 MiB), MAIL itself is answered 452 4.3.1 (RFC 1870
  6.1), before any of the message is sent; a smaller SIZE still passes.
"""

import os
import subprocess

import pytest

import mwsys
from shim import gw, sink  # noqa: F401 (fixtures)

SIZE = "8m"
BODY_LINES = 3000   # about 200 KB: more than a nearly full spool can take


@pytest.fixture
def small_spool(gw):
    """gw's state directory on a tmpfs of SIZE; unmounted after the test
    (the gateway is stopped first: its open files hold the mount)."""
    mountpoint = os.path.join(gw.workdir, "small")
    os.makedirs(mountpoint)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE},mode=0755", "tmpfs", mountpoint],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs for the spool: {r.stderr.strip()}")
    gw.config["state_dir"] = os.path.join(mountpoint, "state")
    yield mountpoint
    gw.stop()
    subprocess.run(["umount", mountpoint], check=False)


def _fill(path, leave):
    """Write path until the file system has no byte left, then give back
    leave bytes."""
    chunk = b"\0" * 65536
    with open(path, "wb", buffering=0) as f:
        while True:
            try:
                f.write(chunk)
            except OSError:
                break
        chunk = b"\0" * 512
        while True:
            try:
                f.write(chunk)
            except OSError:
                break
        if leave:
            f.truncate(max(0, f.tell() - leave))


def _body(token):
    lines = "".join(f"line {i} of {token}\r\n" for i in range(BODY_LINES))
    return f"Subject: {token}\r\n\r\n{lines}".encode()


def _try_message(gw, token, before_data=lambda: None):
    """One transaction, stopping at the first refusal; before_data() runs
    between RCPT and DATA; (stage, reply)."""
    with mwsys.SmtpClient(gw.port) as c:
        assert c.greeting().code == 220
        assert c.ehlo().code == 250
        for stage, line, want in (("MAIL", "MAIL FROM:<a@b.test>", 250),
                                  ("RCPT", "RCPT TO:<user@example.test>", 250),
                                  ("DATA", "DATA", 354)):
            if stage == "DATA":
                before_data()
            r = c.cmd(line)
            if r.code != want:
                return stage, r
        c.send(_body(token) + b".\r\n")
        return "dot", c.reply()


def _message_files(gw):
    """Spool files holding message bytes (staged empty ones are not)."""
    found = []
    for sub in ("tmp", "queue"):
        path = gw.path("spool", sub)
        for name in os.listdir(path):
            if os.path.getsize(os.path.join(path, name)) > 0:
                found.append(f"{sub}/{name}")
    return sorted(found)


def _try_until_accepted(gw, token, timeout=10):
    """_try_message until MAIL is no longer refused for space (smtpd's
    figure is up to a second or two old); (stage, reply) of the last."""
    result = []

    def accepted():
        result[:] = _try_message(gw, token)
        return not (result[0] == "MAIL" and result[1].code == 452)
    mwsys.wait_until(accepted, timeout, what="MAIL to be accepted again")
    return tuple(result)


def _mail_reply(gw, size=None):
    """The reply to MAIL (with SIZE=size when given) in a fresh session."""
    with mwsys.SmtpClient(gw.port) as c:
        assert c.greeting().code == 220
        assert c.ehlo().code == 250
        return c.cmd("MAIL FROM:<a@b.test>" + (f" SIZE={size}" if size is not None else ""))


def _refused_for_space(gw, size=None):
    """MAIL's reply if it was 452, else None."""
    r = _mail_reply(gw, size)
    return r if r.code == 452 else None


# The disk fills between RCPT and DATA (after the check at MAIL passed):
# no byte left: the envelope cannot be written (refused at DATA); 64 KiB
# left: the envelope fits, the body does not (refused after the dot).
@pytest.mark.parametrize("leave", [0, 64 * 1024], ids=["no-byte-left", "64k-left"])
def test_full_spool_refuses_with_4xx_delivers_queued_and_resumes(gw, sink, small_spool, leave):
    """Q-1: case 148."""
    gw.start()
    # A message queued before the disk fills: the next hop defers it for now.
    sink.replies["DATA"] = "451 4.3.0 not yet"
    early = mwsys.unique("early")
    early_id = mwsys.send_token(gw, early)
    mwsys.wait_until(lambda: sink.data_attempts >= 1, what="the first delivery attempt of the early message")

    filler = os.path.join(small_spool, "filler")
    mark = gw.mark()
    refused = mwsys.unique("full")
    stage, reply = _try_message(gw, refused, before_data=lambda: _fill(filler, leave))
    # RFC 3463 4.3.1 "mail system full"; before the body (DATA) or after it.
    assert (reply.code, reply.enhanced) == (452, "4.3.1") and stage in ("DATA", "dot"), \
        f"disk full, yet {stage} got {reply}"
    gw.wait_for(r"proc=queue event=spool_error .*No space left on device", start=mark)
    # Nothing half-accepted: only the early message holds bytes.
    mwsys.wait_until(lambda: _message_files(gw) == [f"queue/{early_id}"],
                     what=f"the refused message's file to go (have {_message_files(gw)})")

    # Delivery goes on while the disk is full.
    sink.replies.clear()
    sink.wait_token(early, timeout=15)

    # Space comes back: acceptance resumes by itself.
    os.unlink(filler)
    resumed = mwsys.unique("resumed")
    stage, reply = _try_until_accepted(gw, resumed)
    assert reply.code == 250, f"space is back, yet {stage} got {reply}"
    sink.wait_token(resumed, timeout=15)
    assert not sink.with_token(refused), "the message refused for lack of space was delivered"


def test_mail_is_refused_when_the_spool_lacks_room_for_its_size(gw, sink, small_spool):
    """Issue 14, case 148, RFC 1870 6.1: 452 4.3.1 at MAIL, by SIZE."""
    gw.start()
    mark = gw.mark()
    reserve = 1024 * 1024                      # SPOOL_ROOM_RESERVE
    _fill(os.path.join(small_spool, "filler"), reserve + 512 * 1024)
    # SIZE + reserve > free: refused (once the queue's figure has come in).
    big = mwsys.wait_until(lambda: _refused_for_space(gw, size=900 * 1024), timeout=10,
                           what="MAIL SIZE=900K to be refused for space")
    assert big.enhanced == "4.3.1" and "insufficient system storage" in big.text.lower(), big
    assert _mail_reply(gw, size=1000).code == 250, "a small SIZE fits and must pass"
    assert _mail_reply(gw).code == 250, "no SIZE: only the reserve is wanted, and it is there"
    event = gw.wait_event(proc="smtpd", event="reject", command="MAIL", reason="insufficient spool space",
                          start=mark)
    assert int(event["wanted"]) > int(event["spool_free"]), event

    # The last bytes go: even MAIL without SIZE is refused.
    _fill(os.path.join(small_spool, "filler2"), 0)
    mwsys.wait_until(lambda: _refused_for_space(gw), timeout=10, what="MAIL without SIZE to be refused")

    # Room again: the big message is taken and delivered, no restart.
    os.unlink(os.path.join(small_spool, "filler"))
    os.unlink(os.path.join(small_spool, "filler2"))
    mwsys.wait_until(lambda: _mail_reply(gw, size=900 * 1024).code == 250, timeout=10,
                     what="MAIL SIZE=900K to be accepted again")
    token = mwsys.unique("room")
    stage, reply = _try_until_accepted(gw, token)
    assert reply.code == 250, f"{stage}: {reply}"
    sink.wait_token(token, timeout=15)
