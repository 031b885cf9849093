"""Where IBM jobs go: the maintainer's account (token, instance, device) or local test mode on a fake device.

Credentials come from ``st.secrets`` (passed in as a Mapping; core never imports
Streamlit) or the environment; they are never shown or logged. docs/ibm.md
says what differs with a real account.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.execution.noise import DEFAULT_NOISE_DEVICE
from core.paths import IBM_BACKEND_ENV as BACKEND_ENV
from core.paths import IBM_CHANNEL_ENV as CHANNEL_ENV
from core.paths import IBM_INSTANCE_ENV as INSTANCE_ENV
from core.paths import IBM_LOCAL_ENV as LOCAL_ENV
from core.paths import IBM_TOKEN_ENV as TOKEN_ENV
from core.paths import secret_or_env

# qiskit-ibm-runtime's modules are imported inside the functions that use them: the explorer imports this module on every visit.

SECRET_KEYS = {"token": "ibm_token", "instance": "ibm_instance", "backend": "ibm_backend", "channel": "ibm_channel"}
DEFAULT_CHANNEL = "ibm_quantum_platform"
DEFAULT_LOCAL_DEVICE = DEFAULT_NOISE_DEVICE
LOCAL_LABEL = "local test mode (fake device, nothing is sent)"

_SERVICES: dict[tuple, Any] = {}


class IBMError(RuntimeError):
    """The IBM backend cannot be used as asked (no credentials, a bad cache file, a failed job)."""


@dataclass(frozen=True)
class Connection:
    """Where jobs go: ``mode`` "cloud" (a real account) or "local" (a fake device, nothing sent)."""

    mode: str
    backend: str | None = None  # requested device; None: the least busy one (cloud)
    channel: str = DEFAULT_CHANNEL
    instance: str | None = None
    token: str | None = field(default=None, repr=False, compare=False)

    @property
    def label(self) -> str:
        if self.mode == "local":
            return f"{self.backend} — {LOCAL_LABEL}"
        return f"IBM Quantum ({self.backend or 'least busy device'})"




def connection(secrets: Mapping | None = None) -> Connection | None:
    """The configured connection: local test mode if ``$QTL_IBM_LOCAL``, else the account, else None."""
    local = os.environ.get(LOCAL_ENV, "").strip()
    if local and local.lower() not in ("0", "false", "no", "off"):
        device = DEFAULT_LOCAL_DEVICE if local.lower() in ("1", "true", "yes", "on") else local
        return Connection("local", device)
    token = secret_or_env(secrets, SECRET_KEYS["token"], TOKEN_ENV)
    if not token:
        return None
    return Connection(
        "cloud",
        backend=secret_or_env(secrets, SECRET_KEYS["backend"], BACKEND_ENV),
        channel=secret_or_env(secrets, SECRET_KEYS["channel"], CHANNEL_ENV) or DEFAULT_CHANNEL,
        instance=secret_or_env(secrets, SECRET_KEYS["instance"], INSTANCE_ENV),
        token=token,
    )


def configured(secrets: Mapping | None = None) -> bool:
    """Whether the IBM backend is usable: a token (real account) or ``$QTL_IBM_LOCAL`` (local test mode)."""
    return connection(secrets) is not None


def how_to_enable() -> str:
    """What a maintainer sets to enable the backend (names only, never values)."""
    return (f"To send circuits to IBM Quantum, set `{TOKEN_ENV}` and `{INSTANCE_ENV}` (optionally `{BACKEND_ENV}`, "
            f"else the least busy device is used), or the keys `{SECRET_KEYS['token']}`, `{SECRET_KEYS['instance']}`, "
            f"`{SECRET_KEYS['backend']}` in `.streamlit/secrets.toml`. To try it without an account, "
            f"`{LOCAL_ENV}={DEFAULT_LOCAL_DEVICE}` runs the same path in qiskit-ibm-runtime's local test mode "
            "(fake device, nothing is sent).")


def redact(text: str, conn: Connection) -> str:
    return text.replace(conn.token, "***") if conn.token else text


def fake_device(name: str):
    """A fake IBM device of qiskit-ibm-runtime (``fake_manila``, ``fake_sherbrooke``, ...)."""
    from core.execution.noise import NOISE_DEVICES, fake_backend

    if name in NOISE_DEVICES:
        return fake_backend(name)
    from qiskit.providers.exceptions import QiskitBackendNotFoundError
    from qiskit_ibm_runtime.fake_provider import FakeProviderForBackendV2

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return FakeProviderForBackendV2().backend(name)
        except QiskitBackendNotFoundError as exc:
            raise IBMError(f"{LOCAL_ENV}={name}: no such fake device in qiskit-ibm-runtime (try {DEFAULT_LOCAL_DEVICE})") from exc


def service(conn: Connection):
    from qiskit_ibm_runtime import QiskitRuntimeService

    cache_key = (conn.channel, conn.instance, hashlib.sha256((conn.token or "").encode()).hexdigest())
    if cache_key not in _SERVICES:
        try:
            _SERVICES[cache_key] = QiskitRuntimeService(channel=conn.channel, token=conn.token, instance=conn.instance)
        except Exception as exc:
            raise IBMError(f"could not connect to IBM Quantum: {redact(str(exc), conn)}") from None
    return _SERVICES[cache_key]


def device_for(conn: Connection, n_qubits: int):
    """The device jobs run on: the fake one (local), the configured one, or the least busy with enough qubits."""
    if conn.mode == "local":
        return fake_device(conn.backend or DEFAULT_LOCAL_DEVICE)
    runtime = service(conn)
    try:
        if conn.backend:
            return runtime.backend(conn.backend)
        return runtime.least_busy(operational=True, simulator=False, min_num_qubits=n_qubits)
    except Exception as exc:
        raise IBMError(f"no IBM device: {redact(str(exc), conn)}") from None
