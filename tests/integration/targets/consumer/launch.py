"""Launch an instance from an AMI as a consumer account would, and say what happened.

    python launch.py ENDPOINT CONFIG REGION WHO (IMAGE_ID | --copy-of SOURCE_ID) --expect running|terminated|refused

WHO is ``member`` (the account in Root/Workloads/Prod), ``dev`` (the account in
Root/Workloads/Dev) or ``outsider`` (in no organization); their credentials come from the
world in CONFIG (the integration config). With --copy-of, the image is the newest available
copy of SOURCE_ID in REGION, found with the owner's credentials by the tag the collection
writes. It calls RunInstances with WHO's credentials, waits for the instance to be running
or terminated, prints one JSON line (outcome, error code or state reason, whether WHO can see
the AMI at all) and exits 1 when the outcome is not the expected one. Instances that run are
terminated again.
"""

import argparse
import json
import sys
import time

import boto3
import yaml
from botocore.exceptions import ClientError

ACCOUNTS = {"member": "member_account", "dev": "dev_account", "outsider": "outsider_account"}
OWNER = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def client(args, credentials):
    return boto3.client("ec2", region_name=args.region, endpoint_url=args.endpoint, **credentials)


def consumer_credentials(world, who):
    given = world[ACCOUNTS[who]]["credentials"]
    return {
        "aws_access_key_id": given["aws_access_key"],
        "aws_secret_access_key": given["aws_secret_key"],
        "aws_session_token": given["aws_session_token"],
    }


def copy_of(ec2, source_id):
    filters = [
        {"Name": "tag:orgshare:source-image-id", "Values": [source_id]},
        {"Name": "state", "Values": ["available"]},
    ]
    images = sorted(
        ec2.describe_images(Owners=["self"], Filters=filters)["Images"], key=lambda image: image["CreationDate"]
    )
    if not images:
        sys.exit(f"no available copy of {source_id} in {ec2.meta.region_name}")
    return images[-1]["ImageId"]


def visible(ec2, image_id):
    try:
        return bool(ec2.describe_images(ImageIds=[image_id])["Images"])
    except ClientError:
        return False


def launch(ec2, image_id):
    """RunInstances and the instance's final state: (outcome, detail)."""
    try:
        instance = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, InstanceType="t3.micro")["Instances"][0]
    except ClientError as error:
        return "refused", error.response["Error"]["Code"]
    deadline = time.monotonic() + 30
    while True:
        described = ec2.describe_instances(InstanceIds=[instance["InstanceId"]])["Reservations"][0]["Instances"][0]
        state = described["State"]["Name"]
        if state in ("running", "terminated") or time.monotonic() > deadline:
            break
        time.sleep(1)
    if state == "running":
        ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])
    return state, described.get("StateReason", {}).get("Code")


def main():
    parser = argparse.ArgumentParser()
    for name in ("endpoint", "config", "region"):
        parser.add_argument(name)
    parser.add_argument("who", choices=sorted(ACCOUNTS))
    parser.add_argument("image_id", nargs="?")
    parser.add_argument("--copy-of")
    parser.add_argument("--expect", required=True, choices=["running", "terminated", "refused"])
    args = parser.parse_args()
    with open(args.config, encoding="utf-8") as config:
        world = yaml.safe_load(config)["orgshare_world"]
    image_id = copy_of(client(args, OWNER), args.copy_of) if args.copy_of else args.image_id
    ec2 = client(args, consumer_credentials(world, args.who))
    can_see = visible(ec2, image_id)
    outcome, detail = launch(ec2, image_id)
    print(
        json.dumps(
            {
                "region": args.region,
                "who": args.who,
                "account": world[ACCOUNTS[args.who]]["id"],
                "image_id": image_id,
                "visible": can_see,
                "outcome": outcome,
                "detail": detail,
            }
        )
    )
    if outcome != args.expect:
        sys.exit(f"{args.who} launching {image_id} in {args.region}: expected {args.expect}, got {outcome} ({detail})")
    if outcome == "terminated" and detail != "Client.InternalError":
        sys.exit(f"{args.who}: the instance from {image_id} was terminated for {detail}, not Client.InternalError")
    # Consistency with what AWS shows: an AMI the account may not launch is not visible to it either.
    if (outcome == "refused") == can_see:
        sys.exit(
            f"{args.who}: {image_id} is {'visible' if can_see else 'not visible'} but the launch was {outcome} ({detail})"
        )


if __name__ == "__main__":
    main()
