"""Client of the control API of an emulator that is already running (``/_emulator/...``)."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterable
from typing import Any

from botocore.config import Config

from .clients import DEFAULT_ACCOUNT_ID, DEFAULT_REGION, assume_role_credentials, make_client
from .faults import DEFAULT_SERVICES, FaultRule, as_tuple


class EmulatorControl:
    """The ``Emulator`` API (clients, counters, faults) for an emulator running elsewhere.

    Everything goes over HTTP, so it works from another process, including a fork of the
    one that runs the emulator (which is how ansible-test runs each unit test).
    """

    def __init__(self, endpoint_url: str, timeout: float = 10.0) -> None:
        self.endpoint_url = endpoint_url.rstrip("/")
        self.timeout = timeout
        self._credentials: dict[str, dict[str, Any]] = {}

    def credentials(self, account_id: str | None = None) -> dict[str, Any]:
        """boto3 keyword credentials of ``account_id`` (default: moto's 123456789012), as ``Emulator.credentials``."""
        account_id = account_id or DEFAULT_ACCOUNT_ID
        if account_id not in self._credentials:
            self._credentials[account_id] = assume_role_credentials(self.endpoint_url, account_id)
        return dict(self._credentials[account_id])

    def client(
        self,
        service: str,
        region: str = DEFAULT_REGION,
        account_id: str | None = None,
        config: Config | None = None,
        credentials: dict[str, Any] | None = None,
    ) -> Any:
        """A boto3 client of ``service`` on the emulator, acting as ``account_id`` (or with explicit ``credentials``)."""
        return make_client(
            self.endpoint_url, service, region, credentials=credentials or self.credentials(account_id), config=config
        )

    def _request(self, method: str, resource: str, payload: Any = None) -> Any:
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(
            f"{self.endpoint_url}/_emulator/{resource}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # nosec B310 - a local test endpoint
            return json.loads(response.read())

    def health(self) -> bool:
        """Whether the emulator answers."""
        return self._request("GET", "health") == {"status": "ok"}

    def counts(self) -> dict[str, Any]:
        """``{"calls": {...}, "faults": {...}, "by_region": {...}}`` in one request."""
        return self._request("GET", "calls")

    def calls(self) -> dict[str, dict[str, int]]:
        """Every AWS request received, per service and action (faulted ones included)."""
        return self.counts()["calls"]

    def calls_by_region(self) -> dict[str, dict[str, dict[str, int]]]:
        """Every AWS request received, per region (as its signature names it), service and action."""
        return self.counts()["by_region"]

    def faults_injected(self) -> dict[str, dict[str, int]]:
        """The requests answered with an injected fault, per service and action."""
        return self.counts()["faults"]

    def reset_calls(self) -> None:
        """Clear both counters."""
        self._request("DELETE", "calls")

    def faults(self) -> dict[str, Any] | None:
        """The current fault rule, None when none."""
        return self._request("GET", "faults")["rule"]

    def set_faults(
        self,
        rate: float = 1.0,
        error: str = "throttle",
        services: Iterable[str] | None = DEFAULT_SERVICES,
        actions: Iterable[str] | None = None,
        seed: int = 0,
        skip: int = 0,
        limit: int | None = None,
    ) -> None:
        """Answer a share ``rate`` of matching calls with ``error`` ("throttle", "5xx" or an error code)."""
        rule = FaultRule(
            rate=rate,
            error=error,
            services=as_tuple(services),
            actions=as_tuple(actions),
            seed=seed,
            skip=skip,
            limit=limit,
        )
        self._request("PUT", "faults", rule.to_dict())

    def clear_faults(self) -> None:
        """Stop injecting faults."""
        self._request("DELETE", "faults")

    def settings(self, **changes: Any) -> dict[str, Any]:
        """Read, or change (``copy_pending_seconds=``, ``enforce_iam=``), the emulator's behaviour switches."""
        return self._request("PUT", "settings", changes) if changes else self._request("GET", "settings")


def control(endpoint_url: str) -> EmulatorControl:
    """An ``EmulatorControl`` for the emulator at ``endpoint_url``."""
    return EmulatorControl(endpoint_url)
