"""The very first page (with the shipped models) loads no heavy library.

torch, pandas and matplotlib load only after it, in the warm-up thread.

A restarted server's first visitor waits for every import the first page makes (torch alone takes 2 s here);
docs/benchmarks.md, *Start-up*, measures the time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from core.paths import PROJECT_ROOT

HEAVY = ("torch", "pandas", "matplotlib")

# Records which thread first imports each heavy library, then opens the app's first page through AppTest.
OPEN_FIRST_PAGE = f"""
import json, sys, threading
HEAVY = {HEAVY!r}
first = {{}}

class Recorder:
    def find_spec(self, name, path=None, target=None):
        if name in HEAVY and name not in first:
            first[name] = threading.current_thread().name
        return None

sys.meta_path.insert(0, Recorder())
from streamlit.testing.v1 import AppTest
at = AppTest.from_file("app.py", default_timeout=180).run()
print(json.dumps({{"first": first, "errors": [str(e.value) for e in at.exception], "title": [t.value for t in at.title]}}))
"""


def _open_first_page(env: dict) -> dict:
    out = subprocess.run([sys.executable, "-c", OPEN_FIRST_PAGE], env=env, cwd=PROJECT_ROOT, capture_output=True,
                         text=True, timeout=300, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_first_page_imports_no_heavy_library(tmp_path):
    env = {**os.environ, "QTL_CACHE": str(tmp_path / "cache")}
    _open_first_page(env)  # a server's first start lists the checkpoints with torch and keeps the listing
    opened = _open_first_page(env)  # a restart
    assert not opened["errors"] and "Hybrid classical-quantum transfer learning" in opened["title"], opened
    on_the_page = {name: thread for name, thread in opened["first"].items() if thread != "qtl-warm-up"}
    assert on_the_page == {}, f"imported while the first page ran: {on_the_page}"
