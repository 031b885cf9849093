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
    table = at.dataframe[0].value
    assert len(table) == 3 and "exact ⟨Z⟩" in table.columns and "± shot error (1σ)" in table.columns


def test_comparison_shows_the_runs_and_the_article(app_env, open_page):
    at = open_page("comparison")
    summary = at.dataframe[0].value
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
    at = open_page("comparison")
    warnings = " ".join(w.value for w in at.warning)
    assert "half.json" in warnings and "wrong.json" in warnings
    assert at.dataframe[0].value.shape[0] == 1, "the good run is still shown"
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
    at = open_page("comparison")
    assert not at.exception, [e.value for e in at.exception]
    summary = next(d.value for d in at.dataframe if "series" in d.value.columns and "test acc. %" in d.value.columns)
    series = set(summary["series"])
    for expected in ("default.qubit, analytic", "lightning.qubit, analytic", "qiskit.aer, 1024 shots",
                     "cirq.simulator, 1024 shots", "qiskit.aer, 1024 shots, noise fake_manila", "classical linear head",
                     "classical mlp head"):
        assert expected in series
    assert set(summary["seeds"]) == {3}, "three seeds of every configuration are shipped"
    assert "What NISQ noise costs" in [h.value for h in at.subheader]
    assert any(m.label == "circuits per epoch" and m.value == "13,730" for m in at.metric)
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


def test_histogram_spec_holds_both_distributions_in_bitstring_order():
    from ui.figures import histogram_figure, histogram_spec

    spec = histogram_spec({"00": 700, "11": 324}, np.array([0.5, 0.0, 0.0, 0.5]), 2, "two qubits")
    rows = spec["data"]["values"]
    assert spec["encoding"]["x"]["sort"] == ["00", "01", "10", "11"] and spec["encoding"]["x"]["type"] == "nominal"
    measured = {r["bitstring"]: r["probability"] for r in rows if r["series"] == "measured (1,024 shots)"}
    exact = {r["bitstring"]: r["probability"] for r in rows if r["series"] == "exact probability"}
    assert measured == {"00": 700 / 1024, "01": 0.0, "10": 0.0, "11": 324 / 1024} and sum(exact.values()) == 1.0
    assert len(histogram_spec(None, np.full(8, 1 / 8), 3, "exact only")["data"]["values"]) == 8
    figure = histogram_figure({"00": 700, "11": 324}, np.array([0.5, 0.0, 0.0, 0.5]), 2, "two qubits")
    expected = [[0.5, 0.0, 0.0, 0.5], [700 / 1024, 0.0, 0.0, 324 / 1024]]
    assert [list(bar.y) for bar in figure.data] == expected, "the same data in Plotly"


def test_the_shipped_server_config_bounds_uploads_and_skips_the_per_rerun_gc():
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == 10
    assert config["runner"]["postScriptGC"] is False, "a full gc.collect() after every rerun holds the GIL ~0.35 s"
