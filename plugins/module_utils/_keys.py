# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What a KMS key's metadata (DescribeKey's ``KeyMetadata``) means for sharing AMIs. Pure code.

One place for the decisions every module, the role's planner and the audit make about a key: whether
AWS manages it, whether its state lets anyone use it (and what fixes each state), whether a copy can
be encrypted with it now, and whether Amazon EBS can encrypt with it at all; with the sentences that
give the operator the reason.
"""

# DescribeKey KeyManager: AWS for AWS-managed keys (aws/ebs...), CUSTOMER for customer-managed ones.
AWS_MANAGED = "AWS"
CUSTOMER_MANAGED = "CUSTOMER"
ENABLED = "Enabled"
# Amazon EBS User Guide, "Share the KMS key used to encrypt a shared Amazon EBS snapshot": snapshots encrypted
# with an AWS-managed key (and so the AMIs made of them) cannot be shared; the policy of such a key cannot be changed.
AWS_MANAGED_REASON = "snapshots encrypted with an AWS-managed key can never be shared"
# Key states in which a grant lets nobody use the key, each with what makes the key usable again (AWS KMS Developer
# Guide, "Key states of AWS KMS keys"). A key in any other state but Enabled (Creating, Updating) is passing through.
UNUSABLE_STATE_FIXES = {
    "Disabled": "enable it (EnableKey) first",
    "PendingDeletion": "cancel its deletion (CancelKeyDeletion) and enable it first",
    "PendingReplicaDeletion": "cancel the deletion of its replica first",
    "PendingImport": "import its key material first",
    "Unavailable": "reconnect its custom key store first",
}
UNUSABLE_STATES = tuple(UNUSABLE_STATE_FIXES)
# Amazon EBS encrypts only with symmetric encryption keys (EC2 API Reference, CopyImage and ModifyEbsDefaultKmsKeyId:
# "Amazon EBS does not support asymmetric KMS keys").
SYMMETRIC_KEY_SPEC = "SYMMETRIC_DEFAULT"
ENCRYPT_DECRYPT = "ENCRYPT_DECRYPT"


def is_aws_managed(metadata):
    """Whether AWS manages the key (``aws/ebs`` and the like)."""
    return (metadata or {}).get("KeyManager") == AWS_MANAGED


def is_customer_managed(metadata):
    """Whether the key is a customer-managed key (the only kind whose policy can be changed and whose snapshots can be shared)."""
    return (metadata or {}).get("KeyManager") == CUSTOMER_MANAGED


def unusable_state(metadata):
    """The key's state when a grant on it would let nobody use it (:data:`UNUSABLE_STATES`), else None."""
    state = (metadata or {}).get("KeyState")
    return state if state in UNUSABLE_STATE_FIXES else None


def can_encrypt_now(metadata):
    """Whether a copy (or a launch) can be encrypted with the key right now: only an ``Enabled`` key serves."""
    return (metadata or {}).get("KeyState") == ENABLED


def key_spec_problem(metadata, key_ref, region):
    """Why EBS cannot use this key (a message naming the key, its spec and usage, and the fix), or None.

    ``metadata`` is DescribeKey's KeyMetadata. Amazon EBS encrypts only with symmetric encryption keys, that is
    KeySpec ``SYMMETRIC_DEFAULT`` (formerly CustomerMasterKeySpec) with KeyUsage ``ENCRYPT_DECRYPT``; an HMAC key
    (``GENERATE_VERIFY_MAC``) is no encryption key at all. DescribeKey always reports both; a metadata without them is
    taken for the default, symmetric encryption key.
    """
    spec = metadata.get("KeySpec") or metadata.get("CustomerMasterKeySpec") or SYMMETRIC_KEY_SPEC
    usage = metadata.get("KeyUsage") or ENCRYPT_DECRYPT
    if spec == SYMMETRIC_KEY_SPEC and usage == ENCRYPT_DECRYPT:
        return None
    arn = metadata.get("Arn") or key_ref
    named = f"{key_ref!r} ({arn})" if arn != key_ref else repr(key_ref)
    return (
        f"The key {named} in {region} has KeySpec {spec} and KeyUsage {usage}: Amazon EBS encrypts volumes and snapshots only "
        f"with symmetric encryption keys (KeySpec {SYMMETRIC_KEY_SPEC}, KeyUsage {ENCRYPT_DECRYPT}), so no snapshot of an AMI can be "
        "encrypted with it and a grant on it would let nobody launch anything. Use a symmetric encryption key (what CreateKey "
        "makes by default) instead."
    )
