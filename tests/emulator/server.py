"""The emulator: moto's WSGI app with the fidelity patches, behind the counting/faulting
middleware, served by werkzeug's threaded server on 127.0.0.1 in a background thread."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from botocore.config import Config
from moto.moto_api._internal import moto_api_backend
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from .clients import DEFAULT_REGION
from .control import EmulatorControl
from .faults import DEFAULT_SERVICES, FaultRule, as_tuple
from .middleware import EmulatorMiddleware, change_settings
from .patches import apply_patches

# The behaviour switches of a fresh emulator: copies available at once, IAM not enforced, no
# region with EBS encryption by default unless an account enables it, key policies read back and
# new copies seen at once, key policy principals not checked, concurrent copies unlimited.
DEFAULT_SETTINGS = {
    "copy_pending_seconds": 0,
    "enforce_iam": False,
    "ebs_encryption_by_default": {},
    "key_policy_read_lag_seconds": 0,
    "image_visibility_lag_seconds": 0,
    "put_key_policy_checks_principals": False,
    "concurrent_copies_per_region": 0,
}
# How often the serving loop checks for shutdown: bounds how long stop() takes.
_POLL_INTERVAL = 0.05


class _QuietRequestHandler(MotoRequestHandler):
    """moto's request handler without werkzeug's line per request on stderr."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        """Log nothing for successful requests; errors are still logged."""


class Emulator:
    """A local AWS endpoint for orgshare.aws: ``with Emulator() as emu: emu.client("ec2")``.

    moto keeps its state in process-wide globals, so one emulator (or one ``mock_aws``) runs
    per process at a time; starting one resets moto's state unless ``reset=False``.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, reset: bool = True, quiet: bool = True) -> None:
        self.host, self.port = host, port
        self.reset = reset
        self.quiet = quiet
        self.middleware = EmulatorMiddleware(DomainDispatcherApplication(create_backend_app))
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._remote: EmulatorControl | None = None  # clients and credentials, once the port is known

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> "Emulator":
        """Apply the patches, reset moto's state and serve in a background thread."""
        if self._server is not None:
            raise RuntimeError(f"the emulator is already running at {self.endpoint_url}")
        apply_patches()
        if self.reset:
            moto_api_backend.reset()
            change_settings(DEFAULT_SETTINGS)
        handler = _QuietRequestHandler if self.quiet else MotoRequestHandler
        self._server = make_server(self.host, self.port, self.middleware, threaded=True, request_handler=handler)
        self.port = self._server.server_port
        self._remote = EmulatorControl(self.endpoint_url)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": _POLL_INTERVAL},
            name=f"orgshare-emulator-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port (idempotent)."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join()
        if server is not None:
            change_settings(DEFAULT_SETTINGS)  # the switches are process-wide: leave none on
        self._remote = None  # assumed-role credentials die with moto's state

    @property
    def running(self) -> bool:
        """Whether the server thread is serving."""
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    @property
    def endpoint_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    # --- clients -----------------------------------------------------------------------------
    def credentials(self, account_id: str | None = None) -> dict[str, Any]:
        """boto3 keyword credentials of ``account_id`` (default: moto's 123456789012, keys "testing").

        Other accounts are reached by STS AssumeRole into their OrganizationAccountAccessRole;
        the emulator's own AssumeRole call is not counted.
        """
        return self._running_remote().credentials(account_id)

    def client(
        self,
        service: str,
        region: str = DEFAULT_REGION,
        account_id: str | None = None,
        config: Config | None = None,
        credentials: dict[str, Any] | None = None,
    ) -> Any:
        """A boto3 client of ``service`` on the emulator, acting as ``account_id`` (or with explicit ``credentials``)."""
        return self._running_remote().client(service, region, account_id, config, credentials)

    def settings(self, **changes: Any) -> dict[str, Any]:
        """Read, or change (``copy_pending_seconds=``, ``enforce_iam=``...: README, "Control API"), the switches."""
        return self._running_remote().settings(**changes)

    def _running_remote(self) -> EmulatorControl:
        if self._remote is None:
            raise RuntimeError("the emulator is not running: start() it first")
        return self._remote

    # --- counters and faults ---------------------------------------------------------------
    def calls(self) -> dict[str, dict[str, int]]:
        """Every AWS request received per service and action, faulted ones included."""
        return self.middleware.counter.snapshot()["calls"]

    def calls_by_region(self) -> dict[str, dict[str, dict[str, int]]]:
        """Every AWS request received per region (as its signature names it), service and action."""
        return self.middleware.counter.snapshot()["by_region"]

    def faults_injected(self) -> dict[str, dict[str, int]]:
        """The requests answered with an injected fault, per service and action."""
        return self.middleware.counter.snapshot()["faults"]

    def reset_calls(self) -> None:
        """Clear both counters."""
        self.middleware.counter.reset()

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
        """Answer a share ``rate`` of matching calls with ``error`` ("throttle", "5xx" or an error code).

        ``services``/``actions`` None match every service/action. The choice is deterministic
        for a given ``seed`` and order of calls.
        """
        rule = FaultRule(
            rate=rate,
            error=error,
            services=as_tuple(services),
            actions=as_tuple(actions),
            seed=seed,
            skip=skip,
            limit=limit,
        )
        self.middleware.faults.configure(rule)

    def clear_faults(self) -> None:
        """Stop injecting faults."""
        self.middleware.faults.configure(None)
