# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""How every module of the collection runs: one place where the exception type becomes fail_json, and where
O(state) picks ``ensure_present`` or ``ensure_absent``."""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule


def run_module(argument_spec, ensure, module_args=None, **fixed_result):
    """Build the module (check mode supported), run ``ensure(module)`` and exit with its result.

    An AnsibleAWSError (OrgShareError included) becomes ``fail_json`` with its message, and with the
    keyword arguments it was raised with as further result keys (data the operator needs to act on the
    failure); ``module_args`` are further AnsibleAWSModule arguments (``mutually_exclusive``...);
    ``fixed_result`` adds keys every result has (``changed=False`` for info modules).
    """
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True, **(module_args or {}))
    try:
        result = ensure(module)
    except AnsibleAWSError as e:
        extra = getattr(e, "kwargs", None) or {}
        if not extra:
            module.fail_json_aws_error(e)
        if e.exception:
            module.fail_json_aws(e.exception, msg=e.message, **extra)
        module.fail_json(msg=e.message, **extra)
    module.exit_json(**fixed_result, **result)


PURGE_IGNORED = "purge only applies with state=present; it is ignored with state=absent."


def by_state(ensure_present, ensure_absent):
    """The ``ensure(module)`` of a module with O(state) and O(purge): ``ensure_present`` or ``ensure_absent`` by the state.

    O(purge) only makes sense with V(present); with V(absent) it is ignored, with a warning that says so.
    """

    def ensure(module):
        if module.params["state"] == "present":
            return ensure_present(module)
        if module.params["purge"]:
            module.warn(PURGE_IGNORED)
        return ensure_absent(module)

    return ensure
