"""Fixtures every section of the attack suite shares: the catalogue's two
sinks (the internal server for local.test, the internet for remote.test)
and its standard gateway (attack_env.gateway_config, with the test
account). Module-scoped: each section gets its own; a section that needs
another gateway defines its own gw."""

import pytest

import attack_env as env


@pytest.fixture(scope="module")
def internal(make_sink):
    return make_sink()


@pytest.fixture(scope="module")
def outbound(make_sink):
    return make_sink()


@pytest.fixture(scope="module")
def gw(make_gateway, ports, workdir, mw_bin, internal, outbound):
    creds = env.credentials_file(mw_bin, workdir)
    return make_gateway(**env.gateway_config(ports, internal, outbound, credentials=creds))
