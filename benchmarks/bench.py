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
Then the audit: one orgshare.aws.ami_share_info task over 1,000 encrypted AMIs shared
with one OU in each of 3 regions (--audit-count, --audit-regions), with the calls by action.
The medians go to stdout and to benchmarks/results.md; --audit-only runs the audit alone
and replaces only its section there.
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
REGION = "us-east-1"
WAYS = {
    "a": "ami_org_share, one task",
    "b": "amazon.aws.ec2_ami, looped",
    "c": "boto3 floor",
}
QUIET = dict(ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_DEPRECATION_WARNINGS="false")


def timed(command):
    """Seconds ``command`` takes; it must succeed (its output is shown when it does not)."""
    with tempfile.TemporaryFile("w+") as output:
        started = time.perf_counter()
        finished = subprocess.run(command, check=False, stdout=output, stderr=subprocess.STDOUT, env=dict(os.environ, **QUIET))
        seconds = time.perf_counter() - started
        if finished.returncode:
            output.seek(0)
            raise SystemExit(f"{' '.join(command)} failed ({finished.returncode}):\n" + "".join(output.readlines()[-40:]))
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
        seconds = with_spec({"bench_image_ids": image_ids, "bench_ou_arn": ou_arn}, lambda path: timed(command_for(way, path)))
        result[run] = (seconds, emulator.calls())
    return result


def total(calls):
    return sum(count for actions in calls.values() for count in actions.values())


def by_action(calls):
    return ", ".join(f"{action} {count}" for service in sorted(calls) for action, count in sorted(calls[service].items()))


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
                print(f"N={n:4d} ({way}) {run:8s} {seconds:7.2f} s  {total(calls):5d} calls  x{reps}  ({by_action(calls)})", flush=True)
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
        return make_client(endpoint, "kms", region=region, internal=True).create_key(Description="orgshare bench")["KeyMetadata"]["Arn"]

    scenarios = {
        "1 image x 3 regions": (1, [REGION, "eu-west-1", "ap-southeast-2"]),
        "20 images x 1 region": (20, [REGION]),
    }
    results = {}
    for label, (count, regions) in scenarios.items():
        samples = []
        for repeat in range(repeats):
            keys = {region: fresh_key(region) for region in regions}
            image_ids = [create_image(ec2, f"bench-role-{count}-{repeat}-{index}", encrypted=True, kms_key_id=keys[REGION])["image_id"]
                         for index in range(count)]
            spec = role_vars(endpoint, image_ids, regions, {region: key for region, key in keys.items() if region != REGION})
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
            print(f"role {label:22s} {run:8s} {seconds:7.2f} s  {total(calls):5d} calls  x{reps}  ({by_action(calls)})", flush=True)
    return results


AUDIT_HEADING = "## Auditing AMIs with ami_share_info"


def bench_audit(emulator, endpoint, count, regions, repeats, ou_arn, kms_grant):
    """One audit task over ``count`` encrypted AMIs (one key per region, granted to the OU) shared with one OU in each region."""
    prefix = f"bench-audit-{count}"
    for region in regions:
        ec2 = make_client(endpoint, "ec2", region=region, internal=True)
        key = make_client(endpoint, "kms", region=region, internal=True).create_key(Description="orgshare audit bench")["KeyMetadata"]["Arn"]
        kms_grant(region, key)
        for index in range(count):
            image_id = create_image(ec2, f"{prefix}-{index:04d}", encrypted=True, kms_key_id=key)["image_id"]
            ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"OrganizationalUnitArn": ou_arn}]})
    spec = {"bench_regions": regions, "bench_name_patterns": [f"{prefix}-*"], "bench_expected_images": count * len(regions)}
    samples = []
    for _repeat in range(repeats):
        emulator.reset_calls()
        seconds = with_spec(spec, lambda path: timed(["ansible-playbook", os.path.join(HERE, "audit.yml"), "-e", f"@{path}"]))
        samples.append({"audit": (seconds, emulator.calls())})
    counts = [sample["audit"][1] for sample in samples]
    if any(calls != counts[0] for calls in counts):
        raise SystemExit(f"the API calls of the audit differ between repetitions: {counts}")
    seconds = statistics.median(sample["audit"][0] for sample in samples)
    print(f"audit {count} x {len(regions)} regions {seconds:7.2f} s  {total(counts[0]):5d} calls  x{repeats}  ({by_action(counts[0])})", flush=True)
    return {"count": count, "regions": regions, "seconds": seconds, "calls": counts[0], "repeats": repeats}


def audit_section(audit):
    """The audit's part of results.md."""
    count, regions, calls = audit["count"], audit["regions"], audit["calls"]
    per_region = {action: count_ for service in calls.values() for action, count_ in service.items()}
    writes = sorted(action for action in per_region if action.startswith(("Create", "Modify", "Put", "Delete", "Copy", "Register", "Enable",
                                                                          "Disable", "Replace", "Tag", "Untag", "Update")))
    return "\n".join([
        AUDIT_HEADING, "",
        f"One `orgshare.aws.ami_share_info` task over {count:,} encrypted AMIs in each of {len(regions)} regions ({', '.join(regions)}),",
        "every one shared with one OU, under one customer-managed key per region that the OU may use (no finding); the",
        f"organization tree is read. Wall time is the median of {audit['repeats']} runs of the whole `ansible-playbook`.",
        "", "| AMIs x regions | wall time (s) | reps | API calls | calls by action |", "|---|---:|---:|---:|---|",
        f"| {count:,} x {len(regions)} | {audit['seconds']:.2f} | {audit['repeats']} | {total(calls)} | {by_action(calls)} |", "",
        "By design: per region one `DescribeImages` (every page), one `DescribeImageAttribute` per image (at most 4 at a time),",
        f"`DescribeSnapshots` for the encrypted snapshots only, 200 per call (⌈{count:,}/200⌉ = {-(-count // 200)} per region); per key, once",
        "per run, one `DescribeKey` and one `GetKeyPolicy`; Organizations and STS a few calls per run, whatever the number of AMIs.",
        f"Here: {per_region.get('DescribeImageAttribute', 0)} `DescribeImageAttribute`, {per_region.get('DescribeSnapshots', 0)} `DescribeSnapshots`, "
        f"{per_region.get('DescribeKey', 0)} `DescribeKey`, {per_region.get('GetKeyPolicy', 0)} `GetKeyPolicy`; "
        + (f"write calls: {', '.join(writes)}." if writes else "no write call."), ""])


def replace_audit_section(text, section):
    """``text`` (results.md) with its audit section replaced by ``section`` (or ``section`` added at the end)."""
    start = text.find(AUDIT_HEADING)
    if start < 0:
        return text.rstrip("\n") + "\n\n" + section
    end = text.find("\n## ", start + len(AUDIT_HEADING))
    return text[:start] + section + (text[end + 1:] if end >= 0 else "")


def versions():
    return (f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}; Python {platform.python_version()}; "
            f"ansible-core {version('ansible-core')}, boto3 {version('boto3')}, botocore {version('botocore')}, moto {version('moto')}.")


def report(ways, role, repeats):
    """The results as a Markdown page."""
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` against the local emulator (tests/emulator), all in one invocation so the figures compare.",
        f"Wall time is the median of {repeats} repetitions of the whole command (`ansible-playbook`, or `python` for the floor) unless",
        "the reps column says otherwise; API calls are what the emulator counted, the same in every repetition.",
        "",
        versions(),
        "",
        "## Sharing N AMIs with one OU in one region",
        "",
        "(a) `orgshare.aws.ami_org_share`, all N in one task (4 calls at a time); (b) `amazon.aws.ec2_ami` with",
        "`launch_permissions.org_unit_arns`, looped over the images; (c) plain boto3 with only the minimal calls, sequential.",
        "",
        "| N | run | way | wall time (s) | reps | API calls | calls by action |",
        "|---:|---|---|---:|---:|---:|---|",
    ]
    sizes = sorted({n for n, _way in ways})
    for n in sizes:
        for run in ("changing", "noop"):
            for way in WAYS:
                seconds, calls, reps = ways[(n, way)][run]
                lines.append(f"| {n} | {run} | ({way}) {WAYS[way]} | {seconds:.2f} | {reps} | {total(calls)} | {by_action(calls)} |")
    lines += ["", "| N | run | (a) calls | budget (2N+5 / N+5) | a/b time | a/c time |", "|---:|---|---:|---:|---:|---:|"]
    for n in sizes:
        for run in ("changing", "noop"):
            a, b, c = (ways[(n, way)][run] for way in WAYS)
            budget = 2 * n + 5 if run == "changing" else n + 5
            lines.append(f"| {n} | {run} | {total(a[1])} | {budget} | {a[0] / b[0]:.3f} ({b[0] / a[0]:.1f}x faster) | {a[0] / c[0]:.2f} |")
    lines += ["", "## The share_ami role", "",
              "Encrypted AMIs (customer-managed key), shared with one OU given by name path; fresh AMIs and keys each repetition.",
              "", "| scenario | run | wall time (s) | reps | API calls | calls by action |", "|---|---|---:|---:|---:|---|"]
    for label, summary in role.items():
        for run in ("changing", "noop"):
            seconds, calls, reps = summary[run]
            lines.append(f"| {label} | {run} | {seconds:.2f} | {reps} | {total(calls)} | {by_action(calls)} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 500])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--slow-repeats", type=int, default=1, help="repetitions of (b) above N=100 (each takes minutes)")
    parser.add_argument("--no-role", action="store_true", help="skip the role benchmark")
    parser.add_argument("--audit-count", type=int, default=1000, help="AMIs per region in the audit benchmark")
    parser.add_argument("--audit-regions", nargs="+", default=[REGION, "eu-west-1", "ap-southeast-2"])
    parser.add_argument("--audit-repeats", type=int, default=3)
    parser.add_argument("--no-audit", action="store_true", help="skip the audit benchmark")
    parser.add_argument("--audit-only", action="store_true", help="run the audit benchmark alone and replace only its section of the output")
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

    def audit():
        return bench_audit(emulator, endpoint, args.audit_count, args.audit_regions, args.audit_repeats, ou_arn, kms_grant)

    if args.audit_only:
        with open(args.output, encoding="utf-8") as handle:
            text = handle.read()
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(replace_audit_section(text, audit_section(audit())))
        print(f"written to {args.output}")
        return 0
    ways = bench_ways(emulator, endpoint, args.sizes, args.repeats, args.slow_repeats, ou_arn)
    role = {} if args.no_role else bench_role(emulator, endpoint, args.repeats)
    audit = None if args.no_audit else audit()  # last: its thousands of images would slow the others' DescribeImages
    with open(args.output, "w", encoding="utf-8") as handle:
        handle.write(report(ways, role, args.repeats) + ("\n" + audit_section(audit) if audit else ""))
    print(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
