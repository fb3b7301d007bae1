#!/usr/bin/env bash
# `make demo`: runs inside `python -m emulator run --seed`, which started a
# local AWS endpoint, seeded an organization with nested OUs, customer-managed
# keys and AMIs, and exported AWS_ENDPOINT_URL / credentials / ORGSHARE_WORLD_FILE.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

export ANSIBLE_STDOUT_CALLBACK=ansible.builtin.default ANSIBLE_CALLBACK_RESULT_FORMAT=yaml ANSIBLE_DISPLAY_SKIPPED_HOSTS=false \
    ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false

echo "== Emulator at ${AWS_ENDPOINT_URL}, world in ${ORGSHARE_WORLD_FILE}"
ansible-playbook "${here}/demo.yml"
echo "== The share_ami role: the audit (--check), what a share would copy, grant and share, with the audit's findings"
ansible-playbook "${here}/demo_role.yml" --check
echo "== The share_ami role: the share, every region's copies at once"
ansible-playbook "${here}/demo_role.yml"
echo "== The share_ami role: the audit again, nothing left to change"
ansible-playbook "${here}/demo_role.yml" --check
echo "== API calls the demo made (from the emulator's counter):"
python -m emulator calls --endpoint "${AWS_ENDPOINT_URL}"
