"""The Inside page through AppTest: a test image followed step by step, explained, rerun with shots; the explorer's circuit."""

from __future__ import annotations


def follow_test_image(open_page):
    at = open_page("inside")
    at.radio(key="inside-source").set_value("a test-set image").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_test_image_is_followed_through_every_section(app_env, open_page):
    at = follow_test_image(open_page)
    verdict = " ".join(m.value for m in at.markdown if m.value.startswith("### "))
    assert "truly mask" in verdict and ("mask —" in verdict or "no_mask —" in verdict)
    headers = [h.value for h in at.header]
    assert any("Step through" in h for h in headers) and any("Why this verdict" in h for h in headers)
    assert any("atlas" in h for h in headers)
    text = " ".join(m.value for m in at.markdown)
    assert "∂P(mask)/∂θ, shift rule" in text and "∂P(mask)/∂θ, autograd" in text


def test_moving_the_step_slider_changes_the_state_shown(app_env, open_page):
    at = follow_test_image(open_page)
    slider = at.select_slider(key="inside-step")
    final = " ".join(m.value for m in at.markdown)
    slider.set_value(slider.options[1]).run()  # after the Hadamards: every qubit on the equator, a product state
    assert not at.exception
    after_h = " ".join(m.value for m in at.markdown)
    assert after_h != final
    assert "(+1.00, +0.00, +0.00)" in after_h, "after the Hadamards each Bloch vector points along +x"
    assert any(m.value == "0.000 bits" for m in at.metric), "no entanglement before the first CNOT"


def test_the_shot_spread_runs_on_a_click(app_env, open_page):
    at = follow_test_image(open_page)
    at.number_input(key="shot-repeats").set_value(20)
    at.button(key="shot-run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    labels = [m.label for m in at.metric]
    assert "P(mask) over 20 runs" in labels and "Runs whose label flipped" in labels


def test_the_explorer_circuit_can_be_stepped_through_without_a_model(app_env, open_page):
    at = open_page("explorer")
    at.switch_page("views/inside.py").run()
    at.radio(key="inside-source").set_value("the explorer's circuit").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.select_slider(key="inside-step").options[0].startswith("Start")
    assert any("need a trained model's verdict" in i.value for i in at.info)


def test_a_first_visit_opens_on_a_test_image(app_env, open_page):
    at = open_page("inside")
    assert not at.exception, [e.value for e in at.exception]
    assert at.radio(key="inside-source").value == "a test-set image"
    assert any(m.value.startswith("### ") and "truly" in m.value for m in at.markdown)
