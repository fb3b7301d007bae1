"""orgshare.aws's local AWS endpoint: moto server + fidelity patches + call counter + fault injection.

Import with ``PYTHONPATH=<collection>/tests``::

    from emulator import Emulator, seed_world
    with Emulator() as emu:
        world = seed_world(emu.endpoint_url)
        emu.client("ec2").describe_images(Owners=["self"])
        emu.calls()
"""

import importlib
from typing import TYPE_CHECKING

from .control import EmulatorControl, control
from .seed import create_image, seed_world

# Imported on first use (PEP 562): the server and the patches import moto, about a second of CPU that a process which
# only drives a running emulator (``python -m emulator images``, a test's boto3 clients) does not need.
if TYPE_CHECKING:
    from .patches import apply_patches
    from .server import Emulator

_FROM_MOTO = {"Emulator": "server", "apply_patches": "patches"}

__all__ = ["Emulator", "EmulatorControl", "apply_patches", "control", "create_image", "seed_world"]


def __getattr__(name):
    if name not in _FROM_MOTO:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_FROM_MOTO[name]}", __name__), name)
    globals()[name] = value
    return value
