#!/usr/bin/env bash
# What a consumer gets, from the consumer's side: accounts launch instances (RunInstances with
# their own credentials) from what the share_ami role shared, in the source region and from
# the re-encrypted copy in the other region. An account in the shared OU can; an account in a
# sibling OU and one outside the organization cannot; a launch permission without the key grant
# gets an instance that ends terminated with Client.InternalError; after the share is revoked
# nobody can. The same for a whole-organization share. launch.py uses boto3 only.
set -eux -o pipefail

config=../../integration_config.yml
endpoint=$(python -c 'import json,sys; print(json.load(open(sys.argv[1]))["emulator_url"])' "${config}")
var() { python -c 'import json,sys; v=json.load(open(sys.argv[1])); [v:=v[int(k) if isinstance(v, list) else k] for k in sys.argv[2:]]; print(v)' "$@"; }
# launch WHO REGION (IMAGE | --copy-of SOURCE) EXPECTED
launch() { python launch.py "${endpoint}" "${config}" "$2" "$1" "${@:3:$#-3}" --expect "${@: -1}"; }
recap_changed() {
    grep -E '^[a-z0-9.-]+ +: ok=' "$1" | sed -E 's/.*changed=([0-9]+).*/\1/' | paste -sd+ | bc
}

ansible-playbook prepare.yml -e @"${config}" "$@"
ou_ami=$(var vars_ou.json share_ami_image_ids 0)
org_ami=$(var vars_org.json share_ami_image_ids 0)
no_grant_ami=$(var vars_no_grant.json share_ami_image_ids 0)

# 1. Nothing is shared yet: nobody but the owner can launch.
launch member us-east-1 "${ou_ami}" refused

# 2. Share with Root/Workloads/Prod in us-east-1 (the AMI itself) and eu-west-1 (a copy under that region's key).
ansible-playbook orgshare.aws.share_ami -e @vars_ou.json --check --diff "$@" | tee ou_audit.log
[ "$(recap_changed ou_audit.log)" -gt 0 ]
launch member us-east-1 "${ou_ami}" refused   # the audit wrote nothing
ansible-playbook orgshare.aws.share_ami -e @vars_ou.json "$@"
launch member us-east-1 "${ou_ami}" running
launch member eu-west-1 --copy-of "${ou_ami}" running
for who in dev outsider; do
    launch "${who}" us-east-1 "${ou_ami}" refused
    launch "${who}" eu-west-1 --copy-of "${ou_ami}" refused
done
ansible-playbook orgshare.aws.share_ami -e @vars_ou.json "$@" | tee ou_again.log
[ "$(recap_changed ou_again.log)" -eq 0 ]

# 3. A launch permission without the key grant: the member sees the AMI, and its instance is terminated at launch.
ansible-playbook orgshare.aws.share_ami -e @vars_no_grant.json "$@"
launch member us-east-1 "${no_grant_ami}" terminated
launch dev us-east-1 "${no_grant_ami}" refused

# 4. Revoke the OU share, keys included: the member cannot launch any more, in either region.
ansible-playbook orgshare.aws.share_ami -e @vars_ou.json -e share_ami_state=absent -e share_ami_revoke_kms=true "$@"
launch member us-east-1 "${ou_ami}" refused
launch member eu-west-1 --copy-of "${ou_ami}" refused

# 5. A whole-organization share: both members can launch, the outsider cannot; after revoking, nobody can.
ansible-playbook orgshare.aws.share_ami -e @vars_org.json "$@"
for who in member dev; do
    launch "${who}" us-east-1 "${org_ami}" running
    launch "${who}" eu-west-1 --copy-of "${org_ami}" running
done
launch outsider us-east-1 "${org_ami}" refused
launch outsider eu-west-1 --copy-of "${org_ami}" refused
ansible-playbook orgshare.aws.share_ami -e @vars_org.json -e share_ami_state=absent -e share_ami_revoke_kms=true "$@"
for who in member dev; do
    launch "${who}" us-east-1 "${org_ami}" refused
    launch "${who}" eu-west-1 --copy-of "${org_ami}" refused
done
