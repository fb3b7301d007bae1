#!/usr/bin/env bash
# Reliability of the share_ami role on the emulator: throttling and 5xx storms, runs cut
# off between steps, two runs racing on one AMI, and no secret in any log. Each scenario
# ends with the AWS state read back (../share_ami/verify.yml) and, where it applies, a
# second run that changes nothing. The figures go to reliability-figures.txt.
set -eux -o pipefail

config=(-e @../../integration_config.yml)
endpoint=$(python -c 'import json,sys; print(json.load(open(sys.argv[1]))["emulator_url"])' ../../integration_config.yml)
verify() { ansible-playbook ../share_ami/verify.yml "${config[@]}" "$@"; }
recap_changed() { grep -E '^[a-z0-9.-]+ +: ok=' "$1" | sed -E 's/.*changed=([0-9]+).*/\1/' | paste -sd+ | bc; }
control() { curl -sf -X "$1" -H 'Content-Type: application/json' ${3:+--data "$3"} "${endpoint}/_emulator/$2"; }
injected() { control GET calls | python -c 'import json,sys; print(sum(sum(a.values()) for a in json.load(sys.stdin)["faults"].values()))'; }
var() { python -c 'import json,sys; v=json.load(open(sys.argv[1])); [v:=v[k] for k in sys.argv[2:]]; print(v)' ../../integration_config.yml "$@"; }
share() { ansible-playbook orgshare.aws.share_ami -e "@vars_$1.json" "${@:2}"; }

ansible-playbook prepare.yml "${config[@]}" "$@"
: > reliability-figures.txt

# 1-2. 40 % of EC2, KMS and Organizations calls throttled, then 40 % answered with a 5xx.
for storm in throttle:throttle server_error:5xx; do
    scenario=${storm%%:*}; error=${storm##*:}
    control DELETE calls > /dev/null
    control PUT faults "{\"rate\": 0.4, \"error\": \"${error}\", \"services\": [\"ec2\", \"kms\", \"organizations\"], \"seed\": 7}" > /dev/null
    share "${scenario}" "$@" | tee "${scenario}_1.log"
    faults=$(injected)
    control DELETE faults > /dev/null
    [ "${faults}" -gt 0 ]
    verify -e "@vars_${scenario}.json" -e expect=shared "$@"
    share "${scenario}" "$@" | tee "${scenario}_2.log"
    [ "$(recap_changed "${scenario}_2.log")" -eq 0 ]
    echo "${scenario}: ${faults} faults injected (${error}, 40%), converged in one run, second run changed=0" >> reliability-figures.txt
done

# 3. Cut off after the key grants and before the share: every ModifyImageAttribute fails.
control PUT faults '{"rate": 1.0, "error": "UnauthorizedOperation", "services": ["ec2"], "actions": ["ModifyImageAttribute"]}' > /dev/null
if share cut_before_share "$@" > cut_before_share_1.log 2>&1; then echo "the cut run did not fail"; exit 1; fi
control DELETE faults > /dev/null
grep -q "Changing the launch permissions of" cut_before_share_1.log
share cut_before_share "$@" | tee cut_before_share_2.log
verify -e @vars_cut_before_share.json -e expect=shared "$@"
share cut_before_share "$@" | tee cut_before_share_3.log
[ "$(recap_changed cut_before_share_3.log)" -eq 0 ]
echo "cut_before_share: failed after the grants, converged on the next run, third run changed=0" >> reliability-figures.txt

# 4. Cut off while a copy is pending: the next run finds that copy instead of making another.
control PUT settings '{"copy_pending_seconds": 6}' > /dev/null
control DELETE calls > /dev/null
if share cut_during_copy -e share_ami_wait_timeout=1 "$@" > cut_during_copy_1.log 2>&1; then echo "the cut run did not fail"; exit 1; fi
grep -q "was still pending after 1 seconds" cut_during_copy_1.log
share cut_during_copy "$@" | tee cut_during_copy_2.log
control PUT settings '{"copy_pending_seconds": 0}' > /dev/null
copies=$(control GET calls | python -c 'import json,sys; print(json.load(sys.stdin)["calls"]["ec2"]["CopyImage"])')
[ "${copies}" -eq 1 ]
verify -e @vars_cut_during_copy.json -e expect=shared "$@"
echo "cut_during_copy: failed while the copy was pending, the next run waited for that copy (CopyImage calls: ${copies})" >> reliability-figures.txt

# 5. Two runs on one AMI at the same moment, sharing with different OUs: both end up shared.
share race_dev -e '{"share_ami_organizational_units": ["Root/Workloads/Dev"]}' "$@" > race_1.log 2>&1 &
first=$!
share race_dev -e '{"share_ami_organizational_units": ["Root/Security"]}' "$@" > race_2.log 2>&1 &
second=$!
wait "${first}"
wait "${second}"
verify -e @vars_race_dev.json -e '{"share_ami_organizational_units": ["Root/Workloads/Dev", "Root/Security"]}' -e expect=shared "$@"
echo "race: two concurrent runs with different OUs, both OUs in the launch permissions and the key policy" >> reliability-figures.txt

# 6. Secrets never reach the output, even at -vvv. (xtrace is off around the run: it would
# print the test's own command line, canaries included, into the log under test.)
canary_secret="orgshare-canary-secret-$RANDOM$RANDOM"
canary_token="orgshare-canary-token-$RANDOM$RANDOM"
{ set +x; } 2> /dev/null
share secrets -vvv -e "{\"share_ami_aws\": {\"endpoint_url\": \"${endpoint}\", \"access_key\": \"testing\", \"secret_key\": \"${canary_secret}\", \"session_token\": \"${canary_token}\"}}" > secrets.log 2>&1
set -x
if grep -q -e "${canary_secret}" -e "${canary_token}" secrets.log; then
    echo "a secret reached the output:"; grep -n -o -e ".\{0,160\}${canary_secret}" -e ".\{0,160\}${canary_token}" secrets.log | head -5; exit 1
fi
grep -q "PLAY RECAP" secrets.log  # the run itself worked, with those credentials
echo "secrets: secret key and session token absent from a -vvv run's $(wc -l < secrets.log) lines of output" >> reliability-figures.txt

# 7. A hostile world: EBS encryption by default in eu-west-1 with a customer-managed default key
# (no region key given), key policies read back 2 s stale, new copies invisible for 3 s, copies
# pending 8 s, and another writer adding a statement to that key while the role runs. The role
# converges, a second run changes nothing, and nothing is lost: the writer's statement, the key's
# own statement, and the source's account and public launch permissions.
hostile_id=$(PYTHONPATH=$(var emulator_pythonpath) python -m emulator images --endpoint "${endpoint}" --count 1 --prefix hostile \
    | python -c 'import json,sys; print(json.load(sys.stdin)[0]["image_id"])')
outsider_id=$(var orgshare_world outsider_account id)
prod_arn=$(var orgshare_world organizational_units Root/Workloads/Prod arn)
prod_path=$(var orgshare_world organizational_units Root/Workloads/Prod path)
default_key=$(python hostile.py "${endpoint}" setup "${hostile_id}" "${outsider_id}")
control PUT settings '{"ebs_encryption_by_default": ["eu-west-1"], "key_policy_read_lag_seconds": 2,
    "image_visibility_lag_seconds": 3, "copy_pending_seconds": 8}' > /dev/null
# The throttle scenario's variables (two regions, Root/Workloads/Prod) for the unencrypted image, with no region key.
python -c 'import json,sys; v=json.load(open("vars_throttle.json")); v.update(share_ami_image_ids=[sys.argv[1]], share_ami_region_kms_keys={}); json.dump(v, open("vars_hostile.json", "w"))' "${hostile_id}"
python hostile.py "${endpoint}" writer "${hostile_id}" "${default_key}" > hostile_writer.log 2>&1 &
writer=$!
share hostile "$@" | tee hostile_1.log
wait "${writer}"
cat hostile_writer.log
python hostile.py "${endpoint}" check "${hostile_id}" "${default_key}" "${prod_arn}" "${prod_path}*" "${outsider_id}"
share hostile "$@" | tee hostile_2.log
[ "$(recap_changed hostile_2.log)" -eq 0 ]
control PUT settings '{"ebs_encryption_by_default": {}, "key_policy_read_lag_seconds": 0, "image_visibility_lag_seconds": 0,
    "copy_pending_seconds": 0}' > /dev/null
python hostile.py "${endpoint}" reset
echo "hostile: encryption by default, 2 s key-policy lag, 3 s image lag and a concurrent writer: converged, second run changed=0, nothing lost" >> reliability-figures.txt

cat reliability-figures.txt
