"""Shared fixtures of the system tests (the helpers live in mwsys.py).

A module gets its own ports, work directory, sink and daemon:

    @pytest.fixture(scope="module")
    def gw(make_gateway, sink):
        return make_gateway(routes={"example.test": sink.url})

Every test is checked afterwards: a sanitizer report in the daemon log,
an unexpected exit of the master, a crashed child or a core fails the test
that was running (as a teardown error), and the module's teardown checks
the whole log once more.
"""

import os

import pytest

import certs
import mwsys


def _binary():
    path = os.environ.get("MW_BIN")
    if not path:
        pytest.skip("MW_BIN is not set (the mailwarden binary under test)")
    path = os.path.abspath(path)
    if not os.access(path, os.X_OK):
        pytest.fail(f"MW_BIN={path} is not an executable")
    return path


@pytest.fixture(scope="session")
def mw_bin():
    return _binary()


@pytest.fixture(scope="module")
def ports():
    """Free ports for this module only: ports.get() / ports.get(3)."""
    return mwsys.PORTS


@pytest.fixture(scope="module")
def workdir(request):
    name = request.module.__name__.rsplit(".", 1)[-1]
    path = mwsys.make_workdir(name)
    yield path
    if not getattr(request.node, "_mw_keep", False):
        mwsys.rmtree(path)


@pytest.fixture(scope="module")
def ca(workdir):
    """A throwaway CA of the module, for peers' certificates (certs.py)."""
    return certs.CA(os.path.join(workdir, "ca"))


def _deep_update(base, changes):
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict) and key != "routes":
            _deep_update(base[key], value)
        else:
            base[key] = value
    return base


class GatewayFactory:
    """Builds gateways from base_config plus changes; cleans them all up."""

    def __init__(self, binary, workdir, ports, request):
        self.binary = binary
        self.workdir = workdir
        self.ports = ports
        self.request = request
        self.gateways = []

    def __call__(self, start=True, name=None, sink=None, **changes):
        """A started gateway. sink routes example.test and .example.test to
        that sink; keyword arguments replace config keys (dicts are merged,
        except routes, which replace the default routes)."""
        index = len(self.gateways)
        gwdir = os.path.join(self.workdir, f"gw{index}")
        os.makedirs(gwdir)
        os.chmod(gwdir, 0o755)
        config = mwsys.base_config(gwdir, self.ports.get(), sink.port if sink else None)
        _deep_update(config, changes)
        gw = mwsys.Gateway(self.binary, gwdir, config, name=name or f"{self.request.node.name}/gw{index}")
        self.gateways.append(gw)
        if start:
            gw.start()
        return gw

    def cleanup(self):
        errors = []
        for gw in self.gateways:
            gw.cleanup()
            try:
                gw.raise_problems()
            except AssertionError as e:
                errors.append(str(e))
        if errors:
            self.request.node._mw_keep = True
            pytest.fail("\n\n".join(errors), pytrace=False)


@pytest.fixture(scope="module")
def make_gateway(mw_bin, workdir, ports, request):
    """Module-scoped gateway factory (one daemon for all tests of a module)."""
    factory = GatewayFactory(mw_bin, workdir, ports, request)
    yield factory
    factory.cleanup()


@pytest.fixture
def make_gateway_fn(mw_bin, ports, request):
    """Function-scoped gateway factory, for tests that kill or restart."""
    path = mwsys.make_workdir(request.node.name[:40].replace("/", "_"))
    factory = GatewayFactory(mw_bin, path, ports, request)
    yield factory
    factory.cleanup()
    if not getattr(request.node, "_mw_keep", False):
        mwsys.rmtree(path)


@pytest.fixture(autouse=True)
def _daemon_health():
    """After each test: sanitizer reports, crashes and unexpected exits of
    any running gateway fail the test that was running."""
    yield
    errors = []
    for gw in list(mwsys.Gateway.registry):
        gw.check_log()
        try:
            gw.raise_problems()
        except AssertionError as e:
            errors.append(str(e))
    if errors:
        pytest.fail("\n\n".join(errors), pytrace=False)


class _SinkFactory:
    def __init__(self, ports):
        self.ports = ports
        self.sinks = []

    def __call__(self, start=True):
        sink = mwsys.Sink(self.ports.get())
        self.sinks.append(sink)
        if start:
            sink.start()
        return sink

    def cleanup(self):
        for sink in self.sinks:
            sink.stop()


@pytest.fixture(scope="module")
def make_sink(ports):
    factory = _SinkFactory(ports)
    yield factory
    factory.cleanup()


@pytest.fixture(scope="module")
def sink(make_sink):
    """A running sink for the module."""
    return make_sink()


@pytest.fixture
def make_sink_fn(ports):
    factory = _SinkFactory(ports)
    yield factory
    factory.cleanup()
