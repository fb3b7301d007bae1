# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    """The option with which the modules that describe KMS keys take metadata read earlier in the same run."""

    DOCUMENTATION = r"""
options:
  known_kms_keys:
    description:
      - Metadata of KMS keys already read in this run, as M(orgshare.aws.ami_org_share), M(orgshare.aws.ami_region_copy) or
        M(orgshare.aws.kms_org_grant) returned it (their C(kms_keys)), so that a run of several tasks describes each key
        (C(DescribeKey)) once. The P(orgshare.aws.share_ami#role) role passes it from task to task.
      - A key named by its key ARN that is listed here is not described again; every other key is (a key ID or an alias name
        means a different key in each region, so only the ARN finds an entry).
      - Each entry needs C(arn), C(key_id), C(key_manager) and C(key_state); C(key_spec), C(key_usage) and C(aws_account_id) are
        used when present. The module trusts them, so give only metadata read moments earlier; a key disabled since then is
        noticed only when AWS refuses it.
    type: list
    elements: dict
    default: []
    version_added: 0.2.0
"""
