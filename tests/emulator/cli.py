"""Command line of the emulator: ``PYTHONPATH=tests python -m emulator {run,serve,seed,images,calls,faults}``."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

from .clients import DEFAULT_REGION, STATIC_CREDENTIALS, make_client
from .control import EmulatorControl
from .faults import DEFAULT_SERVICES
from .seed import create_image, seed_world

# Leftovers of a real AWS session would be sent along with the emulator's static keys.
_DROPPED_ENV = ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE")
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def _write_json(path: str | None, data: Any) -> None:
    if path:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
            handle.write("\n")


def integration_vars(endpoint_url: str, world: dict[str, Any] | None) -> dict[str, Any]:
    """Variables for ansible-test's integration_config.yml (JSON is valid YAML)."""
    return {
        "aws_endpoint_url": endpoint_url,
        "aws_access_key": STATIC_CREDENTIALS["aws_access_key_id"],
        "aws_secret_key": STATIC_CREDENTIALS["aws_secret_access_key"],
        "aws_region": DEFAULT_REGION,
        "emulator_url": endpoint_url,
        # Where `python -m emulator` is importable from, for targets that use its CLI (e.g. `images`).
        "emulator_pythonpath": os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        "orgshare_world": world,
    }


def command_environment(endpoint_url: str, world_file: str | None) -> dict[str, str]:
    """The environment of the command ``run`` starts: the current one pointed at the emulator."""
    env = {name: value for name, value in os.environ.items() if name not in _DROPPED_ENV}
    env.update(
        {
            "AWS_ENDPOINT_URL": endpoint_url,
            "AWS_ACCESS_KEY_ID": STATIC_CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": STATIC_CREDENTIALS["aws_secret_access_key"],
            "AWS_DEFAULT_REGION": DEFAULT_REGION,
            "AWS_REGION": DEFAULT_REGION,
            "ORGSHARE_EMULATOR_URL": endpoint_url,
        }
    )
    if world_file:
        env["ORGSHARE_WORLD_FILE"] = os.path.abspath(world_file)
    return env


@contextlib.contextmanager
def _on_stop_signals(handler: Any) -> Iterator[None]:
    """Run ``handler(signum, frame)`` on SIGTERM/SIGINT while inside; restore the old handlers after."""
    previous = {signum: signal.signal(signum, handler) for signum in _STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def _exit_code(returncode: int) -> int:
    """The shell's convention: a command killed by signal N exits 128 + N."""
    return 128 - returncode if returncode < 0 else returncode


def cmd_run(args: argparse.Namespace) -> int:
    """Start the emulator, optionally seed it, run the command against it, stop it."""
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        print("emulator run: give the command to run after --", file=sys.stderr)
        return 2
    children: list[subprocess.Popen] = []

    def on_signal(signum: int, _frame: Any) -> None:
        # Before the command runs, a signal unwinds (stopping the emulator); once it runs,
        # the command decides how to stop and the emulator stops after it.
        if not children:
            raise SystemExit(128 + signum)
        if children[0].poll() is None:
            children[0].send_signal(signum)

    from .server import Emulator  # pylint: disable=import-outside-toplevel  # moto: only where one is served

    with _on_stop_signals(on_signal), Emulator(port=args.port) as emu:
        world = seed_world(emu.endpoint_url) if args.seed else None
        _write_json(args.world_file, world)
        _write_json(args.vars_file, integration_vars(emu.endpoint_url, world))
        try:
            children.append(subprocess.Popen(command, env=command_environment(emu.endpoint_url, args.world_file)))  # pylint: disable=consider-using-with
        except OSError as error:
            print(f"emulator run: cannot run {command[0]!r}: {error}", file=sys.stderr)
            return 127
        return _exit_code(children[0].wait())


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve in the foreground until SIGTERM/SIGINT."""
    from .server import Emulator  # pylint: disable=import-outside-toplevel  # moto: only where one is served

    stop = threading.Event()
    with _on_stop_signals(lambda _signum, _frame: stop.set()), Emulator(port=args.port) as emu:
        print(emu.endpoint_url, flush=True)
        if args.seed:
            _write_json(args.world_file, seed_world(emu.endpoint_url))
            print("seeded", file=sys.stderr, flush=True)
        stop.wait()
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    """Seed a running emulator and print the world."""
    print(json.dumps(seed_world(args.endpoint), indent=2, sort_keys=True))
    return 0


def cmd_images(args: argparse.Namespace) -> int:
    """Register ``--count`` AMIs in a running emulator and print them (what tests of many images need)."""
    ec2 = make_client(args.endpoint, "ec2", region=args.region, internal=True)
    images = [
        create_image(ec2, f"{args.prefix}-{index:04d}", encrypted=bool(args.kms_key_id), kms_key_id=args.kms_key_id)
        for index in range(args.count)
    ]
    print(json.dumps(images, indent=2, sort_keys=True))
    return 0


def cmd_calls(args: argparse.Namespace) -> int:
    """Print the call and fault counts of a running emulator (then reset them with --reset)."""
    control = EmulatorControl(args.endpoint)
    print(json.dumps(control.counts(), indent=2, sort_keys=True))
    if args.reset:
        control.reset_calls()
    return 0


def cmd_faults(args: argparse.Namespace) -> int:
    """Set or clear the fault rule of a running emulator and print the rule in force."""
    control = EmulatorControl(args.endpoint)
    if args.clear:
        control.clear_faults()
    else:
        control.set_faults(
            rate=args.rate,
            error=args.error,
            services=args.services,
            actions=args.actions,
            seed=args.seed,
            skip=args.skip,
            limit=args.limit,
        )
    print(json.dumps({"rule": control.faults()}, indent=2, sort_keys=True))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m emulator``."""
    parser = argparse.ArgumentParser(
        prog="python -m emulator", description="orgshare.aws's local AWS endpoint (moto + fidelity patches)."
    )
    commands = parser.add_subparsers(dest="name", required=True)

    run = commands.add_parser("run", help="run a command against a fresh emulator, then stop it")
    run.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    run.add_argument("--seed", action="store_true", help="seed the world first")
    run.add_argument("--vars-file", help="write ansible-test integration variables (JSON) here")
    run.add_argument("--world-file", help="write the seeded world (JSON) here")
    run.add_argument("command", nargs=argparse.REMAINDER, help="-- CMD ARGS...")
    run.set_defaults(handler=cmd_run)

    serve = commands.add_parser("serve", help="serve in the foreground until interrupted; prints the URL first")
    serve.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    serve.add_argument("--seed", action="store_true", help="seed the world")
    serve.add_argument("--world-file", help="write the seeded world (JSON) here")
    serve.set_defaults(handler=cmd_serve)

    seed = commands.add_parser("seed", help="seed a running emulator and print the world")
    seed.add_argument("--endpoint", required=True, help="URL of the running emulator")
    seed.set_defaults(handler=cmd_seed)

    images = commands.add_parser("images", help="register AMIs in a running emulator and print them as JSON")
    images.add_argument("--endpoint", required=True, help="URL of the running emulator")
    images.add_argument("--count", type=int, required=True, help="how many AMIs")
    images.add_argument("--prefix", default="orgshare-test", help="name prefix (default: %(default)s)")
    images.add_argument("--region", default=DEFAULT_REGION, help="region (default: %(default)s)")
    images.add_argument("--kms-key-id", help="encrypt each AMI's snapshot with this key (default: unencrypted)")
    images.set_defaults(handler=cmd_images)

    calls = commands.add_parser("calls", help="print the call and fault counts of a running emulator")
    calls.add_argument("--endpoint", required=True, help="URL of the running emulator")
    calls.add_argument("--reset", action="store_true", help="reset the counts after printing them")
    calls.set_defaults(handler=cmd_calls)

    faults = commands.add_parser("faults", help="set or clear fault injection on a running emulator")
    faults.add_argument("--endpoint", required=True, help="URL of the running emulator")
    mode = faults.add_mutually_exclusive_group(required=True)
    mode.add_argument("--clear", action="store_true", help="stop injecting faults")
    mode.add_argument("--rate", type=float, help="share of matching calls to fail, 0..1")
    faults.add_argument("--error", default="throttle", help="'throttle', '5xx' or an error code (default: throttle)")
    faults.add_argument(
        "--services", nargs="+", default=list(DEFAULT_SERVICES), help="services to fault (default: %(default)s)"
    )
    faults.add_argument("--actions", nargs="+", default=None, help="actions to fault (default: all)")
    faults.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    faults.add_argument("--skip", type=int, default=0, help="let the first N matching calls through (default: 0)")
    faults.add_argument("--limit", type=int, default=None, help="inject at most N faults (default: no limit)")
    faults.set_defaults(handler=cmd_faults)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (OSError, ValueError, RuntimeError) as error:
        print(f"emulator {args.name}: {error}", file=sys.stderr)
        return 1
