#!/usr/bin/env bash
# The share_ami role end to end, through the collection playbook, as an operator runs it:
# audit (--check --diff), share, share again (no change), audit again, revoke, a missing
# region key, and the per-region inventory with forks. verify.yml reads the AWS state
# back with amazon.aws modules after each step.
set -eux -o pipefail

config=(-e @../../integration_config.yml)
recap_changed() {  # the changed= count of the PLAY RECAP in a log; 0 when the play changed nothing anywhere
    grep -E '^[a-z0-9.-]+ +: ok=' "$1" | sed -E 's/.*changed=([0-9]+).*/\1/' | paste -sd+ | bc
}

ansible-playbook prepare.yml "${config[@]}" "$@"

# 1. The audit changes nothing and reports what a real run would do.
ansible-playbook orgshare.aws.share_ami -e @vars_present.json --check --diff "$@" | tee audit_1.log
[ "$(recap_changed audit_1.log)" -gt 0 ]
ansible-playbook verify.yml "${config[@]}" -e @vars_present.json -e expect=untouched "$@"

# 2. Share, then share again: the second run changes nothing.
ansible-playbook orgshare.aws.share_ami -e @vars_present.json "$@" | tee share_1.log
ansible-playbook verify.yml "${config[@]}" -e @vars_present.json -e expect=shared "$@"
ansible-playbook orgshare.aws.share_ami -e @vars_present.json "$@" | tee share_2.log
[ "$(recap_changed share_2.log)" -eq 0 ]

# 3. The audit of a shared estate finds nothing to change.
ansible-playbook orgshare.aws.share_ami -e @vars_present.json --check --diff "$@" | tee audit_2.log
[ "$(recap_changed audit_2.log)" -eq 0 ]

# 4. Revoke: launch permissions first, then (asked for) the key policies.
ansible-playbook orgshare.aws.share_ami -e @vars_present.json -e share_ami_state=absent -e share_ami_revoke_kms=true "$@"
ansible-playbook verify.yml "${config[@]}" -e @vars_present.json -e expect=revoked "$@"

# 5. A region without a key for an encrypted AMI fails before any write.
if ansible-playbook orgshare.aws.share_ami -e @vars_missing_key.json "$@" > missing_key.log 2>&1; then
    echo "a missing region key did not fail the run"; exit 1
fi
grep -q "must be encrypted with a customer-managed key of each region" missing_key.log
grep -q "ap-southeast-2" missing_key.log
ansible-playbook verify.yml "${config[@]}" -e @vars_missing_key.json -e expect=untouched "$@"

# 6. One inventory host per region, run in parallel with forks.
ansible-playbook orgshare.aws.share_ami -i per_region_inventory.yml -e @vars_per_region.json -e share_ami_hosts=share_ami_regions \
    --forks 2 "$@" | tee per_region.log
grep -q "us-east-1 *: ok=" per_region.log
grep -q "eu-west-1 *: ok=" per_region.log
ansible-playbook verify.yml "${config[@]}" -e @vars_per_region.json -e '{"share_ami_regions": ["us-east-1", "eu-west-1"]}' -e expect=shared "$@"
