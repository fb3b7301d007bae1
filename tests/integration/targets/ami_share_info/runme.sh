#!/usr/bin/env bash
# The audit (orgshare.aws.ami_share_info) on an estate with a scenario for every finding, a clean one, the consumer's
# side, bad input, read-only with IAM enforced; what it says about launches checked against launches; and the
# collection playbook orgshare.aws.audit, whose report must match its JSON and whose exit code gates on severity.
set -eux -o pipefail

config=../../integration_config.yml
# ansible-test copies only the tests and plugins; the policy, and the emulator's code check.py uses, are read from
# the checkout the emulator runs from.
emulator_pythonpath=$(python -c 'import json,sys; print(json.load(open(sys.argv[1]))["emulator_pythonpath"])' "${config}")
policy=${emulator_pythonpath}/../docs/iam-audit-policy.json
mkdir -p results reports
python prepare.py "${config}" setup.json "${policy}"
ansible-playbook scenarios.yml -e @"${config}" -e @setup.json "$@"
PYTHONPATH="${emulator_pythonpath}" python check.py "${config}" setup.json results

# The collection playbook: the report and the JSON, each written whole; one line per finding; the gate.
prefix=$(python -c 'import json; print(json.load(open("setup.json"))["setup"]["prefix"])')
endpoint=$(python -c 'import json,sys; print(json.load(open(sys.argv[1]))["aws_endpoint_url"])' "${config}")
common=(-e "{\"audit_aws\": {\"endpoint_url\": \"${endpoint}\", \"region\": \"us-east-1\", \"access_key\": \"testing\", \"secret_key\": \"testing\"}, \"audit_regions\": [\"us-east-1\", \"eu-west-1\"],
          \"audit_name_patterns\": [\"${prefix}-*\"]}")
# A public image is critical: the default gate (high) fails the run, and says so; the report is written anyway.
if ansible-playbook orgshare.aws.audit "${common[@]}" -e audit_report_path="${PWD}/reports/audit.md" "$@" | tee reports/gated.log; then
    echo "the audit playbook should have failed on the critical finding" >&2
    exit 1
fi
grep -q "finding(s) at or above high" reports/gated.log
grep -q "CRITICAL public_image us-east-1" reports/gated.log
python check_report.py reports/audit.md markdown reports/audit.json
# With audit_fail_severity none it succeeds; the HTML report matches as well.
ansible-playbook orgshare.aws.audit "${common[@]}" -e audit_fail_severity=none -e audit_report_format=html \
    -e audit_report_path="${PWD}/reports/audit.html" "$@"
python check_report.py reports/audit.html html reports/audit.json
# Under --check too: the audit reads, the report is written.
rm reports/audit.md
ansible-playbook orgshare.aws.audit "${common[@]}" -e audit_fail_severity=none -e audit_report_path="${PWD}/reports/audit.md" --check "$@"
python check_report.py reports/audit.md markdown reports/audit.json
