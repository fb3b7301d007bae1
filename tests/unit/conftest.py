# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Shared fixtures: one emulator (moto server with the fidelity patches) per test session."""

import os
import sys

import pytest

# The emulator lives in tests/emulator; make it importable as ``emulator``.
sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))


@pytest.fixture(scope="session")
def emulator():
    """A running emulator for the whole session, stopped at the end."""
    from emulator import Emulator  # pylint: disable=import-outside-toplevel

    with Emulator() as emu:
        yield emu


@pytest.fixture(scope="session")
def world(emulator):  # pylint: disable=redefined-outer-name
    """The seeded world (organization, OUs, keys, images) as seed_world describes it."""
    from emulator.seed import seed_world  # pylint: disable=import-outside-toplevel

    return seed_world(emulator.endpoint_url)


@pytest.fixture
def calls(emulator, world):  # pylint: disable=redefined-outer-name,unused-argument
    """Reset the emulator's call counter (after the world is seeded); the fixture value reads it."""
    emulator.reset_calls()
    emulator.clear_faults()
    yield emulator.calls
    emulator.clear_faults()
