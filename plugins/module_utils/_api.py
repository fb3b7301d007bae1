# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What every API module shares: error mapping, pagination, batching, bounded concurrency.

Each AWS call lives in a small function of ``_ec2.py``, ``_kms.py`` or
``_organizations.py``, retried with jittered backoff and wrapped once by
:func:`api_call`, which turns botocore errors into :class:`OrgShareError` with
a message that says what was being done (and, for known codes, why and how to fix it).
"""

import functools
from concurrent.futures import ThreadPoolExecutor

try:
    import botocore
    import botocore.session
except ImportError:
    pass  # AnsibleAWSModule reports a missing botocore/boto3 itself.

from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler

from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareError


class ErrorRule:
    """Map some AWS error codes to an exception type and a message.

    ``template`` is formatted with ``what`` (the call's description), ``code`` and
    ``region`` (the region of the client that made the call).
    """

    def __init__(self, codes, template, exception_type=OrgShareError):
        self.codes = frozenset([codes] if isinstance(codes, str) else codes)
        self.template = template
        self.exception_type = exception_type


# Codes with which AWS says "your IAM policy does not allow this call".
ACCESS_DENIED_CODES = frozenset(
    ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess")
)


def iam_action(client, exception):
    """The IAM action (``ec2:DescribeImages``) behind a failed call, or None when it cannot be told."""
    operation = getattr(exception, "operation_name", None)
    try:
        prefix = client.meta.service_model.endpoint_prefix
    except AttributeError:
        return None
    return f"{prefix}:{operation}" if operation else None


def error_code(exception):
    """The AWS error code of a botocore ClientError, else None."""
    response = getattr(exception, "response", None) or {}
    return response.get("Error", {}).get("Code")


def aws_cause(exception):
    """What AWS answered, as ``Code: message`` (for a ClientError), else the exception's text; None for no exception."""
    if exception is None:
        return None
    error = (getattr(exception, "response", None) or {}).get("Error", {})
    if error.get("Code"):
        return f"{error['Code']}: {error['Message']}" if error.get("Message") else error["Code"]
    return str(exception)


def denied_hint(client, exception):
    """For an access-denied error, the IAM action the caller's policy may be missing (else "")."""
    action = iam_action(client, exception) if error_code(exception) in ACCESS_DENIED_CODES else None
    return (
        f" (if the caller's IAM policy is what denies it, it needs {action}; see docs/iam-policy.json)"
        if action
        else ""
    )


def client_region(client):
    """The region a client calls (for messages): its configured region name."""
    return getattr(getattr(client, "meta", None), "region_name", None) or "the client's region"


class ErrorHandler(AWSErrorHandler):
    """amazon.aws's AWSErrorHandler, raising :class:`OrgShareError`, with what the collection's calls need besides.

    amazon.aws's ``common_error_handler`` turns a botocore error into ``Failed to <description>`` and one exception
    type; :meth:`api_call` keeps that shape and message and does more, which is why the collection does not use
    ``common_error_handler`` itself: the description is formatted with the call's positional arguments (amazon.aws 9.0.0,
    the oldest release this collection supports, formats nothing, and later releases format named parameters only);
    :class:`ErrorRule` gives known AWS error codes a message that says why and how to fix it, and an exception type of
    their own; and an access denial names the IAM action the caller's policy may lack.
    """

    _CUSTOM_EXCEPTION = OrgShareError

    @classmethod
    def api_call(cls, description, rules=()):
        """Decorate a function ``f(client, *args)`` making one AWS call (or one paginated listing).

        ``description`` reads after "Failed to ..." and is formatted with the positional arguments that follow the client.
        """

        def decorate(func):
            @functools.wraps(func)
            def call(client, *args):
                what = description.format(*args)
                try:
                    return func(client, *args)
                except botocore.exceptions.ClientError as e:
                    code = error_code(e)
                    hint = denied_hint(client, e)
                    for rule in rules:
                        if code in rule.codes:
                            # fail_json_aws appends ": <AWS error>", so the message ends without a full stop.
                            message = (
                                rule.template.format(what=what, code=code, region=client_region(client)).rstrip(".")
                                + hint
                            )
                            raise rule.exception_type(message, exception=e) from e
                    raise cls._CUSTOM_EXCEPTION(message=f"Failed to {what}{hint}", exception=e) from e
                except botocore.exceptions.BotoCoreError as e:
                    raise cls._CUSTOM_EXCEPTION(message=f"Failed to {what}", exception=e) from e

            return call

        return decorate


api_call = ErrorHandler.api_call


@functools.lru_cache(maxsize=1)
def _botocore_session():
    """One botocore session per process for botocore's region and partition data: each new session parses the
    endpoint data again."""
    return botocore.session.get_session()


def partition_of_region(region):
    """The partition (``aws``, ``aws-cn``, ``aws-us-gov``, ``aws-iso-e``, ...) of a region, from botocore's
    partition data, so that partitions AWS adds come with botocore; None for a region botocore does not know."""
    try:
        return _botocore_session().get_partition_for_region(region)
    except (botocore.exceptions.UnknownRegionError, AttributeError, TypeError):
        # AttributeError: a botocore without the partition lookup; TypeError: no region at all.
        return None


@functools.lru_cache(maxsize=None)
def _known_regions(service):
    try:
        session = _botocore_session()
        return tuple(
            (region, partition)
            for partition in session.get_available_partitions()
            for region in session.get_available_regions(service, partition_name=partition)
        )
    except (AttributeError, botocore.exceptions.BotoCoreError):
        return ()


def known_regions(service):
    """Every region of every partition in which the installed botocore knows ``service`` ({region: partition}); empty when
    botocore cannot say."""
    return dict(_known_regions(service))


def list_all(client, operation, **params):
    """Every page of a paginated call merged into one result (pages may be empty)."""
    return client.get_paginator(operation).paginate(**params).build_full_result()


class Outcome:
    """The result of one call made by :func:`map_bounded`: a value or an exception."""

    __slots__ = ("item", "value", "error")

    def __init__(self, item, value=None, error=None):
        self.item, self.value, self.error = item, value, error


def raise_first_error(outcomes):
    """Raise the error of the first :class:`Outcome` that has one (once every call has finished), if any."""
    for outcome in outcomes:
        if outcome.error is not None:
            raise outcome.error


def map_bounded(func, items, max_workers):
    """Call ``func(item)`` for every item, at most ``max_workers`` at a time.

    Returns one :class:`Outcome` per item, in input order; exceptions are
    captured, not raised, so the caller sees every success and every failure.
    """
    items = list(items)

    def attempt(item):
        try:
            return Outcome(item, value=func(item))
        except Exception as e:  # pylint: disable=broad-exception-caught
            return Outcome(item, error=e)

    if max_workers <= 1 or len(items) <= 1:
        return [attempt(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(max_workers, len(items))) as pool:
        return list(pool.map(attempt, items))
