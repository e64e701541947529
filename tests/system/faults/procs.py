"""The gateway's processes under limits, and what they use (issue 14):
start a gateway with a low descriptor limit, read a process's CPU time."""

import os


def start_with_nofile(gw, nofile):
    """Start gw with every process under RLIMIT_NOFILE nofile, soft and
    hard alike: the master raises its soft limit toward the hard one
    (util/fdlimit.h), so only a hard limit keeps it there."""
    gw.command_prefix = ["prlimit", f"--nofile={nofile}:{nofile}", "--"]
    gw.start()
    return gw


def cpu_seconds(pid):
    """User plus system CPU time a process has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))
