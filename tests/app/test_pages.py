"""The dashboard's pages through Streamlit's AppTest, on a model trained here from the real images."""

from __future__ import annotations

import os
import re

import numpy as np
import pytest
import torch

from core.paths import PROJECT_ROOT

ROOT = PROJECT_ROOT
PAGES = ["concepts", "explorer", "comparison", "predict", "inside", "challenges"]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders(app_env, page, open_page):
    at = open_page(page)
    assert not at.exception, [e.value for e in at.exception]
    assert at.title, "every page has a title"


def test_concepts_page_explains_and_counts(app_env, open_page):
    at = open_page("concepts")
    text = " ".join(m.value for m in at.markdown)
    assert "CQ" in " ".join(s.value for s in at.success)
    assert "13,730 circuits" in text, "the page counts circuits per epoch from the protocol"
    assert "A′" in text and "D_B" in text


def test_explorer_reruns_on_change(app_env, open_page):
    at = open_page("explorer")
    at.slider[0].set_value(3).run()  # qubits
    at.slider[1].set_value(2).run()  # depth
    assert not at.exception
    table = at.table[0].value
    assert len(table) == 3 and "exact ⟨Z⟩" in table.columns and "± shot error (1σ)" in table.columns


def _section(at, name: str):
    """Open one of the comparison page's tabs, as its address (?section=…) does."""
    at.query_params["section"] = name
    return at.run()


def test_comparison_draws_only_the_open_tab(app_env, open_page):
    at = open_page("comparison")
    assert [t.label for t in at.tabs][:2] == ["Training curves", "Per simulator"]
    assert sum(img.alt.startswith("Line chart, ") for img in _images(at)) == 4 and not at.table, \
        "the first tab's curves, nothing of the other tabs"
    _section(at, "Per simulator")
    assert not at.exception and at.table and not _images(at), "the table tab, without the curves"
    at = _section(open_page("comparison"), "no such tab")  # a fresh visitor with a bad address: the first tab
    assert not at.exception and sum(img.alt.startswith("Line chart, ") for img in _images(at)) == 4


def test_every_comparison_tab_survives_every_series_unticked(app_env, open_page):
    at = open_page("comparison")
    series = next(m for m in at.multiselect if m.label == "Series")
    series.set_value([]).run()
    for tab in [t.label for t in at.tabs]:
        assert not _section(at, tab).exception, tab
    assert "No quantum series is selected." in [i.value for i in _section(at, "Cloud QPU estimate").info]


def test_comparison_shows_the_runs_and_the_article(app_env, open_page):
    at = _section(open_page("comparison"), "Per simulator")
    summary = at.table[0].value
    assert list(summary["series"]) == ["default.qubit, analytic"]
    assert "The article" in " ".join(m.value for m in at.markdown)


def test_comparison_without_runs_says_how_to_make_them(app_env, monkeypatch, tmp_path, open_page):
    monkeypatch.setenv("QTL_RUNS_DIR", str(tmp_path / "empty"))
    at = open_page("comparison")
    assert "python -m core experiments" in at.info[0].value


def test_predict_a_real_test_image_and_a_bad_file(app_env, face_mask_410, open_page):
    image = next((face_mask_410 / "test" / "no_mask").glob("*.jpg"))
    at = open_page("predict")
    at.file_uploader[0].set_value([(image.name, image.read_bytes(), "image/jpeg"), ("broken.jpg", b"", "image/jpeg")]).run()
    assert not at.exception, [e.value for e in at.exception]
    verdicts = [m.value for m in at.markdown if re.fullmatch(r"### (mask|no_mask) — \d+\.\d%", m.value)]
    assert len(verdicts) == 1 and float(verdicts[0].split("— ")[1].rstrip("%")) >= 50.0
    table = next(m.value for m in at.markdown if m.value.startswith("| qubit |")).splitlines()
    assert table[0] == "| qubit | angle into the circuit (rad) | ⟨Z⟩ out of the circuit |"
    rows = [[float(c) for c in line.strip("| ").split(" | ")] for line in table[2:]]
    assert [r[0] for r in rows] == [0, 1, 2, 3] and all(abs(r[2]) <= 1 for r in rows) and any(r[1] != 0 for r in rows)
    assert any("broken.jpg" in e.value and "empty" in e.value for e in at.error)


def test_predict_runs_the_test_set(app_env, open_page):
    at = open_page("predict")
    at.button[0].click().run()
    metric = at.metric[0]
    assert metric.label == "top-1 error" and metric.value.endswith("%")


class CodeOnLoad:
    """Unpickling this runs a shell command: what a hostile checkpoint would carry."""

    def __init__(self, command: str):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def test_bad_files_in_checkpoints_and_runs_are_skipped_with_a_warning(app_env, tmp_path, monkeypatch, open_page):
    import shutil

    runs, checkpoints = tmp_path / "runs", tmp_path / "checkpoints"
    shutil.copytree(app_env / "runs", runs)
    shutil.copytree(app_env / "checkpoints", checkpoints)
    (runs / "half.json").write_text('{"schema": "qtl-run/1", "run')
    (runs / "wrong.json").write_text('{"schema": "someone-else/9", "rows": []}')
    real = next(checkpoints.glob("*.pt")).read_bytes()
    (checkpoints / "truncated.pt").write_bytes(real[: len(real) // 2])
    marker = tmp_path / "pwned"
    torch.save({"format": "x", "payload": CodeOnLoad(f"touch {marker}")}, checkpoints / "evil.pt")
    monkeypatch.setenv("QTL_RUNS_DIR", str(runs))
    monkeypatch.setenv("QTL_CHECKPOINTS_DIR", str(checkpoints))
    at = _section(open_page("comparison"), "Per simulator")
    warnings = " ".join(w.value for w in at.warning)
    assert "half.json" in warnings and "wrong.json" in warnings
    assert at.table[0].value.shape[0] == 1, "the good run is still shown"
    at = open_page("predict")
    assert not at.exception
    warnings = [w.value for w in at.warning]
    assert any("evil.pt" in w and "not a readable checkpoint" in w for w in warnings), warnings
    assert any("truncated.pt" in w for w in warnings), warnings
    assert any(re.match(r"### (mask|no_mask) — ", m.value) for m in at.markdown) or at.file_uploader, \
        "the page still works with the good checkpoint"
    assert not marker.exists(), "the pickle payload never ran"



def test_the_shipped_runs_and_models_render(monkeypatch, tmp_path, open_page):
    """data/runs/ and checkpoints/ as shipped: every series, the noise cost, the QPU estimate; the best model predicts."""
    monkeypatch.setenv("QTL_JOBS_DIR", str(tmp_path / "jobs"))
    monkeypatch.delenv("QTL_RUNS_DIR", raising=False)
    monkeypatch.delenv("QTL_CHECKPOINTS_DIR", raising=False)
    monkeypatch.chdir(ROOT)
    at = _section(open_page("comparison"), "Per simulator")
    assert not at.exception, [e.value for e in at.exception]
    summary = next(d.value for d in at.table if "series" in d.value.columns and "test acc. %" in d.value.columns)
    series = set(summary["series"])
    for expected in ("default.qubit, analytic", "lightning.qubit, analytic", "qiskit.aer, 1024 shots",
                     "cirq.simulator, 1024 shots", "qiskit.aer, 1024 shots, noise fake_manila", "classical linear head",
                     "classical mlp head"):
        assert expected in series
    assert set(summary["seeds"]) == {3}, "three seeds of every configuration are shipped"
    assert "NISQ noise" in [t.label for t in at.tabs]
    assert "accuracy lost" in " ".join(img.alt for img in _images(_section(at, "NISQ noise")))
    assert any(m.label == "circuits per epoch" and m.value == "13,730" for m in _section(at, "Cloud QPU estimate").metric)
    at = open_page("predict")
    assert not at.exception and "test accuracy 99" in at.caption[0].value


def test_predict_offers_the_test_set_on_ibm_only_when_enabled(app_env, monkeypatch, tmp_path, open_page):
    monkeypatch.delenv("QTL_IBM_TOKEN", raising=False)
    monkeypatch.delenv("QTL_IBM_LOCAL", raising=False)
    at = open_page("predict")
    assert any("QTL_IBM_TOKEN" in i.value for i in at.info), "without an account the page says how to enable IBM"
    assert not [b for b in at.button if "IBM" in b.label]
    monkeypatch.setenv("QTL_IBM_LOCAL", "fake_manila")
    monkeypatch.setenv("QTL_IBM_CACHE", str(tmp_path / "ibm"))
    at = open_page("predict")
    assert not at.exception
    assert [b for b in at.button if b.label == "Send the test set to IBM Quantum"]


def test_histogram_data_holds_both_distributions_in_bitstring_order():
    import re as regex

    from ui.figures import HISTOGRAM_COLOURS, histogram_data, histogram_svg

    labels, series = histogram_data({"00": 700, "11": 324}, np.array([0.5, 0.0, 0.0, 0.5]), 2)
    assert labels == ["00", "01", "10", "11"]
    assert list(series["measured (1,024 shots)"]) == [700 / 1024, 0.0, 0.0, 324 / 1024]
    assert sum(series["exact probability"]) == 1.0
    assert len(histogram_data(None, np.full(8, 1 / 8), 3)[0]) == 8
    svg = histogram_svg({"00": 700, "11": 324}, np.array([0.5, 0.0, 0.0, 0.5]), 2, "two qubits")
    bars = [(float(x), float(h), colour) for x, h, colour in  # the legend's keys are 10 × 10, whole numbers
            regex.findall(r'<rect x="([\d.]+)" y="[\d.]+" width="\d+\.\d" height="([\d.]+)" fill="(#\w+)"/>', svg)]
    expected = [[0.5, 0.0, 0.0, 0.5], [700 / 1024, 0.0, 0.0, 324 / 1024]]
    tallest = max(h for _, h, _ in bars)
    for values, colour in zip(expected, HISTOGRAM_COLOURS):
        series = sorted((x, h) for x, h, c in bars if c == colour)  # left to right: bitstring order
        assert [round(h / tallest, 2) for _, h in series] == [round(v / max(max(e) for e in expected), 2) for v in values], \
            "the same data in the SVG, each series in its colour"


def test_the_shipped_server_config_bounds_uploads_and_skips_the_per_rerun_gc():
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == 10
    assert config["runner"]["postScriptGC"] is False, "a full gc.collect() after every rerun holds the GIL ~0.35 s"


def _images(at) -> list:
    """Every st.image on the page, as its protobuf (url, alt)."""
    return [img for element in at.get("image") for img in element.proto.imgs]


def test_the_pages_drawings_are_svg_images_with_alt_text(app_env, open_page):
    """A screen reader gets words for every drawing (Lighthouse's image-alt audit); no chart library on these pages."""
    at = open_page("concepts")
    circuit = _images(at)
    assert len(circuit) == 1 and circuit[0].url.startswith("data:image/svg+xml")
    assert "6 layers of CNOTs" in circuit[0].alt and "4 qubits" in circuit[0].alt
    at = open_page("explorer")
    alts = [img.alt for img in _images(at)]
    assert any(a.startswith("Bar chart of the 16 bitstrings") for a in alts), alts
    assert any(a.startswith("The dressed circuit on 4 qubits") for a in alts), alts
    at = open_page("comparison")
    alts = [img.alt for img in _images(at)]
    assert sum(a.startswith("Line chart, ") for a in alts) == 4 and all(alts), alts
    assert not at.get("arrow_vega_lite_chart") and not at.get("plotly_chart")


def test_svg_charts_say_in_words_what_they_draw():
    from ui.figures import histogram_alt, histogram_svg
    from ui.svg_charts import Line, heatmap_alt, heatmap_svg, lines_alt, lines_svg

    probs = np.array([0.5, 0.0, 0.1, 0.4])
    svg = histogram_svg({"00": 700, "11": 324}, probs, 2, "two <qubits>")
    assert svg.startswith("<svg") and "two &lt;qubits&gt;" in svg and svg.count("<rect") == 8 + 2  # bars + legend keys
    assert histogram_alt(None, probs, 2, shown=2) == ("Bar chart of the 4 bitstrings (qubit 0 first); the most likely, per "
                                                      "series — exact probability: 00 0.500, 11 0.400.")
    lines = [Line("a", "#1f77b4", [1, 2, 3], [0.5, 0.6, 0.7]), Line("b", "#ff7f0e", [1, 2, 3], [0.4, 0.5, 0.9], dash="4 3")]
    assert lines_svg(lines, "t", "epoch", "accuracy").count("<polyline") == 2
    assert lines_alt(lines, "t", "epoch", "accuracy") == ("Line chart, t: accuracy per epoch. Last values — a: 0.700 at epoch 3; "
                                                           "b: 0.900 at epoch 3.")
    rows = [{"row": q, "column": d, "acc": 90.0 + q + d, "row_name": "qubits", "column_name": "depth"}
            for q in (2, 4) for d in (1, 3)]
    assert heatmap_svg(rows, "acc", "Test accuracy", ".1f", "#1e7b1e").count(">97.0<") == 1
    assert heatmap_alt(rows, "acc", "Test accuracy", ".1f").startswith("Heatmap, Test accuracy. qubits 2 and depth 1: 93.0, ")
    with pytest.raises(ValueError, match="at least one line"):
        lines_svg([], "t", "x", "y")
