"""The browser's network clock: when each WebSocket frame left chromium and when each arrived (DevTools Protocol).

Chromium's network service stamps a frame as it is sent and as it is received, on one monotonic clock, before the
page's renderer handles it. With twenty pages drawing on two cores a renderer can be seconds late to read a message;
the span from a page's request to the server's answer by this clock is the server's share without the page's own
delay (the loopback adds nothing measurable).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field

VERDICT_PATTERN = "### (no_)?mask "  # a face's verdict, "### no_mask — 97.3%", verbatim in the protobuf bytes
VERDICT = re.compile(VERDICT_PATTERN.encode())


@dataclass
class FrameClock:
    """Frames of one page, in seconds of chromium's monotonic clock."""

    sent: list[float] = field(default_factory=list)
    received: list[float] = field(default_factory=list)
    verdicts: list[float] = field(default_factory=list)  # received frames that carry a face's verdict

    @classmethod
    async def attach(cls, page) -> FrameClock:
        """Start recording ``page``'s frames (before it opens its WebSocket)."""
        clock = cls()
        session = await page.context.new_cdp_session(page)
        session.on("Network.webSocketFrameSent", lambda event: clock.sent.append(event["timestamp"]))
        session.on("Network.webSocketFrameReceived", clock.on_received)
        await session.send("Network.enable")
        return clock

    def on_received(self, event: dict) -> None:
        self.received.append(event["timestamp"])
        frame = event["response"]
        payload = frame["payloadData"]  # text for opcode 1, else base64
        data = payload.encode() if frame["opcode"] == 1 else base64.b64decode(payload)
        if VERDICT.search(data):
            self.verdicts.append(event["timestamp"])

    def opening_s(self) -> float:
        """The page's first request → the last frame it had received so far (call when the page is ready)."""
        return self.received[-1] - self.sent[0] if self.sent and self.received else float("nan")

    def served_s(self, sent_before: int) -> float:
        """The first request after the page's first ``sent_before`` requests → the last verdict's frame."""
        later = self.sent[sent_before:]
        return self.verdicts[-1] - later[0] if later and self.verdicts else float("nan")
