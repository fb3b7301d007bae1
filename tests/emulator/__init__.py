"""orgshare.aws's local AWS endpoint: moto server + fidelity patches + call counter + fault injection.

Import with ``PYTHONPATH=<collection>/tests``::

    from emulator import Emulator, seed_world
    with Emulator() as emu:
        world = seed_world(emu.endpoint_url)
        emu.client("ec2").describe_images(Owners=["self"])
        emu.calls()
"""

from .control import EmulatorControl, control
from .patches import apply_patches
from .seed import create_image, seed_world
from .server import Emulator

__all__ = ["Emulator", "EmulatorControl", "apply_patches", "control", "create_image", "seed_world"]
