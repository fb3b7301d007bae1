# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Shared fixtures: one emulator (moto server with the fidelity patches) per test session."""

import os
import sys

import pytest

# The emulator lives in tests/emulator; make it importable as ``emulator``.
sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))


_RUNNING = {}


def _running():
    """The emulator of this process, started and seeded on first use."""
    if not _RUNNING:
        from emulator import Emulator, seed_world  # pylint: disable=import-outside-toplevel

        emulator = Emulator().start()
        _RUNNING.update(emulator=emulator, world=seed_world(emulator.endpoint_url))
        _warm_caches(emulator.endpoint_url)
    return _RUNNING


def _warm_caches(endpoint_url):
    """Parse, once in this process, the botocore data every test reads: the service models (kept by the loader that
    the emulator's clients share) and the region data (kept by the modules' ``_api``). Each test runs in a fork of
    this process and inherits them, instead of parsing them again in every test."""
    from emulator.clients import make_client  # pylint: disable=import-outside-toplevel

    from ansible_collections.orgshare.aws.plugins.module_utils import _api  # pylint: disable=import-outside-toplevel

    for service in ("ec2", "kms", "organizations", "sts", "iam"):
        make_client(endpoint_url, service)
    _api.known_regions("ec2")
    _api.partition_of_region("us-east-1")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):  # pylint: disable=unused-argument
    """Start the emulator before a test that needs it is run.

    ansible-test runs every unit test in a fork of the pytest process. Started here,
    in that process, the emulator and its counters outlive each test, instead of
    being started and seeded again inside every fork.
    """
    if "emulator" in item.fixturenames:
        _running()
    yield


def pytest_sessionfinish(session):  # pylint: disable=unused-argument
    """Stop the emulator with the session."""
    if _RUNNING:
        _RUNNING.pop("emulator").stop()
        _RUNNING.clear()


@pytest.fixture(scope="session")
def emulator():
    """The running emulator, driven over HTTP (works from the forked test process too)."""
    from emulator import control  # pylint: disable=import-outside-toplevel

    return control(_running()["emulator"].endpoint_url)


@pytest.fixture(scope="session")
def world(emulator):  # pylint: disable=redefined-outer-name,unused-argument
    """The seeded world (organization, OUs, keys, images) as seed_world describes it."""
    return _running()["world"]


@pytest.fixture
def calls(emulator, world):  # pylint: disable=redefined-outer-name,unused-argument
    """Reset the emulator's call counter (after the world is seeded); the fixture value reads it."""
    emulator.reset_calls()
    emulator.clear_faults()
    yield emulator.calls
    emulator.clear_faults()
