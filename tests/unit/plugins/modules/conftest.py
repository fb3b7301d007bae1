# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A stand-in for AnsibleAWSModule whose clients talk to the emulator.

Module logic (``describe_arns``, ``ensure``) runs unchanged on it, so the
emulator's counter shows exactly which AWS calls a run makes.
"""

import contextlib
import json
from unittest import mock

import botocore.config
import pytest
from ansible.module_utils import basic

from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareError

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core before 2.19 reads the arguments from basic._ANSIBLE_ARGS
    patch_module_args = None


class StandInModule:
    """What the modules use of AnsibleAWSModule: params, client(), warn(), region, check_mode, _diff."""

    def __init__(
        self,
        emulator,
        defaults,
        params,
        account_id=None,
        allow_calls=True,
        region="us-east-1",
        check_mode=False,
        diff=False,
        credentials=None,
    ):
        self.params = dict(defaults)
        self.params.update(params)
        self.region = region
        self.check_mode = check_mode
        self._diff = diff
        self.warnings = []
        self._emulator = emulator
        self._account_id = account_id
        self._credentials = credentials
        self._allow_calls = allow_calls

    def client(self, service, region=None, config=None):
        if not self._allow_calls:
            raise AssertionError(f"an AWS client for {service} was created, but this run must make no AWS call")
        # AnsibleAWSModule.client merges a dict ``config`` into botocore's Config; so does this.
        config = botocore.config.Config(**config) if isinstance(config, dict) else config
        return self._emulator.client(
            service,
            region=region or self.region,
            account_id=self._account_id,
            credentials=self._credentials,
            config=config,
        )

    def warn(self, message):
        self.warnings.append(message)


def defaults_of(module):
    """The parameters a module gets when none is given: the defaults of its ARGUMENT_SPEC (None where it has none)."""
    return {option: spec.get("default") for option, spec in module.ARGUMENT_SPEC.items()}


@pytest.fixture
def stand_in(emulator, world):  # pylint: disable=unused-argument
    """``stand_in(defaults, **params_and_options)`` builds a StandInModule on the session's emulator."""
    option_names = ("account_id", "allow_calls", "region", "check_mode", "diff", "credentials")

    def build(defaults, **kwargs):
        options = {name: kwargs.pop(name) for name in option_names if name in kwargs}
        return StandInModule(emulator, defaults, kwargs, **options)

    return build


@pytest.fixture
def runner_of(stand_in):
    """``runner_of(module, entry="ensure", **fixed)``: a function that runs the module's ``entry`` on a stand-in.

    Its keyword arguments are module options (over the module's defaults and ``fixed``) or stand-in options
    (``check_mode``, ``region``...)."""

    def make(module, entry="ensure", **fixed):
        defaults = dict(defaults_of(module), **fixed)

        def run(**kwargs):
            return getattr(module, entry)(stand_in(defaults, **kwargs))

        return run

    return make


@pytest.fixture
def refusal_of():
    """``refusal_of(run)``: a function that runs ``run``, which must fail, and returns the OrgShareError's message."""

    def make(run):
        def refused(**kwargs):
            with pytest.raises(OrgShareError) as err:
                run(**kwargs)
            return err.value.message

        return refused

    return make


@contextlib.contextmanager
def module_args(args):
    """The module arguments a module built inside this context reads, as Ansible hands them over."""
    if patch_module_args is not None:
        with patch_module_args(args):
            yield
        return
    with mock.patch.object(basic, "_ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode()):
        yield
