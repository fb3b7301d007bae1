# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""How every module of the collection runs: one place where the exception type becomes fail_json, where O(state)
picks ``ensure_present`` or ``ensure_absent``, and where the boto3 clients come from."""

import threading

try:
    import boto3
    import botocore.config
    import botocore.exceptions
except ImportError:
    pass  # AnsibleAWSModule reports a missing botocore/boto3 itself.

from ansible.module_utils.ansible_release import __version__ as ansible_version

from ansible_collections.amazon.aws.plugins.module_utils.botocore import get_aws_connection_info
from ansible_collections.amazon.aws.plugins.module_utils.common import get_collection_info
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule


class OrgShareModule(AnsibleAWSModule):
    """AnsibleAWSModule whose clients all come from one boto3 session.

    AnsibleAWSModule.client makes a new boto3 session for every client, and each session reads and parses the
    service's model again: about 0.15 s of CPU for each EC2 client. A module that works in several regions asks for an
    EC2 and a KMS client in each; from one session, they share the parsed models (the module's memory too). The
    connection settings are amazon.aws's own (``get_aws_connection_info``: credentials, profile, endpoint, region,
    certificates, O(aws_config)), and so is the user agent. Clients are made under a lock: a boto3 session is not
    thread-safe, while its clients are, and the modules make them from worker threads.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._sessions = {}
        self._client_lock = threading.Lock()

    def client(self, service, retry_decorator=None, **extra_params):
        if retry_decorator is not None:  # not used by this collection's modules: amazon.aws's own way
            return super().client(service, retry_decorator, **extra_params)
        region, endpoint_url, params = get_aws_connection_info(self)
        params.update(dict(region=region, endpoint=endpoint_url))
        params.update(extra_params)
        try:
            with self._client_lock:
                return self._new_client(service, **params)
        except botocore.exceptions.NoRegionError:
            self.fail_json(
                msg=f"The {self._name} module requires a region and none was found in configuration, "
                "environment variables or module parameters",
            )
        except (ValueError, botocore.exceptions.BotoCoreError) as e:
            self.fail_json_aws(e, msg="Couldn't connect to AWS")

    def _new_client(
        self, service, region=None, endpoint=None, profile_name=None, config=None, aws_config=None, **params
    ):
        info = get_collection_info()
        merged = botocore.config.Config(
            user_agent=f"APN/1.0 Ansible/{ansible_version} {info['name']}/{info['version']}"
        )
        for extra in (config, aws_config):
            if extra:
                merged = merged.merge(
                    extra if isinstance(extra, botocore.config.Config) else botocore.config.Config(**extra)
                )
        if profile_name not in self._sessions:
            self._sessions[profile_name] = boto3.session.Session(profile_name=profile_name)
        return self._sessions[profile_name].client(
            service, config=merged, region_name=region, endpoint_url=endpoint, **params
        )


def run_module(argument_spec, ensure, module_args=None, **fixed_result):
    """Build the module (check mode supported), run ``ensure(module)`` and exit with its result.

    An AnsibleAWSError (OrgShareError included) becomes ``fail_json`` with its message, and with the
    keyword arguments it was raised with as further result keys (data the operator needs to act on the
    failure); ``module_args`` are further AnsibleAWSModule arguments (``mutually_exclusive``...);
    ``fixed_result`` adds keys every result has (``changed=False`` for info modules).
    """
    module = OrgShareModule(argument_spec=argument_spec, supports_check_mode=True, **(module_args or {}))
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
