# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Can this account launch these AMIs, and if not, why and who must fix it: the consumer's side of an audit. Pure code.

A consumer sees much less than the owner: the images shared with it (``DescribeImages``), whether each key
under them answers ``DescribeKey`` for it (a key policy can only be read in the key's account, and the
owner's snapshots are not described for it), and its own Allowed AMIs setting. The key ARNs come from the
owner (its audit lists them) since ``DescribeImages`` does not report them. Each "no" is a finding that says
who must act: ``owner`` (the AMI's account), ``account <id>`` (the key's) or ``consumer`` (this account).
"""

from collections import namedtuple

from ansible_collections.orgshare.aws.plugins.module_utils import _keys
from ansible_collections.orgshare.aws.plugins.module_utils._share_audit import Findings
from ansible_collections.orgshare.aws.plugins.module_utils._share_audit import _all_of
from ansible_collections.orgshare.aws.plugins.module_utils._share_audit import _is_past
from ansible_collections.orgshare.aws.plugins.module_utils._share_audit import count_by_severity
from ansible_collections.orgshare.aws.plugins.module_utils._share_audit import image_arn
from ansible_collections.orgshare.aws.plugins.module_utils._share_audit import key_account
from ansible_collections.orgshare.aws.plugins.module_utils._share_audit import key_region

ALLOWED_AMIS_DOC = 'EC2 user guide, "Control the discovery and use of AMIs in Amazon EC2 with Allowed AMIs"'


class KeyAnswer(namedtuple("KeyAnswer", "arn metadata error denied_by_identity")):
    """What ``DescribeKey`` answered this account for a key: its metadata, or the error (and whether the denial came from
    the caller's own IAM policies rather than the key policy)."""

    __slots__ = ()


class ConsumerView(
    namedtuple(
        "ConsumerView", "caller_account_id organization_id partition requested images keys allowed now image_keys"
    )
):
    """What the consumer's audit judges.

    ``requested``: the image IDs asked for (None: every image shared with the account), looked for in every region;
    ``images``: region -> DescribeImages entries; ``keys``: key ARN -> :class:`KeyAnswer`; ``allowed``: region -> GetAllowedImagesSettings
    answer, or None when it could not be read.
    """

    __slots__ = ()


def _providers(settings):
    return sorted(
        {
            provider
            for criterion in settings.get("ImageCriteria") or []
            for provider in criterion.get("ImageProviders") or []
        }
    )


def _criteria_fix(settings, owner=None):
    providers = _providers(settings)
    who = f"the owner account {owner}" if owner else "the owner's account ID"
    return (
        f"In this account and region, add {who} to the ImageProviders of an Allowed AMIs criterion "
        f"(aws ec2 replace-image-criteria-in-allowed-images-settings; the criteria now name {', '.join(providers) or 'no provider'}); "
        f"{ALLOWED_AMIS_DOC}."
    )


class _Checker:
    def __init__(self, view):
        self.view = view
        self.findings = Findings()

    def missing(self, regions, image_id):
        """An image asked for by ID that the account cannot see in any of ``regions``."""
        region = regions[0]
        where = region if len(regions) == 1 else "any of " + ", ".join(regions)
        arn = image_arn(self.view.partition, region, image_id)
        cause = (
            f"{image_id} is not visible to account {self.view.caller_account_id} in {where}: no launch permission names this "
            "account, its organization or one of its OUs (or the image is in another region)"
        )
        fix = (
            "The owner shares it with this account, its organization or its OU in the region where it is (orgshare.aws.ami_org_share; "
            "in another region, the owner shares the copy there)."
        )
        who = "owner"
        blocking = [name for name in regions if (self.view.allowed.get(name) or {}).get("State") == "enabled"]
        if blocking:
            settings = self.view.allowed[blocking[0]]
            cause += (
                f"; or this account's Allowed AMIs setting, enabled in {', '.join(blocking)}, does not allow it (its criteria name "
                f"{', '.join(_providers(settings)) or 'no provider'})"
            )
            fix += " If it is shared, this account allows its owner: " + _criteria_fix(settings)
            who = "owner or consumer"
        self.findings.add("not_visible", "high", region, arn, image_id=image_id, cause=cause + ".", fix=fix, who=who)
        return {
            "region": region,
            "image_id": image_id,
            "image_arn": arn,
            "name": None,
            "owner_id": None,
            "state": None,
            "visible": False,
            "image_allowed": None,
            "deprecation_time": None,
            "encrypted": None,
            "kms_keys": [],
            "can_launch": False,
            "findings": [],
        }

    def image(self, region, image):
        image_id, owner = image["ImageId"], image.get("OwnerId")
        arn = image_arn(self.view.partition, region, image_id)
        encrypted = any((mapping.get("Ebs") or {}).get("Encrypted") for mapping in image.get("BlockDeviceMappings", []))
        entry = {
            "region": region,
            "image_id": image_id,
            "image_arn": arn,
            "name": image.get("Name"),
            "owner_id": owner,
            "state": image.get("State"),
            "visible": True,
            "image_allowed": image.get("ImageAllowed"),
            "deprecation_time": image.get("DeprecationTime"),
            "encrypted": encrypted,
            "kms_keys": [],
            "can_launch": None,
            "findings": [],
        }
        verdicts = [image.get("State") == "available"]
        if image.get("State") != "available":
            self.findings.add(
                "image_unavailable",
                "high",
                region,
                arn,
                image_id=image_id,
                who="owner",
                cause=f"{image_id} in {region} is {image.get('State')}: it cannot be launched.",
                fix="The owner makes it available again (a disabled AMI: aws ec2 enable-image, then shares it again).",
            )
        if image.get("ImageAllowed") is False:
            settings = self.view.allowed.get(region) or {}
            enabled = settings.get("State") == "enabled"
            self.findings.add(
                "allowed_amis_blocks",
                "high" if enabled else "low",
                region,
                arn,
                image_id=image_id,
                who="consumer",
                cause=f"This account's Allowed AMIs criteria in {region} do not allow {image_id} of account {owner}"
                + (
                    "."
                    if enabled
                    else ": in audit mode nothing is blocked yet, but enabling Allowed AMIs would block it."
                ),
                fix=_criteria_fix(settings, owner),
            )
            verdicts.append(not enabled)
        if _is_past(image.get("DeprecationTime"), self.view.now):
            self.findings.add(
                "deprecated_image",
                "low",
                region,
                arn,
                image_id=image_id,
                who="owner",
                cause=f"{image_id} has been deprecated since {image['DeprecationTime']}: it still launches by ID, but its "
                "owner means it to be replaced.",
                fix="Ask the owner for its replacement, or the owner cancels the deprecation (aws ec2 disable-image-deprecation).",
            )
        if encrypted and owner != self.view.caller_account_id:
            verdicts.append(self.keys(region, image_id, arn, entry))
        entry["can_launch"] = _all_of(verdicts)
        return entry

    def keys(self, region, image_id, arn, entry):
        if image_id in self.view.image_keys:
            keys = [self.view.keys[key_arn] for key_arn in self.view.image_keys[image_id]]
        else:
            keys = [answer for key_arn, answer in sorted(self.view.keys.items()) if key_region(key_arn) == region]
        if not keys:
            self.findings.add(
                "key_unknown",
                "medium",
                region,
                arn,
                image_id=image_id,
                who="consumer",
                cause=f"{image_id} is encrypted, and which keys are under its snapshots cannot be told from this account "
                "(DescribeImages does not report them, and the owner's snapshots are not described for it).",
                fix="Give image_kms_key_arns (or kms_key_arns): the keys the owner's audit (or ami_org_share's "
                "kms_key_arns) lists for this image.",
            )
            return None
        verdicts = []
        for answer in keys:
            verdict, reason = self.key(region, image_id, answer)
            entry["kms_keys"].append(
                {
                    "key_arn": answer.arn,
                    "describe_key": answer.metadata is not None,
                    "key_state": (answer.metadata or {}).get("KeyState"),
                    "can_launch": verdict,
                    "reason": reason,
                }
            )
            verdicts.append(verdict)
        return _all_of(verdicts)

    def key(self, region, image_id, answer):
        owner = key_account(answer.arn)
        if answer.metadata is None:
            if answer.denied_by_identity:
                self.findings.add(
                    "key_denied_by_iam",
                    "high",
                    region,
                    answer.arn,
                    image_id=image_id,
                    who="consumer",
                    cause=f"This account's own IAM policies do not let it use {answer.arn} ({answer.error}).",
                    fix="This account's administrator allows kms:DescribeKey, kms:Decrypt, kms:ReEncrypt*, kms:GenerateDataKey, "
                    "kms:GenerateDataKeyWithoutPlaintext and kms:CreateGrant (with kms:GrantIsForAWSResource) on the key "
                    'to the roles that launch instances (README, "What consumers need").',
                )
                return False, answer.error
            self.findings.add(
                "key_denies_account",
                "high",
                region,
                answer.arn,
                image_id=image_id,
                who=f"account {owner}",
                cause=f"The key {answer.arn} does not answer DescribeKey for account {self.view.caller_account_id} "
                f"({answer.error}): its key policy does not let this account use it, so instances launched from "
                f"{image_id} would be terminated at launch (Client.InternalError).",
                fix=f"The key's owner, account {owner}, lets this account's organization or OU use it (orgshare.aws.kms_org_grant "
                f"with account {owner}'s credentials"
                + (f", organization {self.view.organization_id}" if self.view.organization_id else "")
                + ").",
            )
            return False, answer.error
        state = answer.metadata.get("KeyState")
        if not _keys.can_encrypt_now(answer.metadata):
            self.findings.add(
                "unusable_key",
                "high",
                region,
                answer.arn,
                image_id=image_id,
                who=f"account {owner}",
                cause=f"The key {answer.arn} is {state}: nobody can launch the images under it.",
                fix=f"The key's owner, account {owner}, enables it (or cancels its deletion).",
            )
            return False, f"the key is {state}"
        return True, (
            "DescribeKey answers for this account: its key policy lets it use the key (a consumer can check no more; the "
            "owner's audit evaluates the whole policy)"
        )

    def run(self):
        entries, found = [], set()
        requested = self.view.requested
        for region, images in self.view.images.items():
            for image in images:
                if requested is None or image["ImageId"] in requested:
                    entries.append(self.image(region, image))
                    found.add(image["ImageId"])
        for image_id in requested or []:
            if image_id not in found:
                entries.append(self.missing(list(self.view.images), image_id))
        findings = self.findings.listed()
        for entry in entries:
            entry["findings"] = [
                finding["id"]
                for finding in findings
                if entry["image_id"] in finding["image_ids"] and finding["region"] == entry["region"]
            ]
        return {
            "images": entries,
            "findings": findings,
            "summary": {
                "images": len(entries),
                "regions": sorted(self.view.images),
                "findings": count_by_severity(findings),
            },
        }


def check_launch(view):
    """The consumer's audit of a :class:`ConsumerView`: ``{"images", "findings", "summary"}``."""
    return _Checker(view).run()
