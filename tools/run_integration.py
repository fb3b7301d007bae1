"""Run the integration targets in parallel lanes, each with its own emulator and its own copy of the collection.

    python tools/run_integration.py --source ROOT --collections COLLECTIONS --lanes N --python 3.12 [TARGET ...]

A target spends about half its time waiting (copies pending, polls, a second emulator account's turn), so one
lane leaves a core of this 2-core machine idle. Each lane is a copy of the checkout at
``BUILD/lanes/<n>/ansible_collections/orgshare/aws`` (ansible-test reads ``tests/integration/integration_config.yml``
and writes ``tests/output`` in the collection it runs, so lanes cannot share one), next to the amazon.aws the Makefile
extracted, with an emulator of its own (``python -m emulator run --seed``). The targets are dealt out so that the
busiest lane has the least work it can, by the seconds each took (TARGET_SECONDS); a lane starts once the one before
it runs its first target (:func:`first_started`). Each lane's output goes to a log
that is printed whole when the lanes are done, followed by the seconds each target took in its lane; the command fails
when a lane fails, naming its targets.

With TARGET names, or ``--lanes 1``, everything runs in one lane, in the given order.
"""

import argparse
import itertools
import os
import re
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sync_collection  # noqa: E402  pylint: disable=wrong-import-position

# Seconds each target took in its lane of a `make integration` on this machine (run_integration.py prints them);
# only their ratios matter. A target not listed counts as UNKNOWN_SECONDS.
TARGET_SECONDS = {
    "share_ami": 359,
    "reliability": 198,
    "bad_inputs": 134,
    "consumer": 90,
    "ami_region_copy": 80,
    "kms_org_grant": 62,
    "ami_share_info": 58,
    "ami_org_share": 39,
    "org_arn_info": 13,
}
UNKNOWN_SECONDS = 60
# Up to how many ways of dealing the targets out deal() tries them all (2 lanes: 16 targets; 3 lanes: 10).
EXHAUSTIVE = 70_000
# What ansible-test prints as it starts a target ("Running share_ami integration test role").
STARTED_TARGET = re.compile(r"^Running (\S+) integration test ", re.MULTILINE)


def all_targets(copy):
    """Every integration target of the collection (a directory under tests/integration/targets)."""
    root = os.path.join(copy, "tests", "integration", "targets")
    return sorted(name for name in os.listdir(root) if os.path.isdir(os.path.join(root, name)))


def deal(targets, lanes):
    """The targets dealt out to ``lanes`` lanes so that the lane with the most work has the least it can.

    Every way of dealing them is tried when there are few (up to EXHAUSTIVE ways); otherwise, longest first, each to
    the lane with the least work so far. Lanes run their targets in ansible-test's order, whatever the order here.
    """
    seconds = [TARGET_SECONDS.get(name, UNKNOWN_SECONDS) for name in targets]
    lanes = max(1, min(lanes, len(targets)))
    if lanes ** len(targets) <= EXHAUSTIVE:
        best = min(
            itertools.product(range(lanes), repeat=len(targets)),
            key=lambda ways: max(sum(s for s, lane in zip(seconds, ways) if lane == index) for index in range(lanes)),
        )
    else:
        best, load = [0] * len(targets), [0] * lanes
        for position in sorted(range(len(targets)), key=lambda position: -seconds[position]):
            best[position] = load.index(min(load))
            load[best[position]] += seconds[position]
    work = [[name for name, lane in zip(targets, best) if lane == index] for index in range(lanes)]
    return [names for names in work if names]


def lane_copy(source, collections, lanes_dir, index):
    """The collection copy of lane ``index`` (synced from the checkout), next to a link to amazon.aws."""
    root = os.path.join(lanes_dir, str(index))
    copy = os.path.join(root, "ansible_collections", "orgshare", "aws")
    os.makedirs(copy, exist_ok=True)
    sync_collection.ensure_own_repository(copy)
    sync_collection.sync(source, copy)
    amazon = os.path.join(root, "ansible_collections", "amazon")
    if not os.path.lexists(amazon):
        os.symlink(os.path.join(collections, "ansible_collections", "amazon"), amazon)
    return root, copy


def command(copy, ansible_test, python_version, targets):
    """The emulator (this Python's), seeded, running ``ansible_test`` integration on ``targets`` in ``copy``."""
    config = os.path.join(copy, "tests", "integration", "integration_config.yml")
    test = [ansible_test, "integration", "--local", "--color", "no", "--python", python_version, *targets]
    return [sys.executable, "-m", "emulator", "run", "--seed", "--vars-file", config, "--", *test]


def first_started(lane, watcher, timeout=180):
    """Wait until the first lane runs its first target, as ``watcher`` sees it (or ends, or ``timeout`` seconds pass).

    The first ansible-test integration run of a user makes an SSH key pair (``~/.ansible/test/id_rsa``); two lanes
    starting at once on a fresh machine both make it and one of them fails. Once a lane runs a target, it is made.
    """
    index, _targets, process, _log, _log_path, _started = lane
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        watcher.look()
        if watcher.starts[index]:
            return
        time.sleep(0.5)


class StartWatcher(threading.Thread):
    """Notes when each lane starts each of its targets, reading what its log gained every half second."""

    def __init__(self):
        super().__init__(daemon=True)
        self.lock = threading.Lock()
        self.logs = {}  # lane index -> [log path, how far it was read]
        self.starts = {}  # lane index -> [(target, monotonic seconds)]
        self.done = threading.Event()

    def watch(self, index, log_path):
        with self.lock:
            self.starts[index] = []
            self.logs[index] = [log_path, 0]

    def run(self):
        while not self.done.wait(0.5):
            self.look()

    def look(self):
        with self.lock:
            for index, read in self.logs.items():
                with open(read[0], "rb") as handle:
                    handle.seek(read[1])
                    gained = handle.read()
                lines = gained[: gained.rfind(b"\n") + 1]  # whole lines only: the rest is read again next time
                read[1] += len(lines)
                for target in STARTED_TARGET.findall(lines.decode("utf-8", errors="replace")):
                    self.starts[index].append((target, time.monotonic()))

    def seconds(self, index, ended):
        """Each target of a lane and its seconds (from its start to the next one's, or to the lane's end)."""
        self.look()
        starts = self.starts[index]
        ends = [started for _target, started in starts[1:]] + [ended]
        return [(target, end - started) for (target, started), end in zip(starts, ends)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", required=True, help="the checkout")
    parser.add_argument("--collections", required=True, help="the collections root with amazon.aws")
    parser.add_argument("--copy", required=True, help="the collection copy a single lane runs in")
    parser.add_argument("--lanes-dir", required=True, help="where the lanes' copies go")
    parser.add_argument("--lanes", type=int, default=2)
    parser.add_argument("--python", required=True, help="the Python version ansible-test runs the targets with")
    parser.add_argument(
        "--ansible-test",
        default=os.path.join(os.path.dirname(sys.executable), "ansible-test"),
        help="the ansible-test to run (by default this Python's); the emulator always runs on this Python",
    )
    parser.add_argument("targets", nargs="*")
    args = parser.parse_args(argv)

    env = dict(os.environ, PYTHONPATH=os.path.join(args.source, "tests"))
    if args.targets or args.lanes <= 1:
        targets = args.targets or all_targets(args.copy)
        return subprocess.run(
            command(args.copy, args.ansible_test, args.python, targets), cwd=args.copy, env=env, check=False
        ).returncode

    lanes = deal(all_targets(args.copy), args.lanes)
    running = []
    watcher = StartWatcher()
    watcher.start()
    for index, targets in enumerate(lanes, 1):
        if running:
            first_started(running[0], watcher)
        root, copy = lane_copy(args.source, args.collections, args.lanes_dir, index)
        log_path = os.path.join(args.lanes_dir, f"lane-{index}.log")
        log = open(log_path, "w", encoding="utf-8")  # pylint: disable=consider-using-with  # closed below, when the lane ends
        lane_env = dict(env, ANSIBLE_COLLECTIONS_PATH=root)
        print(f"lane {index}: {' '.join(targets)} (log: {log_path})", flush=True)
        process = subprocess.Popen(  # pylint: disable=consider-using-with  # waited for below
            command(copy, args.ansible_test, args.python, targets),
            cwd=copy,
            env=lane_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        running.append((index, targets, process, log, log_path, time.monotonic()))
        watcher.watch(index, log_path)

    failed = []
    for index, targets, process, log, log_path, started in running:
        code = process.wait()
        log.close()
        seconds = time.monotonic() - started
        with open(log_path, encoding="utf-8", errors="replace") as handle:
            sys.stdout.write(f"\n===== lane {index}: {' '.join(targets)}: exit {code} after {seconds:.0f} s =====\n")
            sys.stdout.write(handle.read())
        print(
            f"lane {index}: {' '.join(targets)}: {'passed' if code == 0 else 'FAILED'} in {seconds:.0f} s", flush=True
        )
        each = ", ".join(f"{target} {took:.0f} s" for target, took in watcher.seconds(index, started + seconds))
        print(f"lane {index}, each target (for TARGET_SECONDS): {each}", flush=True)
        if code != 0:
            failed.append(f"lane {index} ({', '.join(targets)})")
    watcher.done.set()
    if failed:
        print(f"integration failed in {'; '.join(failed)}; each lane's log is above", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
