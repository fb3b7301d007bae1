#!/usr/bin/env bash
# The share_ami role end to end, through the collection playbook, as an operator runs it:
# audit (--check --diff), share, share again (no change), audit again, revoke, a missing
# region key, the per-region inventory with forks, variables given as strings, a key for
# the source region, copies not waited for, and a region whose key changes. verify.yml
# (amazon.aws modules) and check_copies.py (boto3) read the AWS state back after each step.
set -eux -o pipefail

config=(-e @../../integration_config.yml)
endpoint=$(python -c 'import json,sys; print(json.load(open(sys.argv[1]))["emulator_url"])' ../../integration_config.yml)
control() { curl -sf -X "$1" -H 'Content-Type: application/json' ${3:+--data "$3"} "${endpoint}/_emulator/$2"; }
# var FILE KEY...: one value of a JSON file, following keys (list indexes as numbers).
var() { python -c 'import json,sys; v=json.load(open(sys.argv[1])); [v:=v[int(k) if isinstance(v, list) else k] for k in sys.argv[2:]]; print(v)' "$@"; }
check_copies() { python check_copies.py "${endpoint}" "$@"; }
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

# 7. Variables given as strings on the command line, as Ansible's own list options take them.
strings_id=$(cat strings_image_id.txt)
ansible-playbook orgshare.aws.share_ami -e @vars_present.json -e "share_ami_image_ids=${strings_id}" \
    -e share_ami_regions=us-east-1,eu-west-1 -e share_ami_organizational_units=Root/Workloads/Prod "$@" | tee strings.log
grep -q "us-east-1 ${strings_id} -> ${strings_id}" strings.log
grep -q "eu-west-1 ${strings_id} -> ami-" strings.log
ansible-playbook verify.yml "${config[@]}" -e @vars_present.json -e "{\"share_ami_image_ids\": [\"${strings_id}\"]}" -e expect=shared "$@"

# 8. A key for the source region: an AMI under aws/ebs (never shareable) is copied in place, re-encrypted, and the copy shared.
in_place_id=$(var vars_in_place.json share_ami_image_ids 0)
security_ou=$(var ../../integration_config.yml orgshare_world organizational_units Root/Security arn)
ansible-playbook orgshare.aws.share_ami -e @vars_in_place.json --check --diff "$@" | tee in_place_audit_1.log
[ "$(recap_changed in_place_audit_1.log)" -gt 0 ]
check_copies us-east-1 "${in_place_id}" "${security_ou}" --shared 0 --unshared 0
ansible-playbook orgshare.aws.share_ami -e @vars_in_place.json "$@" | tee in_place_1.log
check_copies us-east-1 "${in_place_id}" "${security_ou}" --shared 1 --unshared 0 \
    --key "$(var vars_in_place.json share_ami_region_kms_keys us-east-1)" \
    --path "$(var ../../integration_config.yml orgshare_world organizational_units Root/Security path)" --granted yes
ansible-playbook orgshare.aws.share_ami -e @vars_in_place.json --check --diff "$@" | tee in_place_audit_2.log
[ "$(recap_changed in_place_audit_2.log)" -eq 0 ]
ansible-playbook orgshare.aws.share_ami -e @vars_in_place.json "$@" | tee in_place_2.log
[ "$(recap_changed in_place_2.log)" -eq 0 ]

# 8b. The key grant is taken away from a shared AMI (its consumers see it, and their instances die at launch): the audit
# reports the grant due for that AMI, with the audit's finding, and a real run restores it. The key's statements for
# Root/Security and for the whole organization (an earlier scenario shared with it) are taken out.
security_path="$(var ../../integration_config.yml orgshare_world organizational_units Root/Security path)"
in_place_key="$(var vars_in_place.json share_ami_region_kms_keys us-east-1)"
python - "${endpoint}" "${in_place_key}" "${security_path}*" <<'PY'
import json, sys, boto3
kms = boto3.client("kms", region_name="us-east-1", endpoint_url=sys.argv[1], aws_access_key_id="testing", aws_secret_access_key="testing")
policy = json.loads(kms.get_key_policy(KeyId=sys.argv[2], PolicyName="default")["Policy"])
for statement in policy["Statement"]:
    paths = statement.get("Condition", {}).get("ForAnyValue:StringLike", {}).get("aws:PrincipalOrgPaths")
    if paths is not None:
        statement["Condition"]["ForAnyValue:StringLike"]["aws:PrincipalOrgPaths"] = [path for path in paths if path != sys.argv[3]]
policy["Statement"] = [s for s in policy["Statement"] if s.get("Condition", {}).get("ForAnyValue:StringLike", {}).get("aws:PrincipalOrgPaths", [1])
                       and "aws:PrincipalOrgID" not in s.get("Condition", {}).get("StringEquals", {})]
kms.put_key_policy(KeyId=sys.argv[2], PolicyName="default", Policy=json.dumps(policy))
PY
check_copies us-east-1 "${in_place_id}" "${security_ou}" --shared 1 --key "${in_place_key}" --path "${security_path}" --granted no
ansible-playbook orgshare.aws.share_ami -e @vars_in_place.json --check --diff "$@" | tee seeded_audit.log
[ "$(recap_changed seeded_audit.log)" -gt 0 ]
tr -s ' \n' ' ' < seeded_audit.log | grep -q "us-east-1 ${in_place_id} -> ami-[0-9a-f]*: would grant the key; shared with 0 organization(s) and 1 OU(s); keys: ${in_place_key}; findings: [a-z_, ]*key_denies_share"
check_copies us-east-1 "${in_place_id}" "${security_ou}" --key "${in_place_key}" --path "${security_path}" --granted no
ansible-playbook orgshare.aws.share_ami -e @vars_in_place.json "$@" | tee seeded_share.log
tr -s ' \n' ' ' < seeded_share.log | grep -q "us-east-1 ${in_place_id} -> ami-[0-9a-f]*: key granted; shared with"
check_copies us-east-1 "${in_place_id}" "${security_ou}" --shared 1 --key "${in_place_key}" --path "${security_path}" --granted yes

# 8c. Every region's copies are started before any is waited for: with each copy pending for 20 s, the four copies of two
# AMIs into two regions all start within those 20 s (one region after the other, or one copy after another, would not).
control PUT settings '{"copy_pending_seconds": 20}' > /dev/null
ansible-playbook orgshare.aws.share_ami -e @vars_fleet.json "$@" | tee fleet.log
control PUT settings '{"copy_pending_seconds": 0}' > /dev/null
python - "${endpoint}" "$(var vars_fleet.json share_ami_image_ids 0)" "$(var vars_fleet.json share_ami_image_ids 1)" <<'PY'
import datetime, sys, boto3
started = []
for region in ("eu-west-1", "ap-southeast-2"):
    ec2 = boto3.client("ec2", region_name=region, endpoint_url=sys.argv[1], aws_access_key_id="testing", aws_secret_access_key="testing")
    images = ec2.describe_images(Owners=["self"], Filters=[{"Name": "tag:orgshare:source-image-id", "Values": sys.argv[2:]}])["Images"]
    assert len(images) == 2 and all(image["State"] == "available" for image in images), images
    started += [datetime.datetime.fromisoformat(image["CreationDate"].replace("Z", "+00:00")) for image in images]
spread = (max(started) - min(started)).total_seconds()
assert spread < 20, f"the copies started {spread} s apart: not all before the first wait"
print(f"4 copies started within {spread} s")
PY
for source in $(var vars_fleet.json share_ami_image_ids 0) $(var vars_fleet.json share_ami_image_ids 1); do
    for region in eu-west-1 ap-southeast-2; do check_copies "${region}" "${source}" "${security_ou}" --shared 1 --unshared 0; done
done
grep -c "Copy the AMIs into every region at once" fleet.log | grep -qx 1

# 9. share_ami_wait: false: the copy is started and reported pending, its key granted; a later run shares it.
no_wait_id=$(var vars_no_wait.json share_ami_image_ids 0)
control PUT settings '{"copy_pending_seconds": 60}' > /dev/null
ansible-playbook orgshare.aws.share_ami -e @vars_no_wait.json "$@" | tee no_wait_1.log
grep -q "pending (shared on a later run, once available)" no_wait_1.log
check_copies eu-west-1 "${no_wait_id}" "${security_ou}" --pending 1 --shared 0 --unshared 0
ansible-playbook orgshare.aws.share_ami -e @vars_no_wait.json "$@" | tee no_wait_2.log  # still pending: nothing new
check_copies eu-west-1 "${no_wait_id}" "${security_ou}" --pending 1 --shared 0
control PUT settings '{"copy_pending_seconds": 0}' > /dev/null
for _ in $(seq 90); do check_copies eu-west-1 "${no_wait_id}" "${security_ou}" --pending 0 > /dev/null 2>&1 && break; sleep 1; done
ansible-playbook orgshare.aws.share_ami -e @vars_no_wait.json "$@" | tee no_wait_3.log
check_copies eu-west-1 "${no_wait_id}" "${security_ou}" --pending 0 --shared 1 --unshared 0

# 10. The region's key changes: a new copy under the new key is made and shared, the earlier one left as it is. A failed
# copy beside them never counts. Revoking by OU ARN what was granted by name path stops every copy and the key grants.
rekey_id=$(var vars_rekey.json share_ami_image_ids 0)
sandbox_ou=$(var vars_rekey.json share_ami_ou_arn)
sandbox_path=$(var vars_rekey.json share_ami_ou_path)
first_key=$(var vars_rekey.json share_ami_region_kms_keys eu-west-1)
second_key=$(var vars_rekey.json share_ami_second_key)
ansible-playbook orgshare.aws.share_ami -e @vars_rekey.json "$@" | tee rekey_1.log
check_copies eu-west-1 "${rekey_id}" "${sandbox_ou}" --shared 1 --unshared 0 --key "${first_key}" --path "${sandbox_path}" --granted yes
ansible-playbook orgshare.aws.share_ami -e @vars_rekey.json -e "{\"share_ami_region_kms_keys\": {\"eu-west-1\": \"${second_key}\"}}" \
    --check "$@" | tee rekey_audit.log
[ "$(recap_changed rekey_audit.log)" -gt 0 ]
ansible-playbook orgshare.aws.share_ami -e @vars_rekey.json -e "{\"share_ami_region_kms_keys\": {\"eu-west-1\": \"${second_key}\"}}" \
    "$@" 2>&1 | tee rekey_2.log  # the warning goes to stderr
tr -s ' \n' ' ' < rekey_2.log | grep -q "so it is not the copy asked for and a new one is made"
check_copies eu-west-1 "${rekey_id}" "${sandbox_ou}" --shared 2 --unshared 0 --key "${second_key}" --path "${sandbox_path}" --granted yes
python - "${endpoint}" "${rekey_id}" <<'PY'
import sys, boto3
session = dict(endpoint_url=sys.argv[1], aws_access_key_id="testing", aws_secret_access_key="testing")
kms, ec2 = boto3.client("kms", region_name="eu-west-1", **session), boto3.client("ec2", region_name="eu-west-1", **session)
key = kms.create_key(Description="disabled before the copy")["KeyMetadata"]
kms.disable_key(KeyId=key["KeyId"])
tags = [{"Key": "orgshare:source-image-id", "Value": sys.argv[2]}, {"Key": "orgshare:source-region", "Value": "us-east-1"}]
ec2.copy_image(SourceImageId=sys.argv[2], SourceRegion="us-east-1", Name="rekey-failed-copy", Encrypted=True, KmsKeyId=key["Arn"],
               TagSpecifications=[{"ResourceType": "image", "Tags": tags}])
PY
check_copies eu-west-1 "${rekey_id}" "${sandbox_ou}" --shared 2 --failed 1
ansible-playbook orgshare.aws.share_ami -e @vars_rekey.json -e "{\"share_ami_region_kms_keys\": {\"eu-west-1\": \"${second_key}\"}}" \
    -e '{"share_ami_organizational_units": []}' -e "{\"share_ami_organizational_unit_arns\": [\"${sandbox_ou}\"]}" \
    -e share_ami_state=absent -e share_ami_revoke_kms=true "$@" | tee rekey_revoke.log
check_copies eu-west-1 "${rekey_id}" "${sandbox_ou}" --shared 0 --unshared 2 --failed 1 --key "${second_key}" --path "${sandbox_path}" --granted no
check_copies eu-west-1 "${rekey_id}" "${sandbox_ou}" --key "${first_key}" --path "${sandbox_path}" --granted no

# 11. A region key of another account (a central key account, here the member): found before the first write. By
# default the run stops, naming the key and its account, and nothing is copied; with share_ami_foreign_keys=report the
# copy is made under that key and shared, and the statements its owner must add are printed, ready to run there.
central_id=$(var vars_central.json share_ami_image_ids 0)
central_key=$(var vars_central.json share_ami_region_kms_keys eu-west-1)
member_id=$(var ../../integration_config.yml orgshare_world member_account id)
if ansible-playbook orgshare.aws.share_ami -e @vars_central.json "$@" > central_fail.log 2>&1; then
    echo "a key of another account did not stop the run"; exit 1
fi
tr -s ' \n' ' ' < central_fail.log | grep -q "The key ${central_key} belongs to account ${member_id}"
check_copies eu-west-1 "${central_id}" "${security_ou}" --shared 0 --unshared 0 --pending 0
ansible-playbook orgshare.aws.share_ami -e @vars_central.json -e share_ami_foreign_keys=report "$@" 2>&1 | tee central_report.log
tr -s ' \n' ' ' < central_report.log | grep -q "${central_key} belongs to account ${member_id}, and only that account can change its policy"
check_copies eu-west-1 "${central_id}" "${security_ou}" --shared 1 --unshared 0
ansible-playbook orgshare.aws.share_ami -e @vars_central.json -e share_ami_foreign_keys=report "$@" 2>&1 | tee central_report_2.log
[ "$(recap_changed central_report_2.log)" -eq 0 ]
