"""Read the copies of one source AMI back with boto3, independently of the collection, and check them.

    python check_copies.py ENDPOINT REGION SOURCE_ID OU_ARN --shared N --unshared M [--live L]
        [--key KEY_ARN --path PATH --granted yes|no] [--pending P]

Counts, among the images tagged as copies of SOURCE_ID (from us-east-1) in REGION, the
available ones whose launch permissions name OU_ARN (shared) and those that do not
(unshared), and pending ones; with --key, whether the key's policy names PATH in any
statement; exits 1 naming every mismatch.
"""

import argparse
import json
import sys

import boto3


def main():
    parser = argparse.ArgumentParser()
    for name in ("endpoint", "region", "source", "ou_arn"):
        parser.add_argument(name)
    for name in ("--shared", "--unshared", "--pending", "--failed"):
        parser.add_argument(name, type=int)
    parser.add_argument("--key")
    parser.add_argument("--path")
    parser.add_argument("--granted", choices=["yes", "no"])
    args = parser.parse_args()
    session = dict(
        region_name=args.region,
        endpoint_url=args.endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    ec2, kms = boto3.client("ec2", **session), boto3.client("kms", **session)
    filters = [{"Name": "tag:orgshare:source-image-id", "Values": [args.source]}]
    images = ec2.describe_images(Owners=["self"], Filters=filters)["Images"]
    found = {"shared": 0, "unshared": 0, "pending": 0, "failed": 0}
    for image in images:
        if image["State"] != "available":
            found[image["State"]] = found.get(image["State"], 0) + 1
            continue
        permissions = ec2.describe_image_attribute(ImageId=image["ImageId"], Attribute="launchPermission")[
            "LaunchPermissions"
        ]
        shared = any(permission.get("OrganizationalUnitArn") == args.ou_arn for permission in permissions)
        found["shared" if shared else "unshared"] += 1
    problems = [
        f"{name}: expected {getattr(args, name)}, found {found[name]}"
        for name in found
        if getattr(args, name) is not None and getattr(args, name) != found[name]
    ]
    if args.key:
        policy = kms.get_key_policy(KeyId=args.key, PolicyName="default")["Policy"]
        granted = args.path in policy
        if granted != (args.granted == "yes"):
            problems.append(f"key {args.key}: {args.path} {'is' if granted else 'is not'} in its policy: {policy}")
    print(json.dumps({"region": args.region, "source": args.source, "found": found}))
    if problems:
        print("\n".join(problems), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
