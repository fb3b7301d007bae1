"""Client of the control API of an emulator that is already running (``/_emulator/...``)."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterable
from typing import Any

from .faults import DEFAULT_SERVICES, FaultRule, as_tuple


class EmulatorControl:
    """calls / reset_calls / set_faults / clear_faults over HTTP, as ``Emulator`` offers them in-process."""

    def __init__(self, endpoint_url: str, timeout: float = 10.0) -> None:
        self.endpoint_url = endpoint_url.rstrip("/")
        self.timeout = timeout

    def _request(self, method: str, resource: str, payload: Any = None) -> Any:
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(f"{self.endpoint_url}/_emulator/{resource}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # nosec B310 - a local test endpoint
            return json.loads(response.read())

    def health(self) -> bool:
        """Whether the emulator answers."""
        return self._request("GET", "health") == {"status": "ok"}

    def counts(self) -> dict[str, dict[str, dict[str, int]]]:
        """``{"calls": {...}, "faults": {...}}`` in one request."""
        return self._request("GET", "calls")

    def calls(self) -> dict[str, dict[str, int]]:
        """Every AWS request received, per service and action (faulted ones included)."""
        return self.counts()["calls"]

    def faults_injected(self) -> dict[str, dict[str, int]]:
        """The requests answered with an injected fault, per service and action."""
        return self.counts()["faults"]

    def reset_calls(self) -> None:
        """Clear both counters."""
        self._request("DELETE", "calls")

    def faults(self) -> dict[str, Any] | None:
        """The current fault rule, None when none."""
        return self._request("GET", "faults")["rule"]

    def set_faults(self, rate: float = 1.0, error: str = "throttle", services: Iterable[str] | None = DEFAULT_SERVICES,
                   actions: Iterable[str] | None = None, seed: int = 0,
                   skip: int = 0, limit: int | None = None) -> None:
        """Answer a share ``rate`` of matching calls with ``error`` ("throttle", "5xx" or an error code)."""
        rule = FaultRule(rate=rate, error=error, services=as_tuple(services), actions=as_tuple(actions), seed=seed, skip=skip, limit=limit)
        self._request("PUT", "faults", rule.to_dict())

    def clear_faults(self) -> None:
        """Stop injecting faults."""
        self._request("DELETE", "faults")


def control(endpoint_url: str) -> EmulatorControl:
    """An ``EmulatorControl`` for the emulator at ``endpoint_url``."""
    return EmulatorControl(endpoint_url)
