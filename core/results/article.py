"""The seed article's published numbers, as data (``data/article_results.json``)."""

from __future__ import annotations

import json
from functools import lru_cache

from core.paths import ARTICLE_FILE

ARTICLE_LABEL = "The article (2020, ResNet-18, published figures)"


@lru_cache(maxsize=1)
def article_results() -> dict:
    return json.loads(ARTICLE_FILE.read_text())
