"""The hostile-world scenario's own AWS calls, with boto3 only (the owner's credentials).

    python hostile.py ENDPOINT setup SOURCE_ID OUTSIDER_ID   -> prints the eu-west-1 default key's ARN
    python hostile.py ENDPOINT writer SOURCE_ID KEY_ARN      -> adds a foreign statement while the role runs
    python hostile.py ENDPOINT check SOURCE_ID KEY_ARN OU_ARN OU_PATH OUTSIDER_ID
    python hostile.py ENDPOINT reset

setup: a customer-managed key in eu-west-1 made that region's default EBS key
(ModifyEbsDefaultKmsKeyId), and the source AMI shared with the outsider account and made
public, which the collection must never touch. writer: waits until a copy of the source shows
up in eu-west-1 (the role is then between its copy and its grant), reads the key policy, adds a
statement of its own and writes it. check: reads everything back and exits 1 naming every
problem. reset: puts the default EBS key of eu-west-1 back to aws/ebs.
"""

import json
import sys
import time

import boto3

FOREIGN_SID = "AuditorReadOnly"


def client(endpoint, service, region):
    return boto3.client(
        service, region_name=region, endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing"
    )


def copies(ec2, source_id):
    filters = [{"Name": "tag:orgshare:source-image-id", "Values": [source_id]}]
    return ec2.describe_images(Owners=["self"], Filters=filters)["Images"]


def setup(endpoint, source_id, outsider_id):
    key_arn = client(endpoint, "kms", "eu-west-1").create_key(Description="eu-west-1 default EBS key")["KeyMetadata"][
        "Arn"
    ]
    client(endpoint, "ec2", "eu-west-1").modify_ebs_default_kms_key_id(KmsKeyId=key_arn)
    client(endpoint, "ec2", "us-east-1").modify_image_attribute(
        ImageId=source_id, LaunchPermission={"Add": [{"UserId": outsider_id}, {"Group": "all"}]}
    )
    print(key_arn)


def writer(endpoint, source_id, key_arn):
    ec2, kms = client(endpoint, "ec2", "eu-west-1"), client(endpoint, "kms", "eu-west-1")
    deadline = time.monotonic() + 600
    while not copies(ec2, source_id):
        if time.monotonic() > deadline:
            sys.exit("no copy appeared in eu-west-1")
        time.sleep(0.2)
    policy = json.loads(kms.get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"])
    policy["Statement"].append(
        {
            "Sid": FOREIGN_SID,
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
            "Action": ["kms:DescribeKey", "kms:GetKeyPolicy"],
            "Resource": "*",
        }
    )
    kms.put_key_policy(KeyId=key_arn, PolicyName="default", Policy=json.dumps(policy))
    print(f"wrote {FOREIGN_SID} into {key_arn}")


def check(endpoint, source_id, key_arn, ou_arn, ou_path, outsider_id):
    ec2, kms = client(endpoint, "ec2", "eu-west-1"), client(endpoint, "kms", "eu-west-1")
    problems = []
    found = copies(ec2, source_id)
    if len(found) != 1 or found[0]["State"] != "available":
        problems.append(
            f"expected one available copy in eu-west-1, found {[(image['ImageId'], image['State']) for image in found]}"
        )
    for image in found:
        snapshot_ids = [mapping["Ebs"]["SnapshotId"] for mapping in image["BlockDeviceMappings"] if "Ebs" in mapping]
        for snapshot in ec2.describe_snapshots(SnapshotIds=snapshot_ids)["Snapshots"]:
            if not snapshot["Encrypted"] or snapshot.get("KmsKeyId") != key_arn:
                problems.append(
                    f"{snapshot['SnapshotId']} of {image['ImageId']} is not encrypted with {key_arn}: {snapshot.get('KmsKeyId')}"
                )
        permissions = ec2.describe_image_attribute(ImageId=image["ImageId"], Attribute="launchPermission")[
            "LaunchPermissions"
        ]
        if {"OrganizationalUnitArn": ou_arn} not in permissions:
            problems.append(f"{image['ImageId']} is not shared with {ou_arn}: {permissions}")
    statements = json.loads(kms.get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"])["Statement"]
    sids = [statement.get("Sid") for statement in statements]
    for sid in ("Enable IAM User Permissions", FOREIGN_SID):
        if sid not in sids:
            problems.append(f"the statement {sid!r} was lost from {key_arn}: {sids}")
    if not any(ou_path in json.dumps(statement) for statement in statements):
        problems.append(f"{key_arn} does not let {ou_path} use it: {sids}")
    source = client(endpoint, "ec2", "us-east-1").describe_image_attribute(
        ImageId=source_id, Attribute="launchPermission"
    )
    for kept in ({"UserId": outsider_id}, {"Group": "all"}):
        if kept not in source["LaunchPermissions"]:
            problems.append(f"{source_id} lost the launch permission {kept}: {source['LaunchPermissions']}")
    print(json.dumps({"copies": [image["ImageId"] for image in found], "sids": sids}))
    if problems:
        sys.exit("\n".join(problems))


def reset(endpoint):
    client(endpoint, "ec2", "eu-west-1").reset_ebs_default_kms_key_id()


if __name__ == "__main__":
    {"setup": setup, "writer": writer, "check": check, "reset": reset}[sys.argv[2]](sys.argv[1], *sys.argv[3:])
