"""The gateway's processes under limits, and what they use (issue 14):
start a gateway with a low descriptor limit, read a process's CPU time."""

import os
import resource


def start_with_nofile(gw, nofile):
    """Start gw with every process under a soft RLIMIT_NOFILE of nofile
    (inherited: this process's own limit is lowered for the start only;
    prlimit on the children would need CAP_SYS_RESOURCE)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, hard))
    try:
        gw.start()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return gw


def cpu_seconds(pid):
    """User plus system CPU time a process has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))
