"""A memory cgroup for a gateway under test (issue 14, catalogue case 156:
"a memory limit of 256 MB (a cgroup or systemd-run -p MemoryMax=)").

No systemd is needed: the test makes a child group itself, in cgroup v2
when its memory controller can be used there (the group then sits below
the root of the unified hierarchy, the one place where enabling a
controller never meets a process of its own), else in cgroup v1's memory
hierarchy (below the test's own group when that is writable, else below
its root). The daemon enters the group through a wrapper that writes its
own pid into cgroup.procs and then execs, so the master and every child
it forks are charged to the group, and gw.proc.pid stays the master's.

Figures are the kernel's own: usage (v2 memory.current, v1
memory.usage_in_bytes: user and kernel memory, page cache included),
peak, times the limit was hit, and OOM kills."""

import errno
import os
import time

MIB = 1024 * 1024


class Unavailable(Exception):
    """No memory cgroup can be made here (the reason says why)."""


def _read(path):
    with open(path) as f:
        return f.read()


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def _keyed(path):
    """A file of "key value" lines (memory.stat, memory.events,
    memory.oom_control) as a dict of ints."""
    result = {}
    for line in _read(path).splitlines():
        key, _, value = line.partition(" ")
        if value.strip().isdigit():
            result[key] = int(value)
    return result


def _mounts(fstype):
    """(mount point, options) of each mount of fstype."""
    found = []
    for line in _read("/proc/self/mounts").splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[2] == fstype:
            found.append((fields[1], fields[3].split(",")))
    return found


def _own_group(controller):
    """This process's group in the v1 hierarchy of controller ("/" if none)."""
    for line in _read("/proc/self/cgroup").splitlines():
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            return path
    return "/"


class MemoryCgroup:
    """One child memory cgroup, made for a test and removed after it."""

    _made = 0

    def __init__(self, path, version, parent):
        self.path = path
        self.version = version      # 2 or 1
        self.parent = parent

    # -- making and removing

    @classmethod
    def create(cls, limit):
        """A new group limited to limit bytes (v2 if usable, else v1);
        raises Unavailable with every reason when neither works."""
        cls._made += 1
        name = f"mailwarden-test-{os.getpid()}-{cls._made}"
        reasons = []
        for make in (cls._create_v2, cls._create_v1):
            try:
                return make(name, limit)
            except Unavailable as e:
                reasons.append(str(e))
        raise Unavailable("; ".join(reasons))

    @classmethod
    def _create_v2(cls, name, limit):
        for root, _ in _mounts("cgroup2"):
            controllers = _read(os.path.join(root, "cgroup.controllers")).split()
            if "memory" not in controllers:
                continue
            try:
                if "memory" not in _read(os.path.join(root, "cgroup.subtree_control")).split():
                    _write(os.path.join(root, "cgroup.subtree_control"), "+memory")
                path = os.path.join(root, name)
                os.mkdir(path)
            except OSError as e:
                raise Unavailable(f"cgroup v2 at {root}: {e.strerror}") from None
            group = cls(path, 2, root)
            group._set_limit("memory.max", "memory.swap.max", limit)
            return group
        raise Unavailable("cgroup v2: no hierarchy with the memory controller")

    @classmethod
    def _create_v1(cls, name, limit):
        roots = [root for root, options in _mounts("cgroup") if "memory" in options]
        if not roots:
            raise Unavailable("cgroup v1: the memory controller is not mounted")
        root = roots[0]
        own = os.path.join(root, _own_group("memory").lstrip("/"))
        problems = []
        for parent in dict.fromkeys((own, root)):
            path = os.path.join(parent, name)
            try:
                os.mkdir(path)
            except OSError as e:
                problems.append(f"{parent}: {e.strerror}")
                continue
            group = cls(path, 1, parent)
            group._set_limit("memory.limit_in_bytes", "memory.memsw.limit_in_bytes", limit)
            return group
        raise Unavailable("cgroup v1: cannot make a group in " + ", ".join(problems))

    def _set_limit(self, limit_file, swap_file, limit):
        """The limit, and no swap beyond it where the kernel lets us say so
        (else a swapping gateway would look smaller than it is)."""
        try:
            _write(self.file(limit_file), str(limit))
        except OSError as e:
            self.remove()
            raise Unavailable(f"{self.file(limit_file)}: {e.strerror}") from None
        try:
            _write(self.file(swap_file), "0" if self.version == 2 else str(limit))
        except OSError:
            pass   # no swap accounting: no swap, or none this group may use

    def remove(self, timeout=15.0):
        """Wait for the processes to leave (the gateway's stop ends them),
        move any left to the parent group, remove the group."""
        deadline = time.monotonic() + timeout
        while self.pids() and time.monotonic() < deadline:
            time.sleep(0.05)
        for pid in self.pids():
            try:
                _write(os.path.join(self.parent, "cgroup.procs"), str(pid))
            except OSError:
                pass   # it exited meanwhile
        while True:
            try:
                os.rmdir(self.path)
                return
            except FileNotFoundError:
                return
            except OSError as e:
                # EBUSY for a moment after the last process's exit.
                if e.errno != errno.EBUSY or time.monotonic() >= deadline:
                    raise
                time.sleep(0.05)

    # -- entering

    def command_prefix(self):
        """A Gateway.command_prefix that starts the daemon in the group."""
        return ["sh", "-c", 'echo $$ > "$0" && exec "$@"', self.file("cgroup.procs")]

    # -- figures

    def file(self, name):
        return os.path.join(self.path, name)

    def pids(self):
        try:
            return [int(p) for p in _read(self.file("cgroup.procs")).split()]
        except FileNotFoundError:
            return []

    def limit(self):
        """The limit in force, in bytes (None: no limit)."""
        text = _read(self.file("memory.max" if self.version == 2 else "memory.limit_in_bytes")).strip()
        return None if text == "max" else int(text)

    def usage(self):
        """Bytes charged to the group now."""
        return int(_read(self.file("memory.current" if self.version == 2 else "memory.usage_in_bytes")))

    def peak(self):
        """The most charged to the group so far (None: v2 before Linux 5.19)."""
        name = "memory.peak" if self.version == 2 else "memory.max_usage_in_bytes"
        try:
            return int(_read(self.file(name)))
        except FileNotFoundError:
            return None

    def limit_hits(self):
        """Times an allocation met the limit (v2 "max" events, v1 failcnt)."""
        if self.version == 2:
            return _keyed(self.file("memory.events")).get("max", 0)
        return int(_read(self.file("memory.failcnt")))

    def oom_kills(self):
        """Processes of the group the OOM killer has killed."""
        name = "memory.events" if self.version == 2 else "memory.oom_control"
        return _keyed(self.file(name)).get("oom_kill", 0)

    def breakdown(self):
        """Anonymous memory, page cache and kernel memory, in bytes (kernel
        None where the kernel does not count it apart)."""
        stat = _keyed(self.file("memory.stat"))
        if self.version == 2:
            return {"anon": stat.get("anon", 0), "file": stat.get("file", 0), "kernel": stat.get("kernel")}
        try:
            kernel = int(_read(self.file("memory.kmem.usage_in_bytes")))
        except (FileNotFoundError, OSError):
            kernel = None
        return {"anon": stat.get("rss", 0), "file": stat.get("cache", 0), "kernel": kernel}

    def describe(self):
        return f"cgroup v{self.version} {self.path}"
