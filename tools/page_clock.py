"""A page's own clock: when its title appeared and when Streamlit's script run ended, read inside chromium.

:func:`tools.browser.open_page_timed` polls from Python: each answer costs a round
trip to a renderer that is busy drawing the page, and it waits 150 ms before it
looks for the end of the run, so it reads late (0.2-0.5 s on two cores). The
page's clock records each change as it happens (a MutationObserver started
before the page's own scripts), counted from the moment Python asked for the
page, so both clocks start at the same instant.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from tools.browser import DEFAULT_PAGE, TITLES, open_page_timed

# window.__qtlClock: {origin: performance.timeOrigin (ms since the epoch), titles: {h1 text: ms}, states: [[state, ms]]}
CLOCK_JS = """
(() => {
  const clock = window.__qtlClock = {origin: performance.timeOrigin, titles: {}, states: []};
  const look = () => {
    const app = document.querySelector('[data-testid="stApp"]');
    const state = app && app.getAttribute('data-test-script-state');
    const last = clock.states[clock.states.length - 1];
    if (state && (!last || last[0] !== state)) clock.states.push([state, performance.now()]);
    for (const h of document.querySelectorAll('h1')) {
      const text = h.textContent.trim();
      if (text && !(text in clock.titles)) clock.titles[text] = performance.now();
    }
  };
  new MutationObserver(look).observe(document, {subtree: true, childList: true, attributes: true});
})();
"""

SETTLE_MS = 300  # after the polled end, long enough for a rerun that follows at once to start


@dataclass
class PageTimes:
    """Seconds from asking for the page: by the page's clock, and as polled from Python."""

    shown_s: float  # the page's title in the DOM
    complete_s: float  # the last script run ended
    shown_polled_s: float
    complete_polled_s: float


def open_page_clocked(page, url: str, name: str, timeout_ms: float = 60_000) -> PageTimes:
    """Load page ``name`` in a fresh ``page`` (no document loaded yet) and time it by both clocks."""
    page.add_init_script(CLOCK_JS)
    asked_ms = time.time() * 1000
    shown_polled, complete_polled = open_page_timed(page, url, name, timeout_ms)
    page.wait_for_timeout(SETTLE_MS)
    clock = page.evaluate("window.__qtlClock")
    return page_times(clock, asked_ms, TITLES[name or DEFAULT_PAGE], shown_polled, complete_polled)


def page_times(clock: dict, asked_ms: float, title: str, shown_polled_s: float, complete_polled_s: float) -> PageTimes:
    """:class:`PageTimes` from a page's recorded clock; a ValueError if the run had not ended or the title never showed."""
    states = clock["states"]
    if not states or states[-1][0] != "notRunning" or not any(state == "running" for state, _ in states):
        raise ValueError(f"the page's script run had not ended: {states}")
    shown = [ms for text, ms in clock["titles"].items() if title in text]
    if not shown:
        raise ValueError(f"no title with {title!r} among {list(clock['titles'])}")
    since_asked = clock["origin"] - asked_ms  # navigation starts a little after Python asks for it
    return PageTimes((since_asked + min(shown)) / 1000, (since_asked + states[-1][1]) / 1000, shown_polled_s,
                     complete_polled_s)
