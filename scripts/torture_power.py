"""Power loss for make torture (issue 14): the spool on an XFS file system
on a loop device, cut off the way xfstests does it.

kill -9 keeps the kernel's page cache, so it cannot show that the fsync
order is right. XFS's shutdown without a log flush (xfs_io -x -c
shutdown, XFS_IOC_GOINGDOWN with XFS_FSOP_GOING_FLAGS_NOLOGFLUSH) drops
everything not yet on the device at that instant: data not fsynced,
renames whose log record was not forced. Unmounting and mounting again
then replays the log like a boot after a power cut.

dm-flakey, the other way, needs device-mapper in the kernel; the
kernels this was written on (6.18, no modules) lack it, so XFS it is.
"""

import os
import shutil
import subprocess
import time

IMAGE_SIZE = 320 * 1024 * 1024   # mkfs.xfs (xfsprogs 6.1) refuses less than 300 MiB
UMOUNT_WAIT = 10.0               # seconds


def _run(*argv):
    return subprocess.run(argv, capture_output=True, text=True, check=False)


def unavailable():
    """None when power-loss trials can run here, else why not."""
    if os.geteuid() != 0:
        return "not root (mount and losetup need it)"
    with open("/proc/filesystems") as f:
        if not any(line.split()[-1] == "xfs" for line in f if line.strip()):
            return "the kernel has no xfs file system (/proc/filesystems)"
    for tool in ("losetup", "mkfs.xfs", "xfs_io", "mount", "umount"):
        if shutil.which(tool) is None:
            return f"{tool} is missing (xfsprogs, mount)"
    if not os.path.exists("/dev/loop-control"):
        return "no /dev/loop-control (loop devices)"
    return None


class XfsSpool:
    """A sparse image in workdir, attached to a loop device, with XFS on it,
    mounted on workdir/xfs."""

    def __init__(self, workdir):
        self.image = os.path.join(workdir, "spool.xfs")
        self.mountpoint = os.path.join(workdir, "xfs")
        self.device = None
        self.mounted = False
        self.cuts = 0

    def setup(self):
        with open(self.image, "wb") as f:
            f.truncate(IMAGE_SIZE)
        r = _run("losetup", "--find", "--show", self.image)
        if r.returncode != 0:
            raise OSError(f"losetup: {r.stderr.strip()}")
        self.device = r.stdout.strip()
        r = _run("mkfs.xfs", "-f", "-q", self.device)
        if r.returncode != 0:
            raise OSError(f"mkfs.xfs {self.device}: {r.stderr.strip()}")
        os.makedirs(self.mountpoint, exist_ok=True)
        self.mount()
        os.chmod(self.mountpoint, 0o755)   # the daemon's users traverse it
        return self

    def mount(self):
        r = _run("mount", "-t", "xfs", self.device, self.mountpoint)
        if r.returncode != 0:
            raise OSError(f"mount {self.device}: {r.stderr.strip()}")
        self.mounted = True

    def cut(self):
        """The power cut: shut the file system down without flushing its log.
        Every later operation on it fails with EIO."""
        r = _run("xfs_io", "-x", "-c", "shutdown", self.mountpoint)
        if r.returncode != 0:
            raise OSError(f"xfs_io shutdown: {r.stderr.strip() or r.stdout.strip()}")
        self.cuts += 1

    def remount(self):
        """The reboot: unmount the dead file system (no process may still
        hold it) and mount it again, which replays the log."""
        self.unmount()
        self.mount()

    def unmount(self):
        """Unmount, retrying for a while: the files of processes just
        killed may be released a moment after they are gone ("target is
        busy", seen once in 478 trials)."""
        if not self.mounted:
            return
        deadline = time.monotonic() + UMOUNT_WAIT
        while True:
            r = _run("umount", self.mountpoint)
            if r.returncode == 0:
                self.mounted = False
                return
            if time.monotonic() >= deadline:
                raise OSError(f"umount {self.mountpoint}: {r.stderr.strip()}")
            time.sleep(0.1)

    def teardown(self, keep=False):
        """Detach; keep: leave the image (the spool of a failed run) for
        a look with mount -o loop."""
        try:
            self.unmount()
        finally:
            if self.device:
                _run("losetup", "-d", self.device)
                self.device = None
            if not keep and os.path.exists(self.image):
                os.unlink(self.image)
