"""SEC-1: what a compromised smtpd holds of a message is no more than a
client has. The test plays the compromised smtpd: it takes copies of the
very descriptors the running smtpd holds (pidfd_getfd(2), as a debugger
could) in the middle of a DATA transfer and afterwards, and shows that
they read no spool byte, change no message after its 250, and reach no
later message through a recycled spool file."""

import ctypes
import errno
import os
import stat

import pytest

import mwsys

SYS_PIDFD_GETFD = 438
libc = ctypes.CDLL(None, use_errno=True)


def steal(pid, fd):
    """A copy of descriptor fd of process pid in this process."""
    pidfd = os.pidfd_open(pid)
    try:
        got = libc.syscall(SYS_PIDFD_GETFD, pidfd, fd, 0)
        if got < 0:
            err = ctypes.get_errno()
            if err in (errno.EPERM, errno.ENOSYS):
                pytest.skip(f"pidfd_getfd not allowed here: {os.strerror(err)}")
            raise OSError(err, os.strerror(err))
        return got
    finally:
        os.close(pidfd)


def descriptors(pid):
    """{fd: link target} of a process."""
    out = {}
    base = f"/proc/{pid}/fd"
    for name in os.listdir(base):
        try:
            out[int(name)] = os.readlink(os.path.join(base, name))
        except FileNotFoundError:
            pass
    return out


def access_mode(pid, fd):
    with open(f"/proc/{pid}/fdinfo/{fd}") as f:
        for line in f:
            if line.startswith("flags:"):
                return int(line.split()[1], 8) & os.O_ACCMODE
    raise AssertionError("no flags in fdinfo")


@pytest.fixture(scope="module")
def sink(make_sink):
    return make_sink()


@pytest.fixture(scope="module")
def gw(make_gateway, sink):
    return make_gateway(sink=sink)


def start_data(gw, source, token):
    """A session in the middle of DATA: the message pipe is open."""
    c = mwsys.SmtpClient(gw.port, source=source)
    assert c.greeting().code == 220
    assert c.ehlo().code == 250
    assert c.cmd("MAIL FROM:<a@client.test>").code == 250
    assert c.cmd("RCPT TO:<user@example.test>").code == 250
    assert c.cmd("DATA").code == 354
    c.send(f"Subject: {token}\r\n\r\nfirst half {token}\r\n".encode())
    return c


def message_pipe(gw, before):
    """The descriptor smtpd got for the message: the one new pipe."""
    pid = gw.pid("smtpd")
    found = []

    def appeared():
        old = set(before.values())
        found[:] = [fd for fd, target in descriptors(pid).items()
                    if target.startswith("pipe:") and target not in old]
        return len(found) == 1
    mwsys.wait_until(appeared, what="the message pipe in smtpd")
    return pid, found[0]


def test_smtpd_holds_no_spool_file_only_a_write_only_pipe(gw, sink):
    pid = gw.pid("smtpd")
    before = descriptors(pid)
    c = start_data(gw, mwsys.ADDRESSES.get(), "cap-holds")
    try:
        pid, fd = message_pipe(gw, before)
        spool = os.path.realpath(gw.path("spool"))
        for n, target in descriptors(pid).items():
            assert not target.startswith(spool), f"smtpd holds fd {n} on {target}"
            if n > 2:  # stdin/out/err: /dev/null and the log
                assert not target.startswith("/"), f"smtpd holds fd {n} on a file: {target}"
        assert access_mode(pid, fd) == os.O_WRONLY
        stolen = steal(pid, fd)
        try:
            assert stat.S_ISFIFO(os.fstat(stolen).st_mode)
            with pytest.raises(OSError) as e:
                os.read(stolen, 1)
            assert e.value.errno == errno.EBADF, "the message descriptor must not read"
        finally:
            os.close(stolen)
        c.send(b".\r\n")
        assert c.reply().code == 250
    finally:
        c.close()


def test_stolen_descriptor_cannot_change_the_message_after_its_250_or_a_later_one(gw, sink):
    pid = gw.pid("smtpd")
    before = descriptors(pid)
    c = start_data(gw, mwsys.ADDRESSES.get(), "cap-first")
    try:
        pid, fd = message_pipe(gw, before)
        stolen = steal(pid, fd)
        c.send(b"second half\r\n.\r\n")
        final = c.reply()
        assert final.code == 250
        # The transaction is over: the queue closed its end of the pipe.
        with pytest.raises(BrokenPipeError):
            os.write(stolen, b"X-Injected: after the 250\r\n")
        # A later message, possibly in a recycled spool file, is out of reach too.
        second = start_data(gw, mwsys.ADDRESSES.get(), "cap-later")
        try:
            with pytest.raises(BrokenPipeError):
                os.write(stolen, b"X-Injected: into a later message\r\n")
            second.send(b".\r\n")
            assert second.reply().code == 250
        finally:
            second.close()
        os.close(stolen)
    finally:
        c.close()
    for token in ("cap-first", "cap-later"):
        msg = sink.wait_token(token)
        assert b"X-Injected" not in msg.data
    assert b"second half" in sink.wait_token("cap-first").data
