"""The maintainer password: where it comes from, a constant-time check, slowed-down retries."""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Mapping

from core.paths import PASSWORD_ENV, secret_or_env

SECRET_KEY = "maintainer_password"


def maintainer_secret(secrets: Mapping | None = None) -> str | None:
    """The configured password: ``st.secrets["maintainer_password"]`` first, else ``$QTL_MAINTAINER_PASSWORD``."""
    return secret_or_env(secrets, SECRET_KEY, PASSWORD_ENV)


class Throttle:
    """Failed attempts wait longer each time (per key, e.g. a session), shared by the process."""

    def __init__(self, base_s: float = 1.0, max_s: float = 30.0):
        self.base_s, self.max_s = base_s, max_s
        self._failures: dict[str, int] = {}
        self._blocked_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait_s(self, key: str) -> float:
        with self._lock:
            return max(0.0, self._blocked_until.get(key, 0.0) - time.monotonic())

    def failed(self, key: str) -> float:
        with self._lock:
            count = self._failures.get(key, 0) + 1
            self._failures[key] = count
            delay = min(self.max_s, self.base_s * 2 ** (count - 1))
            self._blocked_until[key] = time.monotonic() + delay
            return delay

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)
            self._blocked_until.pop(key, None)


THROTTLE = Throttle()


def check_password(given: str, secret: str | None, key: str = "global", throttle: Throttle = THROTTLE) -> tuple[bool, str]:
    """(unlocked, message). Never echoes the secret; a wrong try blocks ``key`` for a growing delay."""
    if not secret:
        return False, f"The maintainer panel is disabled: set {PASSWORD_ENV} or '{SECRET_KEY}' in .streamlit/secrets.toml."
    wait = throttle.wait_s(key)
    if wait > 0:
        return False, f"Too many wrong tries: wait {wait:.0f} s before trying again."
    if hmac.compare_digest(given.encode(), secret.encode()):
        throttle.succeeded(key)
        return True, "Unlocked."
    delay = throttle.failed(key)
    return False, f"Wrong password. The next try is possible in {delay:.0f} s."
