"""`make bench`: API calls and wall time of sharing N AMIs, three ways, and of the share_ami role.

Runs inside ``python -m emulator run --seed`` (which exports AWS_ENDPOINT_URL and
ORGSHARE_WORLD_FILE). For each N it registers N images once, then for each way
of sharing them with one OU and each repetition: removes the OU again (uncounted
housekeeping), times the changing run, then the no-op run, reading the
emulator's call counter after each.

  (a) orgshare.aws.ami_org_share, every image in one task;
  (b) amazon.aws.ec2_ami with launch_permissions.org_unit_arns, looped over the images;
  (c) the floor: plain boto3 making only the minimal calls (benchmarks/floor.py).

Then the share_ami role: 1 image x 3 regions and 20 images x 1 region, changing
and no-op runs, with the calls per key policy and per Organizations action.
Then the fleet: the role over N AMIs into R regions with the emulator's copy latency L and in-flight
copy quota Q, against the ideal ceil(N/Q) x L, with the calls per region by action; the command fails
when a goal is missed. Then the audit: one orgshare.aws.ami_share_info task over 1,000 encrypted AMIs
shared with one OU in each of 3 regions (--audit-count, --audit-regions), with the calls by action.
The medians go to stdout and to benchmarks/results.md, one section per benchmark; --only runs some
of them (ways, role, fleet, audit) and rewrites only their sections.
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
from emulator.middleware import write_calls
from emulator.seed import create_image

HERE = os.path.dirname(os.path.abspath(__file__))
REGION = "us-east-1"
WAYS = {
    "a": "ami_org_share, one task",
    "b": "amazon.aws.ec2_ami, looped",
    "c": "boto3 floor",
}
QUIET = dict(
    ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_DEPRECATION_WARNINGS="false"
)


def timed(command):
    """Seconds ``command`` takes; it must succeed (its output is shown when it does not)."""
    with tempfile.TemporaryFile("w+") as output:
        started = time.perf_counter()
        finished = subprocess.run(
            command, check=False, stdout=output, stderr=subprocess.STDOUT, env=dict(os.environ, **QUIET)
        )
        seconds = time.perf_counter() - started
        if finished.returncode:
            output.seek(0)
            raise SystemExit(
                f"{' '.join(command)} failed ({finished.returncode}):\n" + "".join(output.readlines()[-40:])
            )
    return seconds


def with_spec(spec, run):
    """Call ``run(path)`` with ``spec`` written to a JSON file (extra vars / floor input)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(spec, handle)
    try:
        return run(handle.name)
    finally:
        os.unlink(handle.name)


def command_for(way, spec_path):
    if way == "a":
        return ["ansible-playbook", os.path.join(HERE, "share.yml"), "-e", f"@{spec_path}"]
    if way == "b":
        return ["ansible-playbook", os.path.join(HERE, "amazon_aws.yml"), "-e", f"@{spec_path}"]
    return [sys.executable, os.path.join(HERE, "floor.py"), spec_path]


def unshare(ec2, image_ids, ou_arn):
    """Take the OU off every image again (the emulator does not count this housekeeping)."""
    for image_id in image_ids:
        ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Remove": [{"OrganizationalUnitArn": ou_arn}]})


def measure_way(emulator, ec2, way, image_ids, ou_arn):
    """``{"changing": (seconds, calls), "noop": (seconds, calls)}`` of one repetition."""
    unshare(ec2, image_ids, ou_arn)
    result = {}
    for run in ("changing", "noop"):
        emulator.reset_calls()
        seconds = with_spec(
            {"bench_image_ids": image_ids, "bench_ou_arn": ou_arn}, lambda path: timed(command_for(way, path))
        )
        result[run] = (seconds, emulator.calls())
    return result


def total(calls):
    return sum(count for actions in calls.values() for count in actions.values())


def by_action(calls):
    return ", ".join(
        f"{action} {count}" for service in sorted(calls) for action, count in sorted(calls[service].items())
    )


def summarize(samples, label):
    """Median seconds per run, and the calls (which must be the same in every repetition)."""
    summary = {}
    for run in ("changing", "noop"):
        counts = [sample[run][1] for sample in samples]
        if any(count != counts[0] for count in counts):
            raise SystemExit(f"the API calls of {label} {run} differ between repetitions: {counts}")
        summary[run] = (statistics.median(sample[run][0] for sample in samples), counts[0], len(samples))
    return summary


def bench_ways(emulator, endpoint, sizes, repeats, slow_repeats, ou_arn):
    ec2 = make_client(endpoint, "ec2", region=REGION, internal=True)
    results = {}
    for n in sizes:
        image_ids = [create_image(ec2, f"bench-{n}-{index:04d}")["image_id"] for index in range(n)]
        for way in WAYS:
            count = slow_repeats if way == "b" and n > 100 else repeats
            samples = [measure_way(emulator, ec2, way, image_ids, ou_arn) for _repeat in range(count)]
            results[(n, way)] = summarize(samples, f"N={n} ({way})")
            for run in ("changing", "noop"):
                seconds, calls, reps = results[(n, way)][run]
                print(
                    f"N={n:4d} ({way}) {run:8s} {seconds:7.2f} s  {total(calls):5d} calls  x{reps}  ({by_action(calls)})",
                    flush=True,
                )
    return results


def role_vars(endpoint, image_ids, regions, keys):
    return {
        "share_ami_image_ids": image_ids,
        "share_ami_source_region": REGION,
        "share_ami_regions": regions,
        "share_ami_region_kms_keys": keys,
        "share_ami_organizational_units": ["Root/Workloads/Dev"],
        "share_ami_aws": {"endpoint_url": endpoint},
    }


def bench_role(emulator, endpoint, repeats):
    """The role on fresh images each repetition: calls and time, changing and no-op."""
    ec2 = make_client(endpoint, "ec2", region=REGION, internal=True)

    def fresh_key(region):
        """A new customer-managed key: each repetition grants on keys of its own, so repetitions are alike."""
        return make_client(endpoint, "kms", region=region, internal=True).create_key(Description="orgshare bench")[
            "KeyMetadata"
        ]["Arn"]

    scenarios = {
        "1 image x 3 regions": (1, [REGION, "eu-west-1", "ap-southeast-2"]),
        "20 images x 1 region": (20, [REGION]),
    }
    results = {}
    for label, (count, regions) in scenarios.items():
        samples = []
        for repeat in range(repeats):
            keys = {region: fresh_key(region) for region in regions}
            image_ids = [
                create_image(ec2, f"bench-role-{count}-{repeat}-{index}", encrypted=True, kms_key_id=keys[REGION])[
                    "image_id"
                ]
                for index in range(count)
            ]
            spec = role_vars(
                endpoint, image_ids, regions, {region: key for region, key in keys.items() if region != REGION}
            )
            sample = {}
            for run in ("changing", "noop"):
                emulator.reset_calls()
                command = ["ansible-playbook", "orgshare.aws.share_ami"]
                seconds = with_spec(spec, lambda path, command=command: timed(command + ["-e", f"@{path}"]))
                sample[run] = (seconds, emulator.calls())
            samples.append(sample)
        results[label] = summarize(samples, label)
        for run in ("changing", "noop"):
            seconds, calls, reps = results[label][run]
            print(
                f"role {label:22s} {run:8s} {seconds:7.2f} s  {total(calls):5d} calls  x{reps}  ({by_action(calls)})",
                flush=True,
            )
    return results


AUDIT_HEADING = "## Auditing AMIs with ami_share_info"


def bench_audit(emulator, endpoint, count, regions, repeats, ou_arn, kms_grant):
    """One audit task over ``count`` encrypted AMIs (one key per region, granted to the OU) shared with one OU in each region."""
    prefix = f"bench-audit-{count}"
    for region in regions:
        ec2 = make_client(endpoint, "ec2", region=region, internal=True)
        key = make_client(endpoint, "kms", region=region, internal=True).create_key(Description="orgshare audit bench")[
            "KeyMetadata"
        ]["Arn"]
        kms_grant(region, key)
        for index in range(count):
            image_id = create_image(ec2, f"{prefix}-{index:04d}", encrypted=True, kms_key_id=key)["image_id"]
            ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"OrganizationalUnitArn": ou_arn}]})
    spec = {
        "bench_regions": regions,
        "bench_name_patterns": [f"{prefix}-*"],
        "bench_expected_images": count * len(regions),
    }
    samples = []
    for _repeat in range(repeats):
        emulator.reset_calls()
        seconds = with_spec(
            spec, lambda path: timed(["ansible-playbook", os.path.join(HERE, "audit.yml"), "-e", f"@{path}"])
        )
        samples.append({"audit": (seconds, emulator.calls())})
    counts = [sample["audit"][1] for sample in samples]
    if any(calls != counts[0] for calls in counts):
        raise SystemExit(f"the API calls of the audit differ between repetitions: {counts}")
    seconds = statistics.median(sample["audit"][0] for sample in samples)
    print(
        f"audit {count} x {len(regions)} regions {seconds:7.2f} s  {total(counts[0]):5d} calls  x{repeats}  ({by_action(counts[0])})",
        flush=True,
    )
    return {"count": count, "regions": regions, "seconds": seconds, "calls": counts[0], "repeats": repeats}


def audit_section(audit):
    """The audit's part of results.md."""
    count, regions, calls = audit["count"], audit["regions"], audit["calls"]
    per_region = {action: count_ for service in calls.values() for action, count_ in service.items()}
    writes = sorted({name.split(":", 1)[1] for name in write_calls(calls)})
    return "\n".join(
        [
            AUDIT_HEADING,
            "",
            f"One `orgshare.aws.ami_share_info` task over {count:,} encrypted AMIs in each of {len(regions)} regions ({', '.join(regions)}),",
            "every one shared with one OU, under one customer-managed key per region that the OU may use (no finding); the",
            f"organization tree is read. Wall time is the median of {audit['repeats']} runs of the whole `ansible-playbook`.",
            "",
            versions(),
            "",
            "| AMIs x regions | wall time (s) | reps | API calls | calls by action |",
            "|---|---:|---:|---:|---|",
            f"| {count:,} x {len(regions)} | {audit['seconds']:.2f} | {audit['repeats']} | {total(calls)} | {by_action(calls)} |",
            "",
            "By design: per region one `DescribeImages` (every page), one `DescribeImageAttribute` per image (at most 4 at a time),",
            f"`DescribeSnapshots` for the encrypted snapshots only, 200 per call (⌈{count:,}/200⌉ = {-(-count // 200)} per region); per key, once",
            "per run, one `DescribeKey` and one `GetKeyPolicy`; Organizations and STS a few calls per run, whatever the number of AMIs.",
            f"Here: {per_region.get('DescribeImageAttribute', 0)} `DescribeImageAttribute`, {per_region.get('DescribeSnapshots', 0)} `DescribeSnapshots`, "
            f"{per_region.get('DescribeKey', 0)} `DescribeKey`, {per_region.get('GetKeyPolicy', 0)} `GetKeyPolicy`; "
            + (f"write calls: {', '.join(writes)}." if writes else "no write call."),
            "",
        ]
    )


def replace_section(text, heading, section):
    """``text`` (results.md) with the section under ``heading`` replaced by ``section`` (or ``section`` added at the end)."""
    section = section.rstrip("\n") + "\n\n"
    start = text.find(heading)
    if start < 0:
        return text.rstrip("\n") + "\n\n" + section
    end = text.find("\n## ", start + len(heading))
    return text[:start] + section + (text[end + 1 :] if end >= 0 else "")


FLEET_HEADING = "## Fleet scale: the share_ami role, N AMIs x R regions"
# The regions of the fleet scenarios: the source first (its AMIs are shared there as they are), then the regions that get copies.
FLEET_REGIONS = (REGION, "eu-west-1", "eu-central-1", "ap-southeast-2")
# label: (N AMIs, R regions, copy latency L in seconds, in-flight copy quota Q per region; 0 = none)
FLEET_SCENARIOS = {
    "50 x 4, L=10 s, Q=20": (50, 4, 10, 20),
    "1 x 3, instant": (1, 3, 0, 0),
    "200 x 3, instant": (200, 3, 0, 0),
}


def fleet_ideal(count, regions, latency, quota):
    """The ideal wall time of the copies: ceil(N/Q) x L per region, the regions overlapping (0 without copies or latency)."""
    if regions < 2 or not latency:
        return 0.0
    return -(-count // quota) * latency if quota else latency


def bench_fleet(emulator, endpoint):
    """The role over N fresh encrypted AMIs into R regions, with the emulator's copy latency and quota; changing and no-op runs."""
    results = {}
    for label, (count, region_count, latency, quota) in FLEET_SCENARIOS.items():
        regions = list(FLEET_REGIONS[:region_count])
        keys = {
            region: make_client(endpoint, "kms", region=region, internal=True).create_key(
                Description="orgshare fleet bench"
            )["KeyMetadata"]["Arn"]
            for region in regions
        }
        ec2 = make_client(endpoint, "ec2", region=REGION, internal=True)
        prefix = f"bench-fleet-{count}x{region_count}-{latency}-{quota}"
        image_ids = [
            create_image(ec2, f"{prefix}-{index:04d}", encrypted=True, kms_key_id=keys[REGION])["image_id"]
            for index in range(count)
        ]
        spec = role_vars(
            endpoint, image_ids, regions, {region: key for region, key in keys.items() if region != REGION}
        )
        emulator.settings(copy_pending_seconds=latency, concurrent_copies_per_region=quota)
        try:
            runs = {}
            for run in ("changing", "noop"):
                emulator.reset_calls()
                command = ["ansible-playbook", "orgshare.aws.share_ami"]
                seconds = with_spec(spec, lambda path, command=command: timed(command + ["-e", f"@{path}"]))
                runs[run] = {"seconds": seconds, "calls": emulator.calls(), "by_region": emulator.calls_by_region()}
                print(
                    f"fleet {label:22s} {run:8s} {seconds:7.2f} s  {total(runs[run]['calls']):5d} calls  ({by_action(runs[run]['calls'])})",
                    flush=True,
                )
        finally:
            emulator.settings(copy_pending_seconds=0, concurrent_copies_per_region=0)
        results[label] = dict(
            runs,
            count=count,
            regions=regions,
            latency=latency,
            quota=quota,
            ideal=fleet_ideal(count, region_count, latency, quota),
        )
    return results


def fleet_goals(fleet):
    """The goals of the fleet benchmark, each ``(goal, measured, met)``."""
    goals = []
    slow = fleet.get("50 x 4, L=10 s, Q=20")
    if slow:
        bound = 2 * slow["ideal"] + 30
        goals.append(
            (
                f"50 x 4, L=10 s, Q=20: at most 2 x the ideal ({slow['ideal']:.0f} s) + 30 s = {bound:.0f} s",
                f"{slow['changing']['seconds']:.1f} s",
                slow["changing"]["seconds"] <= bound,
            )
        )
    one, many = fleet.get("1 x 3, instant"), fleet.get("200 x 3, instant")
    if one and many:
        ratio = many["changing"]["seconds"] / one["changing"]["seconds"]
        goals.append(
            (
                "200 x 3, instant: at most 3 x the time of 1 x 3",
                f"{ratio:.2f} x ({many['changing']['seconds']:.1f} s / {one['changing']['seconds']:.1f} s)",
                ratio <= 3,
            )
        )
    return goals


def fleet_section(fleet):
    """The fleet benchmark's part of results.md."""
    lines = [
        FLEET_HEADING,
        "",
        "The `share_ami` role (the collection playbook, defaults but for the regions and keys) over N fresh AMIs encrypted with a",
        "customer-managed key, shared with one OU given by name path in R regions: the source region, where the AMIs are shared as",
        "they are, and R-1 regions that get re-encrypted copies, each with a key of its own. The emulator makes every copy pending",
        "for L seconds and refuses a copy beyond Q in flight in a region with `ResourceLimitExceeded` (the role keeps its default",
        "bound, EC2's documented 100, so the refusals are met and waited out). The ideal is ceil(N/Q) x L, the regions overlapping.",
        "One run each, changing then no-op; wall time of the whole `ansible-playbook`.",
        "",
        versions(),
        "",
        "| scenario | copies | run | wall time (s) | ideal (s) | API calls | write calls |",
        "|---|---:|---|---:|---:|---:|---|",
    ]
    writes = ("CopyImage", "ModifyImageAttribute", "PutKeyPolicy")
    for label, result in fleet.items():
        copies = result["count"] * (len(result["regions"]) - 1)
        for run in ("changing", "noop"):
            calls = result[run]["calls"]
            made = ", ".join(
                f"{action} {count}"
                for service in calls.values()
                for action, count in sorted(service.items())
                if action in writes
            )
            ideal = f"{result['ideal']:.0f}" if run == "changing" else "-"  # nothing to copy
            lines.append(
                f"| {label} | {copies} | {run} | {result[run]['seconds']:.1f} | {ideal} | {total(calls)} | {made or 'none'} |"
            )
    lines += ["", "| goal | measured | met |", "|---|---|---|"]
    lines += [f"| {goal} | {measured} | {'yes' if met else 'NO'} |" for goal, measured, met in fleet_goals(fleet)]
    lines += [
        "",
        "Calls per region by action (changing run; a region's count is the same whatever N, except the per-image calls):",
        "",
    ]
    for label, result in fleet.items():
        if label.startswith("1 x"):
            continue
        lines += [f"{label}:", "", "| region | calls by action |", "|---|---|"]
        for region in sorted(result["changing"]["by_region"]):
            lines.append(f"| {region} | {by_action(result['changing']['by_region'][region])} |")
        lines.append("")
    return "\n".join(lines)


def versions():
    return (
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}; Python {platform.python_version()}; "
        f"ansible-core {version('ansible-core')}, boto3 {version('boto3')}, botocore {version('botocore')}, moto {version('moto')}."
    )


HEADER = "\n".join(
    [
        "# Benchmarks",
        "",
        "Written by `make bench` against the local emulator (tests/emulator). Each section below is written by one run of its own",
        "benchmark (`make bench BENCH_ARGS='--only fleet'` rewrites one section) and names the machine and versions it ran on.",
        "Wall time is that of the whole command (`ansible-playbook`, or `python` for the floor), the median of the repetitions the",
        "reps column gives; API calls are what the emulator counted, the same in every repetition.",
        "",
        "",
    ]
)
WAYS_HEADING = "## Sharing N AMIs with one OU in one region"
ROLE_HEADING = "## The share_ami role"


def ways_section(ways):
    """The three ways of sharing N AMIs in one region: their part of results.md."""
    lines = [
        WAYS_HEADING,
        "",
        "(a) `orgshare.aws.ami_org_share`, all N in one task (4 calls at a time); (b) `amazon.aws.ec2_ami` with",
        "`launch_permissions.org_unit_arns`, looped over the images; (c) plain boto3 with only the minimal calls, sequential.",
        "",
        versions(),
        "",
        "| N | run | way | wall time (s) | reps | API calls | calls by action |",
        "|---:|---|---|---:|---:|---:|---|",
    ]
    sizes = sorted({n for n, _way in ways})
    for n in sizes:
        for run in ("changing", "noop"):
            for way in WAYS:
                seconds, calls, reps = ways[(n, way)][run]
                lines.append(
                    f"| {n} | {run} | ({way}) {WAYS[way]} | {seconds:.2f} | {reps} | {total(calls)} | {by_action(calls)} |"
                )
    lines += [
        "",
        "| N | run | (a) calls | budget (2N+5 / N+5) | a/b time | a/c time |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for n in sizes:
        for run in ("changing", "noop"):
            a, b, c = (ways[(n, way)][run] for way in WAYS)
            budget = 2 * n + 5 if run == "changing" else n + 5
            lines.append(
                f"| {n} | {run} | {total(a[1])} | {budget} | {a[0] / b[0]:.3f} ({b[0] / a[0]:.1f}x faster) | {a[0] / c[0]:.2f} |"
            )
    return "\n".join(lines) + "\n"


def role_section(role):
    """The role's small scenarios: their part of results.md."""
    lines = [
        ROLE_HEADING,
        "",
        "Encrypted AMIs (customer-managed key), shared with one OU given by name path; fresh AMIs and keys each repetition.",
        "",
        versions(),
        "",
        "| scenario | run | wall time (s) | reps | API calls | calls by action |",
        "|---|---|---:|---:|---:|---|",
    ]
    for label, summary in role.items():
        for run in ("changing", "noop"):
            seconds, calls, reps = summary[run]
            lines.append(f"| {label} | {run} | {seconds:.2f} | {reps} | {total(calls)} | {by_action(calls)} |")
    return "\n".join(lines) + "\n"


SECTIONS = ("ways", "role", "fleet", "audit")


def write_sections(path, sections):
    """Write ``sections`` ({heading: text}) into results.md, in the order of SECTIONS, keeping the sections not rerun."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        text = ""
    if not text.startswith(HEADER):
        text = HEADER + text[text.find("\n## ") + 1 :] if "\n## " in text else HEADER
    for heading, section in sections.items():
        text = replace_section(text, heading, section)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text.rstrip("\n") + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only",
        nargs="+",
        choices=SECTIONS,
        default=list(SECTIONS),
        help="the benchmarks to run; each rewrites its own section of the output (default: all of them)",
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 500])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--slow-repeats", type=int, default=1, help="repetitions of (b) above N=100 (each takes minutes)"
    )
    parser.add_argument("--audit-count", type=int, default=1000, help="AMIs per region in the audit benchmark")
    parser.add_argument("--audit-regions", nargs="+", default=[REGION, "eu-west-1", "ap-southeast-2"])
    parser.add_argument("--audit-repeats", type=int, default=3)
    parser.add_argument("--output", default=os.path.join(HERE, "results.md"))
    args = parser.parse_args(argv)

    endpoint = os.environ["AWS_ENDPOINT_URL"]
    with open(os.environ["ORGSHARE_WORLD_FILE"], encoding="utf-8") as handle:
        world = json.load(handle)
    emulator = control(endpoint)
    ou_arn = world["organizational_units"]["Root/Workloads/Prod"]["arn"]

    def kms_grant(region, key_arn):
        """Let the OU use the key, with the collection's own module (not counted: the counter is reset before each audit)."""
        spec = {"bench_region": region, "bench_key": key_arn, "bench_ou_arn": ou_arn}
        with_spec(spec, lambda path: timed(["ansible-playbook", os.path.join(HERE, "grant.yml"), "-e", f"@{path}"]))

    sections, goals_met = {}, True
    if "ways" in args.only:
        sections[WAYS_HEADING] = ways_section(
            bench_ways(emulator, endpoint, args.sizes, args.repeats, args.slow_repeats, ou_arn)
        )
    if "role" in args.only:
        sections[ROLE_HEADING] = role_section(bench_role(emulator, endpoint, args.repeats))
    if "fleet" in args.only:
        fleet = bench_fleet(emulator, endpoint)
        sections[FLEET_HEADING] = fleet_section(fleet)
        goals_met = all(met for _goal, _measured, met in fleet_goals(fleet))
    if "audit" in args.only:  # last: its thousands of images would slow the others' DescribeImages
        audit = bench_audit(
            emulator, endpoint, args.audit_count, args.audit_regions, args.audit_repeats, ou_arn, kms_grant
        )
        sections[AUDIT_HEADING] = audit_section(audit)
    write_sections(args.output, sections)
    print(f"written to {args.output}")
    return 0 if goals_met else 1


if __name__ == "__main__":
    sys.exit(main())
