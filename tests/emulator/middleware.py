"""WSGI middleware around moto's app: per-(service, action) call counter, fault injection and
the ``/_emulator/`` control endpoints.

Every signed AWS request is counted (faulted ones included). Requests the emulator makes
for itself (seeding, assuming roles) carry ``INTERNAL_HEADER`` and are neither counted nor
faulted; so are the control endpoints and moto's own ``/moto-api/``.
"""

from __future__ import annotations

import io
import json
import re
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

from .faults import Fault, FaultInjector, FaultRule, error_response

CONTROL_PREFIX = "/_emulator/"
INTERNAL_HEADER = "X-Orgshare-Emulator-Internal"
_INTERNAL_ENVIRON_KEY = "HTTP_" + INTERNAL_HEADER.upper().replace("-", "_")
# SigV4: "Credential=<key id>/<date>/<region>/<service>/aws4_request", in the Authorization
# header or, for presigned URLs, the X-Amz-Credential query parameter.
_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request")
UNKNOWN_ACTION = "Unknown"
UNKNOWN_REGION = "unknown"

StartResponse = Callable[..., Any]


class CallCounter:
    """Thread-safe counts of calls and of injected faults per service and action, and of calls per region too."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: defaultdict[str, Counter] = defaultdict(Counter)
        self._faults: defaultdict[str, Counter] = defaultdict(Counter)
        self._by_region: defaultdict[str, defaultdict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))

    def record(self, service: str, action: str, faulted: bool, region: str | None = None) -> None:
        """Count one call (in ``region``, the region its signature names), and one fault when it was answered with an injected error."""
        with self._lock:
            self._calls[service][action] += 1
            self._by_region[region or UNKNOWN_REGION][service][action] += 1
            if faulted:
                self._faults[service][action] += 1

    def snapshot(self) -> dict[str, Any]:
        """``{"calls": {service: {action: n}}, "faults": {...}, "by_region": {region: {service: {action: n}}}}``, a copy."""
        with self._lock:
            by_region = {region: _plain(counts) for region, counts in self._by_region.items() if _plain(counts)}
            return {"calls": _plain(self._calls), "faults": _plain(self._faults), "by_region": by_region}

    def reset(self) -> None:
        """Forget every count."""
        with self._lock:
            self._calls.clear()
            self._faults.clear()
            self._by_region.clear()


# Every EC2, KMS, Organizations and STS action that changes something starts with one of these verbs; the reads
# start with Describe, Get or List.
WRITE_PREFIXES = (
    "Create",
    "Modify",
    "Put",
    "Delete",
    "Copy",
    "Register",
    "Deregister",
    "Enable",
    "Disable",
    "Replace",
    "Reset",
    "Revoke",
    "Schedule",
    "Cancel",
    "Tag",
    "Untag",
    "Move",
    "Attach",
    "Detach",
    "Update",
    "Run",
    "Terminate",
)


def write_calls(calls: dict[str, dict[str, int]]) -> dict[str, int]:
    """The calls that change something among counted ``calls`` ({service: {action: n}}), as {"service:action": n}."""
    return {
        f"{service}:{action}": count
        for service, actions in sorted(calls.items())
        for action, count in sorted(actions.items())
        if action.startswith(WRITE_PREFIXES)
    }


def _plain(counts: dict[str, Counter]) -> dict[str, dict[str, int]]:
    return {service: dict(actions) for service, actions in counts.items() if actions}


def _credential_scope(environ: dict[str, Any]) -> re.Match[str] | None:
    match = _CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    if match is None:
        match = _CREDENTIAL_SCOPE.search(
            "Credential=" + parse_qs(environ.get("QUERY_STRING", "")).get("X-Amz-Credential", [""])[0]
        )
    return match


def service_of(environ: dict[str, Any]) -> str | None:
    """The signing service of a SigV4 request (``ec2``, ``kms``...), None when unsigned."""
    match = _credential_scope(environ)
    return match.group("service") if match else None


def region_of(environ: dict[str, Any]) -> str | None:
    """The region a SigV4 request is signed for (the client's region), None when unsigned."""
    match = _credential_scope(environ)
    return match.group("region") if match else None


def _read_body(environ: dict[str, Any]) -> bytes:
    """The request body, leaving an equivalent ``wsgi.input`` behind for moto to read."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def action_of(environ: dict[str, Any]) -> str:
    """The API action: the X-Amz-Target operation (JSON protocols, e.g. ``TrentService.PutKeyPolicy``)
    or the ``Action`` parameter of the query string or form body (query/EC2 protocols)."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return target.rsplit(".", 1)[-1]
    action = parse_qs(environ.get("QUERY_STRING", "")).get("Action")
    if not action and environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        action = parse_qs(_read_body(environ).decode("utf-8", "replace")).get("Action")
    return action[0] if action else UNKNOWN_ACTION


def _json_response(start_response: StartResponse, status: str, payload: Any) -> list[bytes]:
    body = json.dumps(payload, sort_keys=True).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def _seconds(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"{name} must be a number of seconds, got {value!r}")
    return float(value)


def _count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a whole number, 0 or more, got {value!r}")
    return value


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false, got {value!r}")
    return value


def current_settings() -> dict[str, Any]:
    """The emulator's behaviour switches (README, "Control API"), each with its current value."""
    from moto import settings  # pylint: disable=import-outside-toplevel

    from .patches import copy_limits, ebs_defaults, kms, kms_principals, visibility  # pylint: disable=import-outside-toplevel
    from .patches.amis import COPY_PENDING  # pylint: disable=import-outside-toplevel

    return {
        "copy_pending_seconds": COPY_PENDING["seconds"],
        "enforce_iam": settings.INITIAL_NO_AUTH_ACTION_COUNT == 0,
        "ebs_encryption_by_default": dict(ebs_defaults.PRESET_REGIONS),
        "key_policy_read_lag_seconds": kms.KEY_POLICY_READ_LAG["seconds"],
        "image_visibility_lag_seconds": visibility.IMAGE_VISIBILITY_LAG["seconds"],
        "put_key_policy_checks_principals": kms_principals.PRINCIPAL_CHECKS["on"],
        "concurrent_copies_per_region": copy_limits.CONCURRENT_COPIES["per_region"],
    }


def change_settings(data: Any) -> dict[str, Any]:
    """Apply some of the switches ``current_settings()`` lists (any may be left out); ValueError if invalid.

    ``enforce_iam`` makes moto authenticate every request and authorize it against the
    caller's IAM policies (moto's INITIAL_NO_AUTH_ACTION_COUNT, read at each request):
    from then on only IAM users' keys work, which is how least privilege is tested.
    Nothing changes unless every value given is valid.
    """
    from moto import settings  # pylint: disable=import-outside-toplevel

    from .patches import copy_limits, ebs_defaults, kms, kms_principals, visibility  # pylint: disable=import-outside-toplevel
    from .patches.amis import COPY_PENDING  # pylint: disable=import-outside-toplevel

    parsers = {
        "copy_pending_seconds": _seconds,
        "enforce_iam": _flag,
        "ebs_encryption_by_default": lambda _name, value: ebs_defaults.preset_regions(value),
        "key_policy_read_lag_seconds": _seconds,
        "image_visibility_lag_seconds": _seconds,
        "put_key_policy_checks_principals": _flag,
        "concurrent_copies_per_region": _count,
    }
    if not isinstance(data, dict) or set(data) - set(parsers):
        raise ValueError(f"settings take {', '.join(parsers)}")
    values = {name: parsers[name](name, value) for name, value in data.items()}
    if "copy_pending_seconds" in values:
        COPY_PENDING["seconds"] = values["copy_pending_seconds"]
    if "enforce_iam" in values:
        settings.INITIAL_NO_AUTH_ACTION_COUNT = 0 if values["enforce_iam"] else float("inf")
    if "ebs_encryption_by_default" in values:
        ebs_defaults.PRESET_REGIONS.clear()
        ebs_defaults.PRESET_REGIONS.update(values["ebs_encryption_by_default"])
    if "key_policy_read_lag_seconds" in values:
        kms.set_key_policy_read_lag(values["key_policy_read_lag_seconds"])
    if "image_visibility_lag_seconds" in values:
        visibility.IMAGE_VISIBILITY_LAG["seconds"] = values["image_visibility_lag_seconds"]
    if "put_key_policy_checks_principals" in values:
        kms_principals.PRINCIPAL_CHECKS["on"] = values["put_key_policy_checks_principals"]
    if "concurrent_copies_per_region" in values:
        copy_limits.CONCURRENT_COPIES["per_region"] = values["concurrent_copies_per_region"]
    return current_settings()


_DENIED = re.compile(rb"<Code>AccessDenied</Code><Message>(?P<message>[^<]*)</Message>")
# How each service denies a caller its IAM policy does not allow: KMS and Organizations
# (JSON protocol) with HTTP 400 and AccessDeniedException, EC2 with HTTP 403 and
# UnauthorizedOperation. moto answers all of them with an XML AccessDenied and HTTP 403,
# which botocore cannot even parse for the JSON services.
_DENIAL_AS = {
    "kms": ("AccessDeniedException", 400),
    "organizations": ("AccessDeniedException", 400),
    "ec2": ("UnauthorizedOperation", 403),
}


def _aws_style_access_denied(
    app: Callable[..., Iterable[bytes]], service: str, environ: dict[str, Any], start_response: StartResponse
) -> Iterable[bytes]:
    """Serve the call, re-dressing moto's IAM denial as the one the service really sends."""
    captured: dict[str, Any] = {}

    def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], Any]:
        captured.update(status=status, headers=headers, exc_info=exc_info)
        return lambda _data: None

    body = b"".join(app(environ, capture))
    denied = _DENIED.search(body) if captured["status"].startswith("403") else None
    if denied is None:
        start_response(captured["status"], captured["headers"], captured["exc_info"])
        return [body]
    code, http_status = _DENIAL_AS[service]
    message = denied.group("message").decode("utf-8", "replace")
    status, headers, error_body = error_response(service, Fault(code, http_status, message))
    start_response(f"{status} {HTTPStatus(status).phrase}", headers)
    return [error_body]


class EmulatorMiddleware:
    """Counts and optionally faults AWS calls before they reach ``app`` (moto's WSGI app)."""

    def __init__(self, app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]]) -> None:
        self.app = app
        self.counter = CallCounter()
        self.faults = FaultInjector()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith(CONTROL_PREFIX):
            return self._control(environ, start_response)
        service = service_of(environ)
        if service is None or environ.get(_INTERNAL_ENVIRON_KEY):
            return self.app(environ, start_response)
        action = action_of(environ)
        fault = self.faults.pick(service, action)
        self.counter.record(service, action, faulted=fault is not None, region=region_of(environ))
        if fault is None:
            if service in _DENIAL_AS:
                return _aws_style_access_denied(self.app, service, environ, start_response)
            return self.app(environ, start_response)
        status, headers, body = error_response(service, fault)
        start_response(f"{status} {HTTPStatus(status).phrase}", headers)
        return [body]

    def _control(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        """The control API: /_emulator/health, /_emulator/calls, /_emulator/faults, /_emulator/settings."""
        resource = environ["PATH_INFO"][len(CONTROL_PREFIX) :].strip("/")
        method = environ.get("REQUEST_METHOD", "GET")
        handlers = {
            ("health", "GET"): lambda: {"status": "ok"},
            ("calls", "GET"): self.counter.snapshot,
            ("calls", "DELETE"): self._reset_calls,
            ("faults", "GET"): self._current_faults,
            ("faults", "PUT"): lambda: self._set_faults(environ),
            ("faults", "DELETE"): self._clear_faults,
            ("settings", "GET"): current_settings,
            ("settings", "PUT"): lambda: change_settings(json.loads(_read_body(environ) or b"{}")),
        }
        if resource not in {name for name, _method in handlers}:
            return _json_response(start_response, "404 Not Found", {"error": f"no such control resource: {resource!r}"})
        if (resource, method) not in handlers:
            return _json_response(
                start_response, "405 Method Not Allowed", {"error": f"{method} is not allowed on {resource}"}
            )
        try:
            return _json_response(start_response, "200 OK", handlers[(resource, method)]())
        except ValueError as error:
            return _json_response(start_response, "400 Bad Request", {"error": str(error)})

    def _reset_calls(self) -> dict[str, Any]:
        self.counter.reset()
        return self.counter.snapshot()

    def _current_faults(self) -> dict[str, Any]:
        rule = self.faults.rule
        return {"rule": rule.to_dict() if rule else None}

    def _set_faults(self, environ: dict[str, Any]) -> dict[str, Any]:
        try:
            data = json.loads(_read_body(environ) or b"null")
        except ValueError as error:
            raise ValueError(f"the fault rule is not valid JSON: {error}") from error
        self.faults.configure(FaultRule.from_dict(data))
        return self._current_faults()

    def _clear_faults(self) -> dict[str, Any]:
        self.faults.configure(None)
        return self._current_faults()
