"""The selftests' common fixtures (a pytest plugin, loaded by conftest.py's pytest_plugins):
rveth loaded for every test, and namespaces made for a test and removed after it.

Each test makes its own namespaces through the `netns` fixture and leaves nothing behind, so
tests run side by side (pytest-xdist, scripts/guest/test.sh); a test that unloads rveth or
checks machine-wide counts is marked `exclusive` and runs afterwards, alone.
"""
import itertools
import os

import pytest

from lib import namespaces
from lib.cmd import load_module

_ns_ids = itertools.count()


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "exclusive: unloads rveth or checks machine-wide state; runs alone, after "
        "the tests that run side by side")


@pytest.fixture(autouse=True)
def rveth_module():
    """Every test starts with rveth loaded (a test may unload it)."""
    load_module()
    yield


@pytest.fixture
def netns():
    """Factory for network namespaces (lo up), deleted after the test."""
    made = []

    def make():
        name = f"rvt{os.getpid()}-{next(_ns_ids)}"
        namespaces.add(name)
        made.append(name)
        return name

    yield make
    for name in made:
        namespaces.delete(name)
