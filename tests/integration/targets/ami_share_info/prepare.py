"""Build the estate the audit scenarios judge, with boto3 only, and write setup.json.

    python prepare.py CONFIG SETUP_JSON AUDIT_POLICY_JSON

CONFIG is the integration config (endpoint, world); AUDIT_POLICY_JSON is docs/iam-audit-policy.json. Every image is
named <prefix>-<scenario>, the prefix new each run, so the audit can be scoped to this run's images. What the
collection would write itself (the key grants) is left to scenarios.yml, which runs kms_org_grant; what it never
writes (public, foreign-organization and deleted-OU shares, disabled keys, deprecation, a copy shared otherwise than
its source) is made here.
"""

import datetime
import json
import sys
import time
import uuid

import boto3
import yaml

OWNER = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
FOREIGN_ORG_ARN = "arn:aws:organizations::999999999999:organization/o-abcdefghij"
# A region no other target uses, audited whole so that stale grants are judged; and one for a clean whole region.
STALE_REGION, CLEAN_REGION = "ap-northeast-3", "ca-central-1"


def credentials(account):
    given = account["credentials"]
    return {
        "aws_access_key_id": given["aws_access_key"],
        "aws_secret_access_key": given["aws_secret_key"],
        "aws_session_token": given["aws_session_token"],
    }


def main(config_path, setup_path, policy_path):
    with open(config_path, encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    endpoint, world = config["aws_endpoint_url"], config["orgshare_world"]
    sys.path.insert(0, config["emulator_pythonpath"])
    from emulator.seed import create_image  # pylint: disable=import-outside-toplevel

    def client(service, region="us-east-1", creds=None):
        return boto3.client(service, region_name=region, endpoint_url=endpoint, **(creds or OWNER))

    units = world["organizational_units"]
    prod, dev = units["Root/Workloads/Prod"]["arn"], units["Root/Workloads/Dev"]["arn"]
    prefix = f"audit-{uuid.uuid4().hex[:8]}"
    ec2, eu = client("ec2"), client("ec2", "eu-west-1")
    images, keys, grants = {}, {}, []

    def key(name, region="us-east-1"):
        keys[name] = client("kms", region).create_key(Description=f"{prefix} {name}")["KeyMetadata"]["Arn"]
        return keys[name]

    def image(name, region_client=ec2, share=(), **encryption):
        images[name] = create_image(region_client, f"{prefix}-{name}", **encryption)["image_id"]
        entries = [{"OrganizationArn" if ":organization/" in arn else "OrganizationalUnitArn": arn} for arn in share]
        if entries:
            region_client.modify_image_attribute(ImageId=images[name], LaunchPermission={"Add": entries})
        return images[name]

    # Shared with Prod, the key granted to Prod: nothing to say (and with auto_scaling, its missing Auto Scaling grant).
    image("clean", share=[prod], encrypted=True, kms_key_id=key("clean"))
    grants.append({"region": "us-east-1", "key": keys["clean"], "units": [prod]})
    # Shared with Dev, the key granted to nobody.
    image("denied", share=[dev], encrypted=True, kms_key_id=key("denied"))
    # Under aws/ebs (EC2 refuses to share it, so it is not shared).
    image("aws-managed", encrypted=True)
    # Shared, under a key that lets Prod use it but has since been disabled.
    prod_path = {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": [units["Root/Workloads/Prod"]["path"] + "*"]}}
    use = ["kms:DescribeKey", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant"]
    keys["disabled-key"] = client("kms").create_key(
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "Root",
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{world['account_id']}:root"},
                        "Action": "kms:*",
                        "Resource": "*",
                    },
                    {
                        "Sid": "Prod",
                        "Effect": "Allow",
                        "Principal": {"AWS": "*"},
                        "Action": use,
                        "Resource": "*",
                        "Condition": prod_path,
                    },
                ],
            }
        )
    )["KeyMetadata"]["Arn"]
    image("disabled-key", share=[prod], encrypted=True, kms_key_id=keys["disabled-key"])
    client("kms").disable_key(KeyId=keys["disabled-key"].rsplit("/", 1)[1])  # moto takes the key ID only
    # Under a key of the member account (a central key account), whose policy lets this account use it.
    member = world["member_account"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Root",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{member['id']}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "Owner",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{world['account_id']}:root"},
                "Action": [
                    "kms:DescribeKey",
                    "kms:CreateGrant",
                    "kms:Decrypt",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                ],
                "Resource": "*",
            },
        ],
    }
    keys["foreign"] = client("kms", creds=credentials(member)).create_key(Policy=json.dumps(policy))["KeyMetadata"][
        "Arn"
    ]
    image("foreign-key", share=[prod], encrypted=True, kms_key_id=keys["foreign"])
    # Public; shared outside the trusted OUs; shared with another organization; shared with an OU since deleted.
    image("public")
    ec2.modify_image_attribute(ImageId=images["public"], LaunchPermission={"Add": [{"Group": "all"}]})
    image("untrusted", share=[units["Root/Sandbox/Prod"]["arn"]])
    image("other-org", share=[FOREIGN_ORG_ARN])
    organizations = client("organizations")
    gone = organizations.create_organizational_unit(ParentId=units["Root/Sandbox"]["id"], Name=f"{prefix}-gone")[
        "OrganizationalUnit"
    ]
    image("gone-ou", share=[gone["Arn"]])
    organizations.delete_organizational_unit(OrganizationalUnitId=gone["Id"])
    # Deprecated and still shared. EC2 rounds DeprecateAt to the nearest minute and refuses the past: a time two seconds
    # ahead, early in a minute, rounds down to the minute just begun, so the image is deprecated at once.
    image("deprecated", share=[prod])
    if datetime.datetime.now(datetime.timezone.utc).second >= 25:
        time.sleep(61 - datetime.datetime.now(datetime.timezone.utc).second)
    ec2.enable_image_deprecation(
        ImageId=images["deprecated"],
        DeprecateAt=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=2),
    )
    # Copies in eu-west-1, tagged as ami_region_copy tags them: one shared with Dev while its source is shared with Prod; one
    # still shared with Prod while its source was disabled (which took the source's launch permissions).
    for name, copy_share in (("drift", [dev]), ("retired", [prod])):
        source = image(name, share=[prod])
        tags = [
            {"Key": "orgshare:source-image-id", "Value": source},
            {"Key": "orgshare:source-region", "Value": "us-east-1"},
        ]
        images[f"{name}-copy"] = eu.copy_image(
            SourceRegion="us-east-1",
            SourceImageId=source,
            Name=f"{prefix}-{name}-copy",
            TagSpecifications=[{"ResourceType": "image", "Tags": tags}],
        )["ImageId"]
        eu.modify_image_attribute(
            ImageId=images[f"{name}-copy"],
            LaunchPermission={"Add": [{"OrganizationalUnitArn": arn} for arn in copy_share]},
        )
    ec2.disable_image(ImageId=images["retired"])
    # Whole regions: stale grants (the key opens to Sandbox too, which nothing is shared with), and a clean one.
    image(
        "stale",
        region_client=client("ec2", STALE_REGION),
        share=[units["Root/Security"]["arn"]],
        encrypted=True,
        kms_key_id=key("stale", STALE_REGION),
    )
    grants.append(
        {
            "region": STALE_REGION,
            "key": keys["stale"],
            "units": [units["Root/Security"]["arn"], units["Root/Sandbox"]["arn"]],
        }
    )
    image(
        "whole-clean",
        region_client=client("ec2", CLEAN_REGION),
        share=[prod],
        encrypted=True,
        kms_key_id=key("whole-clean", CLEAN_REGION),
    )
    grants.append({"region": CLEAN_REGION, "key": keys["whole-clean"], "units": [prod]})
    # IAM users for the read-only runs: the audit policy, and the same without kms:GetKeyPolicy.
    iam = client("iam")
    with open(policy_path, encoding="utf-8") as handle:
        audit_policy = json.load(handle)
    users = {}
    for name, dropped in (("auditor", None), ("auditor-no-key-policy", "kms:GetKeyPolicy")):
        policy = json.loads(json.dumps(audit_policy))
        for statement in policy["Statement"]:
            actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
            statement["Action"] = [action for action in actions if action != dropped]
        user = f"{prefix}-{name}"
        iam.create_user(UserName=user)
        iam.put_user_policy(UserName=user, PolicyName="audit", PolicyDocument=json.dumps(policy))
        access = iam.create_access_key(UserName=user)["AccessKey"]
        users[name] = {"access_key": access["AccessKeyId"], "secret_key": access["SecretAccessKey"]}
    setup = {
        "prefix": prefix,
        "images": images,
        "keys": keys,
        "grants": grants,
        "users": users,
        "gone_ou": gone["Arn"],
        "foreign_org_arn": FOREIGN_ORG_ARN,
        "stale_region": STALE_REGION,
        "clean_region": CLEAN_REGION,
    }
    with open(setup_path, "w", encoding="utf-8") as handle:
        json.dump({"setup": setup}, handle, indent=2)


if __name__ == "__main__":
    main(*sys.argv[1:4])
