#!/usr/bin/env bash
# Creates in AWX (API v2, AWX 24.6.1) what running orgshare.aws.share_ami needs, with curl and jq:
# the execution environment, the project, an Amazon Web Services credential, a localhost inventory,
# and the two job templates of job_template_share.json and job_template_audit.json, each with the
# survey of survey_share_ami.json and the credential. It creates: run it once (a second run stops
# at the first name AWX already has); setup_awx.yml (awx.awx) is the one to run again and again.
#
#   export AWX_HOST=https://awx.example.com AWX_USERNAME=admin AWX_PASSWORD=...
#   export ORGSHARE_EE_IMAGE=registry.example.com/automation/orgshare-aws-ee:0.1.0
#   export ORGSHARE_PROJECT_URL=https://git.example.com/platform/orgshare.aws.git
#   export AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=...   # the sharing account's IAM user
#   bash docs/awx/create_with_api.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
organization="${AWX_ORGANIZATION:-Default}"
branch="${ORGSHARE_PROJECT_BRANCH:-main}"

api() {  # api METHOD PATH [BODY]: one call, its JSON answer on stdout; fails on any HTTP error
    local method="$1" path="$2"
    shift 2
    curl --fail-with-body --silent --show-error --user "${AWX_USERNAME}:${AWX_PASSWORD}" \
        --header "Content-Type: application/json" --request "${method}" "${AWX_HOST%/}/api/v2/${path}" "$@"
}

id_of() {  # id_of PATH NAME: the ID of the object named NAME in the list at PATH
    api GET "$1?name=$(jq -rn --arg name "$2" '$name | @uri')" | jq -e '.results[0].id'
}

org_id="$(id_of organizations/ "${organization}")"

ee_id="$(jq -n --arg image "${ORGSHARE_EE_IMAGE}" --argjson org "${org_id}" \
    '{name: "orgshare.aws", image: $image, pull: "missing", organization: $org}' |
    api POST execution_environments/ --data @- | jq .id)"

project_id="$(jq -n --arg url "${ORGSHARE_PROJECT_URL}" --arg branch "${branch}" --argjson org "${org_id}" --argjson ee "${ee_id}" \
    '{name: "orgshare.aws", organization: $org, scm_type: "git", scm_url: $url, scm_branch: $branch,
      scm_update_on_launch: true, default_environment: $ee}' |
    api POST projects/ --data @- | jq .id)"
# A job template names a playbook of the project, so the project's first sync must be done.
while :; do
    status="$(api GET "projects/${project_id}/" | jq -r .status)"
    case "${status}" in
        successful) break ;;
        failed | error | canceled) echo "the first sync of project ${project_id} ended ${status}" >&2; exit 1 ;;
    esac
    sleep 5
done

aws_type_id="$(id_of credential_types/ "Amazon Web Services")"
credential_id="$(jq -n --arg key "${AWS_ACCESS_KEY_ID}" --arg secret "${AWS_SECRET_ACCESS_KEY}" \
    --argjson org "${org_id}" --argjson type "${aws_type_id}" \
    '{name: "AMI sharing account", organization: $org, credential_type: $type,
      inputs: {username: $key, password: $secret}}' |
    api POST credentials/ --data @- | jq .id)"

inventory_id="$(jq -n --argjson org "${org_id}" '{name: "AMI sharing", organization: $org}' |
    api POST inventories/ --data @- | jq .id)"
jq -n '{name: "localhost", variables: "ansible_connection: local\nansible_python_interpreter: \"{{ ansible_playbook_python }}\"\n"}' |
    api POST "inventories/${inventory_id}/hosts/" --data @- > /dev/null

for template in job_template_share.json job_template_audit.json; do
    template_id="$(jq --argjson project "${project_id}" --argjson inventory "${inventory_id}" --argjson ee "${ee_id}" \
        '. + {project: $project, inventory: $inventory, execution_environment: $ee}' "${here}/${template}" |
        api POST job_templates/ --data @- | jq .id)"
    api POST "job_templates/${template_id}/credentials/" --data "{\"id\": ${credential_id}}" > /dev/null
    api POST "job_templates/${template_id}/survey_spec/" --data @"${here}/survey_share_ami.json" > /dev/null
    echo "job template ${template_id}: $(jq -r .name "${here}/${template}")"
done
