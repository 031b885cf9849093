"""Lesson links and challenges in the app, through AppTest, with the shipped trained models."""

from __future__ import annotations

import numpy as np
import pytest

from core.lessons.challenges import challenge_by_id
from core.paths import PROJECT_ROOT

ROOT = PROJECT_ROOT
SHIPPED = "best-efficientnet_lite0-default.qubit-analytic.pt"
CHALLENGES_REGISTERED = "views/challenges.py" in (ROOT / "app.py").read_text()


@pytest.fixture
def shipped_env(monkeypatch, tmp_path):
    """The app on the models shipped in checkpoints/, its other folders empty."""
    monkeypatch.setenv("QTL_CHECKPOINTS_DIR", str(ROOT / "checkpoints"))
    monkeypatch.setenv("QTL_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("QTL_JOBS_DIR", str(tmp_path / "jobs"))
    monkeypatch.delenv("QTL_MAINTAINER_PASSWORD", raising=False)
    monkeypatch.chdir(ROOT)


def open_explorer(query: dict[str, str]):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240).run()
    at.switch_page("views/explorer.py")
    at.query_params.update(query)
    return at.run()


def labels(elements) -> list[str]:
    return [e.label for e in elements]


def test_a_lesson_link_applies_its_settings_and_hides_the_named_controls(shipped_env):
    at = open_explorer({"qubits": "2", "depth": "1", "sim": "default.qubit", "measure": "exact", "seed": "5",
                        "angles": "0,1.57", "hide": "depth,noise,shots", "lock": "qubits"})
    assert not at.exception and not at.warning, [w.value for w in at.warning]
    qubits = at.slider(key="explorer-qubits")
    assert (qubits.value, qubits.disabled) == (2, True)
    assert labels(at.slider) == ["Qubits", "θ0 (qubit 0)", "θ1 (qubit 1)"], "the depth slider is hidden"
    assert [s.value for s in at.slider][1:] == [0.0, 1.57]
    assert "Shots" not in labels(at.number_input) and not any(t.label.startswith("NISQ noise") for t in at.toggle)
    assert at.toggle(key="explorer-measure").value is False and at.selectbox(key="explorer-sim").value == "default.qubit"
    assert any(i.value.startswith("**Lesson link**") and "hidden: depth, shots, noise" in i.value for i in at.info)
    table = at.table[0].value
    assert list(table["qubit"]) == [0, 1] and "measured ⟨Z⟩" not in table.columns
    # depth 1 on 2 qubits with seed 5's weights: a Bell pair, so each qubit's ⟨Z⟩ is 0 whatever the weights
    assert np.abs(table["exact ⟨Z⟩"]).max() < 5e-3
    assert at.number_input(key="explorer-seed").value == 5
    assert at.query_params["hide"] == "depth,shots,noise" and at.query_params["angles"] == "0,1.57"


def test_bad_link_values_get_a_message_and_the_defaults(shipped_env):
    at = open_explorer({"qubits": "99", "angles": "nan", "noise": "on", "sim": "default.qubit", "volume": "11",
                        "shots": "9" * 10_000})
    assert not at.exception, [e.value for e in at.exception]
    shown = " ".join(w.value for w in at.warning)
    for expected in ("'qubits' must be a whole number from 1 to 8, got '99'", "Unknown link parameter 'volume'",
                     "'shots' is 10,000 characters long", "noise needs sim=qiskit.aer"):
        assert expected in shown
    assert at.slider(key="explorer-qubits").value == 4 and at.number_input(key="explorer-shots").value == 1024
    assert at.query_params["qubits"] == "4" and "volume" not in at.query_params, "the address is written back clean"


def test_the_address_follows_the_controls_and_a_return_visit_keeps_them(shipped_env):
    at = open_explorer({})
    assert at.query_params["depth"] == "6" and at.query_params["sim"] == "qiskit.aer"
    at.slider(key="explorer-depth").set_value(2).run()
    at.number_input(key="explorer-seed").set_value(42).run()
    assert (at.query_params["depth"], at.query_params["seed"]) == ("2", "42")
    at.switch_page("views/concepts.py").run()
    at.switch_page("views/explorer.py").run()
    assert not at.exception and not at.warning
    assert (at.slider(key="explorer-depth").value, at.number_input(key="explorer-seed").value) == (2, 42)


def test_a_links_model_is_selected_and_its_weights_used(shipped_env):
    at = open_explorer({"weights": "model", "model": SHIPPED, "measure": "exact", "angles": "-1.57,1.57,-1.57,-1.57"})
    assert not at.exception and not at.warning, [w.value for w in at.warning]
    assert at.session_state["model_path"].endswith(SHIPPED) and at.query_params["model"] == SHIPPED
    missing = open_explorer({"weights": "model", "model": "gone.pt"})
    assert any("This link's model 'gone.pt' is not on this server" in w.value for w in missing.warning)


def test_a_challenge_link_checks_the_live_circuit_and_marks_it_done(shipped_env):
    at = open_explorer(challenge_by_id("bell-pair").lesson_query())
    assert not at.exception, [e.value for e in at.exception]
    box = " ".join(m.value for m in at.markdown)
    assert "🎯 Challenge: A Bell pair" in box
    assert any(i.value.startswith("**Not yet**") and "together 1.000" in i.value for i in at.info)
    at.slider(key="explorer-angle0").set_value(0.0).run()
    at.slider(key="explorer-angle1").set_value(1.57).run()
    assert any(s.value.startswith("**Solved!**") and "each alone Tr ρ² = 0.500, 0.500" in s.value for s in at.success)
    assert "bell-pair" in at.session_state["challenges-done"]


@pytest.mark.skipif(not CHALLENGES_REGISTERED, reason="app.py does not register views/challenges.py yet")
def test_the_challenges_page_checks_the_explorer_and_keeps_progress(shipped_env):
    at = open_explorer({"qubits": "3", "depth": "0", "measure": "exact", "angles": "-1.57,-1.57,-1.57"})
    at.switch_page("views/challenges.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Challenges" and len([m for m in at.markdown if m.value.startswith("## ")]) >= 8
    assert "0 of 9 done" in at.get("progress")[0].proto.text
    at.button(key="check-balance-qubit").click().run()
    assert any(i.value.startswith("**Not yet**") and "qubit 0's exact ⟨Z⟩ = +1.000" in i.value for i in at.info)
    at.button(key="check-all-zeros").click().run()
    assert any(s.value.startswith("**Solved!**") and "P(|000⟩) = 1.000" in s.value for s in at.success)
    at.run()
    assert "## Back to |000⟩ · ✅ done" in [m.value for m in at.markdown]
    assert "1 of 9 done" in at.get("progress")[0].proto.text
    at.button[0].click().run()  # reset
    assert "0 of 9 done" in at.get("progress")[0].proto.text
