"""The seeded world: an organization with nested OUs, member and outsider accounts, KMS keys
in two regions and AMIs covering every encryption case orgshare.aws must handle."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from .clients import DEFAULT_ACCOUNT_ID, assume_role_credentials, make_client

REGIONS = ("us-east-1", "eu-west-1")
HOME_REGION = REGIONS[0]
OUTSIDER_ACCOUNT_ID = "210987654321"
MEMBER_OU = "Root/Workloads/Prod"
DEV_OU = "Root/Workloads/Dev"  # a sibling of MEMBER_OU: the dev account sees nothing shared with Prod
DEMO_ALIAS = "alias/orgshare-demo"
# Name paths of the OUs, parents first. Sandbox gets 25 children: more than one page of 20,
# and a "Prod" that shares its name with Workloads/Prod under another parent.
OU_PATHS = (
    "Root/Workloads",
    "Root/Workloads/Prod",
    "Root/Workloads/Dev",
    "Root/Workloads/Prod/Payments",
    "Root/Sandbox",
    "Root/Sandbox/Prod",
    *(f"Root/Sandbox/team-{number:02d}" for number in range(1, 25)),
    "Root/Security",
)


def create_image(
    ec2: Any, name: str, encrypted: bool = False, kms_key_id: str | None = None, snapshots: int = 1
) -> dict[str, Any]:
    """Register an EBS-backed AMI named ``name`` with ``ec2`` (a boto3 client), as AWS users do:
    CreateVolume (encrypted as asked) -> CreateSnapshot -> RegisterImage with BlockDeviceMappings.

    Returns ``{"image_id", "region", "name", "snapshot_ids", "encrypted", "kms_key_arn"}``; the key
    ARN is the one DescribeSnapshots reports (the region's aws/ebs key when none is given).
    """
    region = ec2.meta.region_name
    encryption = {"Encrypted": True, **({"KmsKeyId": kms_key_id} if kms_key_id else {})} if encrypted else {}
    snapshot_ids = []
    for index in range(snapshots):
        volume = ec2.create_volume(Size=8, AvailabilityZone=f"{region}a", VolumeType="gp3", **encryption)
        snapshot = ec2.create_snapshot(VolumeId=volume["VolumeId"], Description=f"{name} volume {index}")
        ec2.delete_volume(VolumeId=volume["VolumeId"])
        snapshot_ids.append(snapshot["SnapshotId"])
    mappings = [
        {
            "DeviceName": _device_name(index),
            "Ebs": {"SnapshotId": snapshot_id, "VolumeSize": 8, "VolumeType": "gp3", "DeleteOnTermination": True},
        }
        for index, snapshot_id in enumerate(snapshot_ids)
    ]
    image_id = ec2.register_image(
        Name=name,
        RootDeviceName=_device_name(0),
        BlockDeviceMappings=mappings,
        Architecture="x86_64",
        VirtualizationType="hvm",
    )["ImageId"]
    described = ec2.describe_snapshots(SnapshotIds=snapshot_ids[:1])["Snapshots"][0] if snapshot_ids else {}
    return {
        "image_id": image_id,
        "region": region,
        "name": name,
        "snapshot_ids": snapshot_ids,
        "encrypted": bool(encrypted),
        "kms_key_arn": described.get("KmsKeyId") if encrypted else None,
    }


def _device_name(index: int) -> str:
    return "/dev/xvda" if index == 0 else f"/dev/xvd{chr(ord('a') + index)}"


def _ansible_credentials(credentials: dict[str, Any]) -> dict[str, Any]:
    """boto3 keyword credentials under the names of amazon.aws module options."""
    return {
        "aws_access_key": credentials["aws_access_key_id"],
        "aws_secret_key": credentials["aws_secret_access_key"],
        "aws_session_token": credentials["aws_session_token"],
    }


def _organization(organizations: Any) -> dict[str, Any]:
    try:
        organization = organizations.create_organization(FeatureSet="ALL")["Organization"]
    except ClientError as error:
        if error.response["Error"]["Code"] == "AlreadyInOrganizationException":
            raise RuntimeError("this emulator is already seeded: seed_world() runs once per emulator") from error
        raise
    root = organizations.list_roots()["Roots"][0]
    return {
        "id": organization["Id"],
        "arn": organization["Arn"],
        "root_id": root["Id"],
        "root_arn": root["Arn"],
        "management_account_id": organization["MasterAccountId"],
    }


def _organizational_units(organizations: Any, organization: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Create ``OU_PATHS``; each OU with its aws:PrincipalOrgPaths value ``o-x/r-y/ou-a/.../``."""
    root_path = f"{organization['id']}/{organization['root_id']}/"
    parents = {"Root": (organization["root_id"], root_path)}
    units = {}
    for path in OU_PATHS:
        parent_path, name = path.rsplit("/", 1)
        parent_id, parent_org_path = parents[parent_path]
        unit = organizations.create_organizational_unit(ParentId=parent_id, Name=name)["OrganizationalUnit"]
        org_path = f"{parent_org_path}{unit['Id']}/"
        units[path] = {"id": unit["Id"], "arn": unit["Arn"], "name": name, "parent_id": parent_id, "path": org_path}
        parents[path] = (unit["Id"], org_path)
    return units


def _member_account(
    endpoint_url: str, organizations: Any, organization: dict[str, Any], unit: dict[str, Any], name: str = "member"
) -> dict[str, Any]:
    status = organizations.create_account(AccountName=name, Email=f"{name}@example.com")["CreateAccountStatus"]
    account_id = status["AccountId"]
    organizations.move_account(
        AccountId=account_id, SourceParentId=organization["root_id"], DestinationParentId=unit["id"]
    )
    return {
        "id": account_id,
        "name": name,
        "parent_id": unit["id"],
        "path": unit["path"],
        "credentials": _ansible_credentials(assume_role_credentials(endpoint_url, account_id)),
    }


def _key(kms: Any, alias: str, description: str) -> dict[str, Any]:
    metadata = kms.create_key(Description=description)["KeyMetadata"]
    kms.create_alias(AliasName=alias, TargetKeyId=metadata["KeyId"])
    return {"key_id": metadata["KeyId"], "key_arn": metadata["Arn"], "alias": alias}


def _special_keys(kms: Any) -> dict[str, Any]:
    """A disabled and a pending-deletion customer key, and the region's AWS-managed aws/ebs key."""
    disabled = _key(kms, "alias/orgshare-disabled", "orgshare disabled key")
    kms.disable_key(KeyId=disabled["key_id"])
    pending = _key(kms, "alias/orgshare-pending-deletion", "orgshare key pending deletion")
    kms.schedule_key_deletion(KeyId=pending["key_id"], PendingWindowInDays=7)
    aws_managed = kms.describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]  # created on first use, as in AWS
    return {
        "disabled": disabled,
        "pending_deletion": pending,
        "aws_managed": {"key_id": aws_managed["KeyId"], "key_arn": aws_managed["Arn"], "alias": "alias/aws/ebs"},
    }


def _outsider(endpoint_url: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The outsider account and its AMI, which it shares with the management account (so that
    the management account sees an image it does not own)."""
    credentials = assume_role_credentials(endpoint_url, OUTSIDER_ACCOUNT_ID)
    ec2 = make_client(endpoint_url, "ec2", HOME_REGION, credentials=credentials, internal=True)
    image = create_image(ec2, "orgshare-outsider")
    ec2.modify_image_attribute(ImageId=image["image_id"], LaunchPermission={"Add": [{"UserId": DEFAULT_ACCOUNT_ID}]})
    image["owner_id"] = OUTSIDER_ACCOUNT_ID
    return {"id": OUTSIDER_ACCOUNT_ID, "credentials": _ansible_credentials(credentials)}, image


def seed_world(endpoint_url: str) -> dict[str, Any]:
    """Build the world in the emulator at ``endpoint_url`` and describe it (JSON-serialisable).

    The emulator's own seeding calls are not counted. Runs once per emulator.
    """

    def client(service: str, region: str = HOME_REGION) -> Any:
        return make_client(endpoint_url, service, region, internal=True)

    organizations = client("organizations")
    organization = _organization(organizations)
    units = _organizational_units(organizations, organization)
    member = _member_account(endpoint_url, organizations, organization, units[MEMBER_OU])
    dev = _member_account(endpoint_url, organizations, organization, units[DEV_OU], name="dev")
    keys = {region: _key(client("kms", region), DEMO_ALIAS, f"orgshare demo key ({region})") for region in REGIONS}
    ec2 = client("ec2")
    images = {
        "plain": create_image(ec2, "orgshare-plain"),
        "encrypted_cmk": create_image(
            ec2, "orgshare-encrypted-cmk", encrypted=True, kms_key_id=keys[HOME_REGION]["key_arn"]
        ),
        "encrypted_aws_managed": create_image(ec2, "orgshare-encrypted-aws-managed", encrypted=True),
    }
    for image in images.values():
        image["owner_id"] = DEFAULT_ACCOUNT_ID
    outsider, images["outsider"] = _outsider(endpoint_url)
    return {
        "endpoint_url": endpoint_url,
        "account_id": DEFAULT_ACCOUNT_ID,
        "regions": list(REGIONS),
        "organization": organization,
        "organizational_units": units,
        "member_account": member,
        "dev_account": dev,
        "outsider_account": outsider,
        "keys": keys,
        "special_keys": {HOME_REGION: _special_keys(client("kms"))},
        "images": images,
    }
