"""Privilege separation (SEC-1), when started as root: the internet-facing
smtpd runs as mailwarden-smtpd, chrooted into the empty directory; the
queue runs as mailwarden; the spool belongs to mailwarden, mode 0700."""

import os
import pwd
import stat

import pytest

import mwsys

pytestmark = pytest.mark.skipif(not mwsys.is_root(), reason="privilege separation needs root")


@pytest.fixture(scope="module")
def gw(make_gateway, sink):
    for user in ("mailwarden", "mailwarden-smtpd"):
        try:
            pwd.getpwnam(user)
        except KeyError:
            pytest.fail(f"user {user} does not exist (scripts/deps.sh creates it)")
    return make_gateway(sink=sink)


def _ids(status, key):
    return [int(x) for x in status[key].split()]


CHILDREN = {"smtpd": "mailwarden-smtpd", "queue": "mailwarden"}


@pytest.mark.parametrize("child,user", CHILDREN.items(), ids=CHILDREN.keys())
def test_child_runs_as_its_user(gw, child, user):
    uid, _ = mwsys.user_ids(user)
    status = mwsys.proc_status(gw.pid(child))
    assert uid != 0
    # real, effective, saved and filesystem uid: no way back to root
    assert _ids(status, "Uid") == [uid] * 4, status["Uid"]


@pytest.mark.parametrize("child,user", CHILDREN.items(), ids=CHILDREN.keys())
def test_child_has_no_root_group(gw, child, user):
    _, gid = mwsys.user_ids(user)
    status = mwsys.proc_status(gw.pid(child))
    assert _ids(status, "Gid") == [gid] * 4, status["Gid"]
    assert 0 not in [int(g) for g in status["Groups"].split()], status["Groups"]


@pytest.mark.parametrize("child", CHILDREN.keys())
def test_child_has_no_capabilities(gw, child):
    status = mwsys.proc_status(gw.pid(child))
    for key in ("CapEff", "CapPrm"):
        assert int(status[key], 16) == 0, f"{key}={status[key]}"


def test_smtpd_uses_a_different_user_than_queue(gw):
    smtpd = _ids(mwsys.proc_status(gw.pid("smtpd")), "Uid")[0]
    queue = _ids(mwsys.proc_status(gw.pid("queue")), "Uid")[0]
    assert smtpd != queue


def test_smtpd_is_chrooted_into_empty_dir(gw):
    root = os.readlink(f"/proc/{gw.pid('smtpd')}/root")
    assert os.path.realpath(root) == os.path.realpath(gw.path("empty"))


def test_empty_dir_is_empty_and_not_writable_by_smtpd(gw):
    empty = gw.path("empty")
    assert os.listdir(empty) == []
    st = os.stat(empty)
    uid, _ = mwsys.user_ids("mailwarden-smtpd")
    assert st.st_uid != uid, "the smtpd user owns its chroot"
    assert not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH), oct(st.st_mode)


def test_spool_belongs_to_mailwarden_with_mode_0700(gw):
    uid, _ = mwsys.user_ids("mailwarden")
    st = os.stat(gw.path("spool"))
    assert st.st_uid == uid, f"spool owned by uid {st.st_uid}"
    assert stat.S_IMODE(st.st_mode) == 0o700, oct(stat.S_IMODE(st.st_mode))


@pytest.mark.parametrize("sub", ["queue", "tmp"])
def test_spool_subdirectories_belong_to_mailwarden(gw, sub):
    uid, _ = mwsys.user_ids("mailwarden")
    st = os.stat(gw.path("spool", sub))
    assert st.st_uid == uid, f"spool/{sub} owned by uid {st.st_uid}"
    assert not st.st_mode & (stat.S_IRWXG | stat.S_IRWXO), oct(stat.S_IMODE(st.st_mode))


def test_mail_is_delivered_with_privileges_dropped(gw, sink):
    token = mwsys.unique("privsep")
    start = gw.mark()
    with mwsys.SmtpClient(gw.port) as c:
        c.greeting()
        c.ehlo()
        reply = c.transaction("a@b.test", ["user@example.test"], f"Subject: {token}\r\n\r\nx\r\n".encode())
    assert reply.code == 250, reply
    qid = mwsys.queue_id(reply)
    gw.wait_delivered(qid, start=start)
    sink.wait_token(token)
