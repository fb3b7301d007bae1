"""Fidelity patches: make moto behave as AWS does where orgshare.aws depends on it.

``apply_patches()`` monkeypatches moto's backend and response classes. It is idempotent
and works both in the emulator's server and in-process under ``moto.mock_aws``::

    from emulator.patches import apply_patches
    apply_patches()
    with mock_aws():
        ...

Each patch carries a comment naming the AWS behaviour it reproduces; the README lists them.
"""

from __future__ import annotations

import threading

from . import (
    allowed_images,
    amis,
    consumer,
    copy_limits,
    deprecation,
    disabled,
    ebs,
    ebs_defaults,
    ebs_symmetric,
    kms,
    kms_accounts,
    kms_principals,
    organizations,
    sharing,
    visibility,
)

_LOCK = threading.Lock()
# In the order they are installed: a patch that wraps another's replacement comes after it.
PATCH_MODULES = (
    ebs_defaults,
    ebs,
    ebs_symmetric,
    amis,
    sharing,
    visibility,
    copy_limits,
    disabled,
    deprecation,
    kms,
    kms_principals,
    kms_accounts,
    organizations,
    consumer,
    allowed_images,
)


def apply_patches() -> None:
    """Install every fidelity patch on moto (once; later calls do nothing)."""
    with _LOCK:
        for module in PATCH_MODULES:
            module.apply()


__all__ = ["apply_patches"]
