"""Guest selftests: run inside the QEMU guest as root, one boot for the whole suite.

What tests share lives in tests/lib/ (as kselftest's net/lib/py); the fixtures come in as
pytest plugins. The names below are re-exported for tests that still import them from here
(`from conftest import ip`); new tests import from lib directly.
"""
from lib.cmd import (RVETH_KO, CmdError, ip, ip_batch, ip_fails, link, links,  # noqa: F401
                     load_module, module_loaded, netns_cmd, nsrun, run)
from lib.pair import make_pair, up_with_addrs  # noqa: F401

pytest_plugins = ["lib.fixtures", "lib.reliability"]
