"""`make bench`: wall time and API calls of ami_org_share for N images, changing and no-op runs.

Runs inside ``python -m emulator run --seed`` (which exports AWS_ENDPOINT_URL and
ORGSHARE_WORLD_FILE). For each N it registers N fresh images, runs the one-task
playbook twice (the first run changes every image, the second changes none),
and reads the emulator's counter after each. Each measurement is repeated and
the median reported; the table goes to stdout and to benchmarks/results.md.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version

from emulator import control
from emulator.clients import make_client
from emulator.seed import create_image

HERE = os.path.dirname(os.path.abspath(__file__))


def run_playbook(image_ids, ou_arn):
    """Seconds one ansible-playbook run of share.yml takes (it must succeed)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as extra:
        json.dump({"bench_image_ids": image_ids, "bench_ou_arn": ou_arn}, extra)
    try:
        started = time.perf_counter()
        subprocess.run(["ansible-playbook", os.path.join(HERE, "share.yml"), "-e", f"@{extra.name}"], check=True, stdout=subprocess.DEVNULL,
                       env=dict(os.environ, ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false"))
        return time.perf_counter() - started
    finally:
        os.unlink(extra.name)


def measure(endpoint, n, ou_arn, prefix):
    """``{"changing": (seconds, calls), "noop": (seconds, calls)}`` for n fresh images."""
    ec2 = make_client(endpoint, "ec2", internal=True)
    image_ids = [create_image(ec2, f"{prefix}-{index:04d}")["image_id"] for index in range(n)]
    emulator = control(endpoint)
    result = {}
    for run in ("changing", "noop"):
        emulator.reset_calls()
        seconds = run_playbook(image_ids, ou_arn)
        result[run] = (seconds, emulator.calls())
    return result


def total(calls):
    return sum(count for actions in calls.values() for count in actions.values())


def by_action(calls):
    return ", ".join(f"{action} {count}" for service in sorted(calls) for action, count in sorted(calls[service].items()))


def report(rows, repeats):
    """The results as a Markdown page."""
    lines = [
        "# Benchmarks",
        "",
        "`make bench` against the local emulator (tests/emulator): one `orgshare.aws.ami_org_share` task sharing N",
        f"unencrypted AMIs with one OU in one region; wall time of the whole `ansible-playbook` run, median of {repeats};",
        "API calls by action as the emulator counted them (identical in every repetition).",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}; Python {platform.python_version()}; "
        f"ansible-core {version('ansible-core')}, boto3 {version('boto3')}, botocore {version('botocore')}, moto {version('moto')}.",
        "",
        "| N | run | wall time (s) | API calls | 2N+5 / N+5 budget | calls by action |",
        "|---:|---|---:|---:|---:|---|",
    ]
    for n, run, seconds, calls in rows:
        budget = 2 * n + 5 if run == "changing" else n + 5
        lines.append(f"| {n} | {run} | {seconds:.2f} | {total(calls)} | {budget} | {by_action(calls)} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", default=os.path.join(HERE, "results.md"))
    args = parser.parse_args(argv)

    endpoint = os.environ["AWS_ENDPOINT_URL"]
    with open(os.environ["ORGSHARE_WORLD_FILE"], encoding="utf-8") as handle:
        ou_arn = json.load(handle)["organizational_units"]["Root/Workloads/Prod"]["arn"]
    rows = []
    for n in args.sizes:
        samples = [measure(endpoint, n, ou_arn, f"bench-{n}-{repeat}") for repeat in range(args.repeats)]
        for run in ("changing", "noop"):
            if any(sample[run][1] != samples[0][run][1] for sample in samples):
                raise SystemExit(f"the API calls of N={n} {run} differ between repetitions: {[sample[run][1] for sample in samples]}")
            seconds = statistics.median(sample[run][0] for sample in samples)
            rows.append((n, run, seconds, samples[0][run][1]))
            print(f"N={n:4d} {run:8s} {seconds:6.2f} s  {total(samples[0][run][1]):4d} calls  ({by_action(samples[0][run][1])})", flush=True)
    page = report(rows, args.repeats)
    with open(args.output, "w", encoding="utf-8") as handle:
        handle.write(page)
    print(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
