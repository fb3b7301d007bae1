"""Check what the audit found, scenario by scenario, and that what it says about launches is what launches do.

    python check.py CONFIG SETUP_JSON RESULTS_DIR

Uses boto3 (for the launches) and the results scenarios.yml wrote. Exits non-zero with what differs.
"""

import json
import os
import sys
import time

import boto3
import yaml
from botocore.exceptions import ClientError


def load(directory, name):
    with open(os.path.join(directory, f"{name}.json"), encoding="utf-8") as handle:
        return json.load(handle)


def by_image(result, image_id):
    """The (code, severity) of the findings about one image."""
    return sorted(
        (finding["code"], finding["severity"]) for finding in result["findings"] if image_id in finding["image_ids"]
    )


def expect(label, got, wanted):
    if got != wanted:
        raise SystemExit(f"{label}: got {got!r}, expected {wanted!r}")
    print(f"ok: {label}")


def check_owner(owner, setup, world):
    images = setup["images"]
    units = world["organizational_units"]
    expect("clean image", by_image(owner, images["clean"]), [])
    expect("key that refuses the share", by_image(owner, images["denied"]), [("key_denies_share", "high")])
    expect("AWS-managed key", by_image(owner, images["aws-managed"]), [("aws_managed_key", "info")])
    expect("disabled key", by_image(owner, images["disabled-key"]), [("unusable_key", "high")])
    expect("key of another account", by_image(owner, images["foreign-key"]), [("foreign_key", "medium")])
    expect(
        "public image",
        by_image(owner, images["public"]),
        [("public_image", "critical"), ("share_outside_trust", "high")],
    )
    expect("share outside the trusted OU", by_image(owner, images["untrusted"]), [("share_outside_trust", "high")])
    expect(
        "share with another organization",
        by_image(owner, images["other-org"]),
        [("outside_organization", "medium"), ("share_outside_trust", "high")],
    )
    expect(
        "share with a deleted OU",
        by_image(owner, images["gone-ou"]),
        [("share_outside_trust", "high"), ("unknown_principal", "medium")],
    )
    expect("deprecated and shared", by_image(owner, images["deprecated"]), [("deprecated_image_shared", "low")])
    expect("copy shared otherwise than its source", by_image(owner, images["drift-copy"]), [("region_drift", "medium")])
    expect(
        "copy still shared, its source disabled", by_image(owner, images["retired-copy"]), [("region_drift", "medium")]
    )
    retired = next(f for f in owner["findings"] if images["retired-copy"] in f["image_ids"])
    expect("the retired source is named", "source is disabled" in retired["cause"], True)
    foreign = next(f for f in owner["findings"] if f["code"] == "foreign_key")
    expect("the key's owner is named", foreign["who"], f"account {world['member_account']['id']}")
    expect(
        "the owner's statements",
        sorted(s["Sid"] for s in foreign["owner_statements"]),
        ["OrgShareOuCreateGrant", "OrgShareOuUse"],
    )
    denied = next(f for f in owner["findings"] if f["code"] == "key_denies_share")
    expect(
        "its task",
        denied["task"],
        {
            "module": "orgshare.aws.kms_org_grant",
            "args": {
                "region": "us-east-1",
                "key_id": setup["keys"]["denied"],
                "organizational_unit_arns": [units["Root/Workloads/Dev"]["arn"]],
            },
        },
    )
    entries = {entry["image_id"]: entry for entry in owner["images"]}
    (share,) = entries[images["clean"]]["shares"]
    expect(
        "the clean share's OU",
        (share["name_path"], share["can_launch"], share["trusted"]),
        ("Root/Workloads/Prod", True, True),
    )
    expect(
        "the accounts it reaches",
        share["accounts"],
        [{"id": world["member_account"]["id"], "name": world["member_account"]["name"], "can_launch": True}],
    )
    expect("no warning", owner.get("warnings", []), [])


def check_consumers(results, setup, world):
    images, keys = setup["images"], setup["keys"]
    consumer = results["consumer"]
    expect("member: the clean image", by_image(consumer, images["clean"]), [])
    expect("member: shared with Dev only", by_image(consumer, images["denied"]), [("not_visible", "high")])
    expect("member: under a disabled key", by_image(consumer, images["disabled-key"]), [("unusable_key", "high")])
    launchable = {entry["image_id"]: entry["can_launch"] for entry in consumer["images"]}
    expect(
        "member: can launch",
        launchable,
        {images["clean"]: True, images["denied"]: False, images["disabled-key"]: False},
    )
    dev = results["consumer_dev"]
    expect("dev: the key does not let it in", by_image(dev, images["denied"]), [("key_denies_account", "high")])
    expect("dev: who must fix it", dev["findings"][0]["who"], f"account {world['account_id']}")
    expect(
        "member, keys not given", by_image(results["consumer_no_keys"], images["clean"]), [("key_unknown", "medium")]
    )
    allowed = results["allowed"]
    if allowed["allowed_amis_known"]:
        expect(
            "member, Allowed AMIs in audit mode", by_image(allowed, images["clean"]), [("allowed_amis_blocks", "low")]
        )
        expect("... and who fixes it", allowed["findings"][0]["who"], "consumer")
        expect("... the settings read", allowed["allowed_images"]["us-east-1"]["State"], "audit-mode")
    else:  # a botocore from before Allowed AMIs: the audit goes on and says what it could not check
        expect("member, Allowed AMIs unknown to botocore", by_image(allowed, images["clean"]), [])
        expect("... said so", [("GetAllowedImagesSettings" in warning) for warning in allowed["warnings"]], [True])
    del keys  # the keys are checked through the findings


def check_degraded(results, owner):
    member_owner = results["member_owner"]
    expect("member: the tree is not read", member_owner["organization"]["tree_read"], False)
    (warning,) = member_owner["warnings"]
    expect(
        "member: the warning names what is missing",
        all(word in warning for word in ("organizations:ListRoots", "OU names")),
        True,
    )
    iam = results["iam"]
    expect(
        "IAM enforced: the same findings",
        sorted(f["id"] for f in iam["findings"]),
        sorted(f["id"] for f in owner["findings"]),
    )
    calls = results["iam_calls"]["calls"]
    from emulator.middleware import write_calls  # pylint: disable=import-outside-toplevel  # the checkout's, on PYTHONPATH

    expect("IAM enforced: no write call", sorted(write_calls(calls)), [])
    narrow = results["iam_narrow"]
    unreadable = sorted({f["code"] for f in narrow["findings"]} & {"key_policy_unreadable"})
    expect("without kms:GetKeyPolicy: key policies unreadable, reported", unreadable, ["key_policy_unreadable"])
    expect(
        "... with what AWS answered",
        any("kms:GetKeyPolicy" in f["cause"] for f in narrow["findings"] if f["code"] == "key_policy_unreadable"),
        True,
    )


def launch(endpoint, credentials, image_id):
    """RunInstances as a consumer: ``running``, ``terminated`` or ``refused``."""
    ec2 = boto3.client(
        "ec2",
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id=credentials["aws_access_key"],
        aws_secret_access_key=credentials["aws_secret_key"],
        aws_session_token=credentials["aws_session_token"],
    )
    try:
        instance_id = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, InstanceType="t3.micro")["Instances"][
            0
        ]["InstanceId"]
    except ClientError:
        return "refused"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        state = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]["State"]["Name"]
        if state in ("running", "terminated"):
            if state == "running":
                ec2.terminate_instances(InstanceIds=[instance_id])
            return state
        time.sleep(0.5)
    return "pending"


def check_launches(config, setup, owner):
    """What the owner's audit says of a share is what the share's accounts get."""
    world, endpoint, images = config["orgshare_world"], config["aws_endpoint_url"], setup["images"]
    entries = {entry["image_id"]: entry for entry in owner["images"]}
    verdict = {
        name: [share["can_launch"] for share in entries[images[name]]["shares"]]
        for name in ("clean", "denied", "disabled-key")
    }
    expect("the audit's verdicts", verdict, {"clean": [True], "denied": [False], "disabled-key": [False]})
    expect(
        "the member launches the clean image",
        launch(endpoint, world["member_account"]["credentials"], images["clean"]),
        "running",
    )
    expect(
        "dev's instance of the refused share dies",
        launch(endpoint, world["dev_account"]["credentials"], images["denied"]),
        "terminated",
    )
    expect(
        "the member's instance under the disabled key dies",
        launch(endpoint, world["member_account"]["credentials"], images["disabled-key"]),
        "terminated",
    )


def main(config_path, setup_path, directory):
    with open(config_path, encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    with open(setup_path, encoding="utf-8") as handle:
        setup = json.load(handle)["setup"]
    names = (
        "owner",
        "owner_check",
        "auto_scaling",
        "stale",
        "clean",
        "consumer",
        "consumer_dev",
        "consumer_no_keys",
        "allowed",
        "member_owner",
        "iam",
        "iam_calls",
        "iam_narrow",
    )
    results = {name: load(directory, name) for name in names}
    owner, world = results["owner"], config["orgshare_world"]
    check_owner(owner, setup, world)
    expect(
        "check mode: the same audit",
        {k: results["owner_check"][k] for k in ("images", "findings")},
        {k: owner[k] for k in ("images", "findings")},
    )
    expect(
        "never changed",
        [results[name].get("changed") for name in names if name != "iam_calls"],
        [False] * (len(names) - 1),
    )
    expect(
        "Auto Scaling grant", [f["code"] for f in results["auto_scaling"]["findings"]], ["auto_scaling_grant_missing"]
    )
    (stale,) = results["stale"]["findings"]
    sandbox = world["organizational_units"]["Root/Sandbox"]["id"]
    expect(
        "stale grant",
        (stale["code"], sandbox in stale["cause"], stale["task"]["args"]["state"]),
        ("stale_key_grant", True, "absent"),
    )
    expect("a clean whole region", results["clean"]["findings"], [])
    expect(
        "... where stale grants were judged",
        [key["stale"] for key in results["clean"]["kms_keys"]],
        [{"organization_ids": [], "principal_org_paths": []}],
    )
    check_consumers(results, setup, world)
    check_degraded(results, owner)
    check_launches(config, setup, owner)


if __name__ == "__main__":
    main(*sys.argv[1:4])
