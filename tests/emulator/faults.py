"""Fault rules and the error responses each AWS service would send, in its own wire format.

The responses are built so that botocore parses them like real ones: the error code
lands in ``ClientError.response["Error"]["Code"]`` and the HTTP status drives botocore's
own retry handler (throttles and 5xx are retried by botocore before the caller sees them).
"""

from __future__ import annotations

import json
import random
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

THROTTLE = "throttle"
SERVER_ERROR = "5xx"

# Wire protocol of each service the collection calls (botocore metadata "protocol").
PROTOCOLS = {"ec2": "ec2", "sts": "query", "kms": "json", "organizations": "json"}

# (code, HTTP status) that each service answers when throttling / failing internally.
_THROTTLES = {
    "ec2": ("RequestLimitExceeded", 503),
    "kms": ("ThrottlingException", 400),
    "organizations": ("TooManyRequestsException", 400),
    "sts": ("Throttling", 400),
}
_SERVER_ERRORS = {
    "ec2": ("InternalError", 500),
    "kms": ("KMSInternalException", 500),
    "organizations": ("ServiceException", 500),
    "sts": ("InternalFailure", 500),
}
DEFAULT_SERVICES = ("ec2", "kms", "organizations")
_INJECTED = "(fault injected by the orgshare emulator)"


@dataclass(frozen=True)
class Fault:
    """One injected error: what the service answers instead of doing the call."""

    code: str
    status: int
    message: str


def fault_for(service: str, error: str) -> Fault:
    """The fault ``service`` answers for ``error``: "throttle", "5xx" or an explicit code (HTTP 400)."""
    if error == THROTTLE:
        return Fault(*_THROTTLES[service], f"Rate exceeded {_INJECTED}.")
    if error == SERVER_ERROR:
        return Fault(*_SERVER_ERRORS[service], f"An internal error has occurred {_INJECTED}.")
    return Fault(error, 400, f"{error} {_INJECTED}.")


@dataclass(frozen=True)
class FaultRule:
    """Which calls fail, how often and with what. ``services``/``actions`` None match all.

    ``skip`` lets the first matching calls through untouched and ``limit`` (None: no limit)
    caps how many faults the rule injects; together they fail exactly "the second write",
    which is how a test interrupts a batch halfway.
    """

    rate: float
    error: str
    services: tuple[str, ...] | None = DEFAULT_SERVICES
    actions: tuple[str, ...] | None = None
    seed: int = 0
    skip: int = 0
    limit: int | None = None

    @classmethod
    def from_dict(cls, data: dict) -> "FaultRule":
        """Build and validate a rule from its JSON form (the PUT /_emulator/faults body)."""
        if not isinstance(data, dict):
            raise ValueError("the fault rule must be a JSON object")
        unknown = set(data) - {"rate", "error", "services", "actions", "seed", "skip", "limit"}
        if unknown:
            raise ValueError(f"unknown fault rule fields: {sorted(unknown)}")
        return cls(
            rate=data.get("rate", 1.0),
            error=data.get("error", THROTTLE),
            services=as_tuple(data.get("services", DEFAULT_SERVICES)),
            actions=as_tuple(data.get("actions")),
            seed=data.get("seed", 0),
            skip=data.get("skip", 0),
            limit=data.get("limit"),
        )

    def __post_init__(self) -> None:
        if isinstance(self.rate, bool) or not isinstance(self.rate, (int, float)) or not 0 <= self.rate <= 1:
            raise ValueError(f"rate must be a number from 0 to 1, got {self.rate!r}")
        if not isinstance(self.error, str) or not self.error:
            raise ValueError(f"error must be 'throttle', '5xx' or an error code, got {self.error!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ValueError(f"seed must be an integer, got {self.seed!r}")
        if isinstance(self.skip, bool) or not isinstance(self.skip, int) or self.skip < 0:
            raise ValueError(f"skip must be a whole number, got {self.skip!r}")
        if self.limit is not None and (
            isinstance(self.limit, bool) or not isinstance(self.limit, int) or self.limit < 0
        ):
            raise ValueError(f"limit must be a whole number or null, got {self.limit!r}")
        for service in self.services or PROTOCOLS:
            if service not in PROTOCOLS:
                raise ValueError(f"faults can be injected into {sorted(PROTOCOLS)} only, not {service!r}")

    def matches(self, service: str, action: str) -> bool:
        """Whether a call of ``service``/``action`` is subject to this rule."""
        in_services = service in (self.services or PROTOCOLS)
        return in_services and (self.actions is None or action in self.actions)

    def to_dict(self) -> dict:
        """The JSON form of the rule (GET /_emulator/faults)."""
        return {
            "rate": self.rate,
            "error": self.error,
            "services": _as_list(self.services),
            "actions": _as_list(self.actions),
            "seed": self.seed,
            "skip": self.skip,
            "limit": self.limit,
        }


def as_tuple(values: Iterable[str] | str | None) -> tuple[str, ...] | None:
    """``values`` as a tuple; a lone string is one value; None stays None (meaning all)."""
    if values is None:
        return None
    if isinstance(values, str):
        return (values,)
    return tuple(values)


def _as_list(values: tuple[str, ...] | None) -> list[str] | None:
    return list(values) if values is not None else None


@dataclass
class FaultInjector:
    """Decides, deterministically for a given seed and call order, which calls fail."""

    rule: FaultRule | None = None
    _random: random.Random = field(default_factory=random.Random)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _matched: int = 0
    _injected: int = 0

    def configure(self, rule: FaultRule | None) -> None:
        """Install ``rule`` (None clears it) and restart its random sequence and counts."""
        with self._lock:
            self.rule = rule
            self._random = random.Random(rule.seed if rule else 0)
            self._matched = self._injected = 0

    def pick(self, service: str | None, action: str) -> Fault | None:
        """The fault to answer this call with, or None to let it through."""
        with self._lock:
            rule = self.rule
            if rule is None or service is None or not rule.matches(service, action):
                return None
            self._matched += 1
            if self._matched <= rule.skip or (rule.limit is not None and self._injected >= rule.limit):
                return None
            # Draw for every matching call, so the sequence depends on the seed and call order only.
            if self._random.random() >= rule.rate:
                return None
            self._injected += 1
            return fault_for(service, rule.error)


def error_response(service: str, fault: Fault) -> tuple[int, list[tuple[str, str]], bytes]:
    """(status, headers, body) of ``fault`` in ``service``'s wire format."""
    request_id = str(uuid.uuid4())
    code, status, message = fault.code, fault.status, fault.message
    protocol = PROTOCOLS[service]
    if protocol == "json":
        body = json.dumps({"__type": code, "message": message}).encode()
        content_type = "application/x-amz-json-1.1"
    elif protocol == "ec2":
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{escape(code)}</Code>'
            f"<Message>{escape(message)}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>"
        ).encode()
        content_type = "text/xml;charset=UTF-8"
    else:
        body = (
            f"<ErrorResponse><Error><Type>{'Receiver' if status >= 500 else 'Sender'}</Type><Code>{escape(code)}</Code>"
            f"<Message>{escape(message)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        content_type = "text/xml"
    headers = [("Content-Type", content_type), ("Content-Length", str(len(body))), ("x-amzn-RequestId", request_id)]
    return status, headers, body
