"""The maintainer password: where it comes from, a constant-time check, and a throttle that guessing cannot reset.

Wrong tries are slowed two ways. Per client, keyed by the address the server
itself sees (a forwarded address only with ``QTL_TRUST_PROXY=1``), each wrong
try doubles that client's wait. For the whole process, once ``global_failures``
wrong tries fall within ``window_s`` (from any clients), every try anywhere
waits, and each further wrong try doubles that wait. So neither a reload (a new
session) nor a forged ``X-Forwarded-For`` header starts a clean slate. A try
made while a wait runs is refused unheard: the password is not even compared.
"""

from __future__ import annotations

import hmac
import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from core.paths import PASSWORD_ENV, TRUST_PROXY_ENV, secret_or_env

SECRET_KEY = "maintainer_password"
# 1 s doubling per client; after 10 wrong tries in 15 minutes from anywhere, one try per 1, 2, 4, ... 60 s for everyone.
# The window holds at least 10 tries made at the slowest pace (15 min / 60 s = 15), so a patient guesser stays slowed.
BASE_S, MAX_S, GLOBAL_FAILURES, WINDOW_S = 1.0, 60.0, 10, 900.0


def maintainer_secret(secrets: Mapping | None = None) -> str | None:
    """The configured password: ``st.secrets["maintainer_password"]`` first, else ``$QTL_MAINTAINER_PASSWORD``."""
    return secret_or_env(secrets, SECRET_KEY, PASSWORD_ENV)


def trust_proxy() -> bool:
    """Whether ``$QTL_TRUST_PROXY`` says a reverse proxy (and only it) reaches the server."""
    return os.environ.get(TRUST_PROXY_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def client_key(ip_address: str | None, headers: Mapping[str, str] | None, session_id: str | None,
               behind_proxy: bool | None = None) -> str:
    """Who is trying, for the throttle: the address the server sees, else the session.

    ``X-Forwarded-For`` is anyone's to write; only behind a trusted proxy (``behind_proxy``, default
    ``$QTL_TRUST_PROXY``) is its last entry, the one that proxy appended, taken as the client's address.
    """
    if behind_proxy is None:
        behind_proxy = trust_proxy()
    if behind_proxy and headers:
        forwarded = headers.get("X-Forwarded-For") or headers.get("x-forwarded-for") or ""
        last = forwarded.split(",")[-1].strip()
        if last:
            return f"forwarded:{last}"
    if isinstance(ip_address, str) and ip_address:  # AppTest's context gives a stand-in object
        return f"ip:{ip_address}"
    return f"session:{session_id or 'unknown'}"


@dataclass(frozen=True)
class Decision:
    """What the throttle made of one try: ``outcome`` "unlocked", "wrong" or "wait"; ``wait_s`` until the next is heard."""

    outcome: str
    wait_s: float


class Throttle:
    """Slowed-down retries, per client and for the whole process; ``clock`` (monotonic seconds) can be injected."""

    def __init__(self, base_s: float = BASE_S, max_s: float = MAX_S, global_failures: int = GLOBAL_FAILURES,
                 window_s: float = WINDOW_S, clock: Callable[[], float] = time.monotonic):
        self.base_s, self.max_s, self.global_failures, self.window_s, self.clock = base_s, max_s, global_failures, window_s, clock
        self._clients: dict[str, tuple[int, float, float]] = {}  # key -> (failures, blocked until, last failure)
        self._recent: deque[float] = deque()  # times of the wrong tries within the window, every client
        self._global_delay = 0.0
        self._global_until = 0.0
        self._lock = threading.Lock()

    def wait_s(self, key: str) -> float:
        """Seconds before a try from ``key`` is heard (0: now)."""
        with self._lock:
            return self._wait(key, self._forget())

    def attempt(self, key: str, correct: bool) -> Decision:
        """One try, decided in one locked step: refused while a wait runs, else counted as right or wrong."""
        with self._lock:
            now = self._forget()
            wait = self._wait(key, now)
            if wait > 0:
                return Decision("wait", wait)
            if correct:
                self._clients.pop(key, None)
                return Decision("unlocked", 0.0)
            failures = self._clients.get(key, (0, 0.0, 0.0))[0] + 1
            self._clients[key] = (failures, now + min(self.max_s, self.base_s * 2 ** (failures - 1)), now)
            self._recent.append(now)
            if len(self._recent) >= self.global_failures:
                self._global_delay = min(self.max_s, max(self.base_s, 2 * self._global_delay))
                self._global_until = now + self._global_delay
            return Decision("wrong", self._wait(key, now))

    def _wait(self, key: str, now: float) -> float:
        client_until = self._clients.get(key, (0, 0.0, 0.0))[1]
        return max(0.0, client_until - now, self._global_until - now)

    def _forget(self) -> float:
        """Drop what is older than the window (the memory stays bounded); the current time."""
        now = self.clock()
        while self._recent and now - self._recent[0] > self.window_s:
            self._recent.popleft()
        if len(self._recent) < self.global_failures:
            self._global_delay = 0.0  # a wait already running still runs out
        stale = [k for k, (_, until, last) in self._clients.items() if until <= now and now - last > self.window_s]
        for key in stale:
            del self._clients[key]
        return now


THROTTLE = Throttle()


class PasswordCheck(NamedTuple):
    ok: bool
    message: str
    wait_s: float = 0.0


def check_password(given: str, secret: str | None, key: str = "global", throttle: Throttle | None = None) -> PasswordCheck:
    """Unlock or not, with a message that never echoes the secret; ``throttle`` defaults to the process's ``THROTTLE``."""
    if not secret:
        return PasswordCheck(False, f"The maintainer panel is disabled: set {PASSWORD_ENV} or '{SECRET_KEY}' in "
                                    ".streamlit/secrets.toml.")
    correct = hmac.compare_digest(given.encode(), secret.encode())
    decision = (throttle or THROTTLE).attempt(key, correct)
    wait = math.ceil(decision.wait_s)
    if decision.outcome == "unlocked":
        return PasswordCheck(True, "Unlocked.")
    if decision.outcome == "wait":
        return PasswordCheck(False, f"Too many wrong tries: wait {wait} s before trying again.", decision.wait_s)
    return PasswordCheck(False, f"Wrong password. The next try is possible in {wait} s.", decision.wait_s)
