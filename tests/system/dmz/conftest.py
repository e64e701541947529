"""The DMZ picture as a module fixture (dmz_picture.py): built once for the
scenarios of test_dmz.py, torn down even when a scenario or the build
itself failed. Needs root and network namespaces with veth pairs; without
them the module is skipped, saying why."""

import os
import shutil

import pytest

import mwsys
from dmz_netns import NetnsUnavailable
from dmz_picture import Picture

TOOLS = ("ip", "postfix", "dnsmasq", "smtp-sink")


@pytest.fixture(scope="module")
def dmz(workdir, make_gateway):
    if not mwsys.is_root():
        pytest.skip("the DMZ test needs root (network namespaces, veth pairs, port 25)")
    missing = [t for t in TOOLS if not shutil.which(t, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")]
    if missing:
        pytest.fail(f"the DMZ test needs {', '.join(missing)} (scripts/deps.sh installs them)")
    picture = Picture(workdir, make_gateway)
    try:
        picture.start()
    except NetnsUnavailable as e:
        picture.stop()
        pytest.skip(f"network namespaces with veth pairs are not available here: {e}")
    except BaseException:
        picture.stop()
        raise
    yield picture
    errors = picture.stop()
    if errors:
        pytest.fail("DMZ teardown: " + "; ".join(errors), pytrace=False)
