"""Shared fixtures of the emulator's own tests."""

from __future__ import annotations

from typing import Any

import pytest
from moto import mock_aws

from emulator.patches import apply_patches


@pytest.fixture(name="aws")
def aws_fixture(monkeypatch: pytest.MonkeyPatch) -> Any:
    """moto in-process (as the collection's unit tests use it), with the fidelity patches.

    moto's ~1,300 default public AMIs are not loaded: each new region would spend a
    second on them and no test here looks at them.
    """
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    apply_patches()
    with mock_aws():
        yield
