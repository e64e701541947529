"""Build eio_shim.c and start a gateway with it preloaded (issue 14).

The shim (eio_shim.c) fails or skips one chosen call on spool files; the
variables that choose it are set in the environment the daemon starts
with, and only there (the test process itself never preloads it)."""

import os
import shutil
import subprocess

import pytest

import mwsys

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "eio_shim.c")


def build(directory):
    """Compile the shim into directory (a world-readable .so: the daemon's
    children run as unprivileged users); its path."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler to build the fault shim")
    out = os.path.join(directory, "eio_shim.so")
    subprocess.run([cc, "-Wall", "-Wextra", "-Werror", "-O2", "-shared", "-fPIC", "-o", out, SOURCE, "-ldl",
                    "-lpthread"], check=True, capture_output=True)
    os.chmod(directory, 0o755)
    os.chmod(out, 0o755)
    return out


def start_with_fault(gw, monkeypatch, shim, call, path, nth=1, noop=False):
    """Start gw with the shim preloaded: the nth call (0: every one) of
    call on a file whose path holds path fails with EIO (or, noop,
    is skipped and claims success)."""
    with monkeypatch.context() as m:
        m.setenv("LD_PRELOAD", shim)
        m.setenv("MW_FAULT_CALL", call)
        m.setenv("MW_FAULT_PATH", path)
        m.setenv("MW_FAULT_NTH", str(nth))
        m.setenv("MW_FAULT_NOOP", "1" if noop else "0")
        # ASan wants to be the first library; the shim comes before it.
        asan = os.environ.get("ASAN_OPTIONS", mwsys.SANITIZER_ENV["ASAN_OPTIONS"])
        m.setenv("ASAN_OPTIONS", asan + ":verify_asan_link_order=0")
        gw.start()
    return gw


# The fixtures of the tests that preload the shim (import them by name):
# a sink, and a gateway routed to it that the test starts itself.

@pytest.fixture
def sink(make_sink_fn):
    return make_sink_fn()


@pytest.fixture
def gw(make_gateway_fn, sink):
    return make_gateway_fn(sink=sink, start=False)
