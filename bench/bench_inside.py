"""The Inside page's work, warm, on this machine: a step change, the explanation, the shot spread, the atlas.

    python bench/bench_inside.py [--images 5] [--repeats 20] [--browser 10] [--out bench/out/inside.json]

One torch thread, as the dashboard's server runs (ui/shared.py). Beside each
figure, the closest thing the app did before this page: the explorer's rerun of
the same circuit through PennyLane (exact probabilities and the state vector).
With ``--browser N`` it also moves the step slider N times in chromium on
the running dashboard and times each move until the new step is drawn (the
server's fragment rerun and the browser's drawing together).
Goals (issue "Follow a photo through the quantum circuit"): step ≤ 300 ms,
explanation ≤ 1.5 s, shot spread R = 50, S = 1,024 ≤ 2 s on default.qubit.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from core.circuit.definition import CircuitSpec
from core.circuit.state_steps import step_views
from core.data.dataset import list_split
from core.data.images import load_rgb
from core.execution.single_circuit import exact_probabilities, statevector
from core.files import atomic_write_bytes
from core.learning.checkpoints import load_checkpoint
from core.learning.explain import angle_attribution, overlay, saliency_map, what_if
from core.learning.features import load_split_features
from core.learning.predict import Predictor
from core.paths import PROJECT_ROOT, data_dir
from core.results.atlas import atlas
from core.results.shot_spread import shot_spread
from ui.state_figures import bloch_spheres_svg, circuit_svg, probabilities_spec

CHECKPOINT = PROJECT_ROOT / "checkpoints" / "best-efficientnet_lite0-default.qubit-analytic.pt"
GOALS = {"step change": 0.300, "explanation": 1.5, "shot spread R=50 S=1024 (default.qubit)": 2.0}


def timed(work, repeats: int) -> dict:
    """Median and worst of ``repeats`` warm runs (one run first, not counted)."""
    work()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return {"median_s": statistics.median(times), "max_s": max(times), "runs": repeats}


def step_change(spec, angles, weights) -> None:
    """What the step fragment computes on a slider move: every step's state, then one step drawn."""
    views = step_views(spec, angles, weights)
    view = views[len(views) // 2]
    values = list(angles) + list(np.ravel(weights))
    bloch_spheres_svg(view.bloch, view.purities, per_row=4)
    circuit_svg(spec, view.step.end, values)
    probabilities_spec(view.probabilities, view.state, spec.n_qubits, "")


def explanation(predictor: Predictor, image, angles) -> None:
    saliency = saliency_map(predictor, image)
    overlay(image, saliency.heat)
    angle_attribution(predictor.head, angles)
    what_if(predictor.head, angles, 0, np.linspace(-np.pi / 2, np.pi / 2, 62))


def measure_photo(predictor: Predictor, photo: Path, repeats: int) -> dict[str, dict]:
    """Every row of the table for one test image."""
    spec, weights = predictor.checkpoint.spec, predictor.head.q_params.detach().double().numpy()
    image = load_rgb(photo)
    angles = np.array(predictor.predict(image).angles)
    head = predictor.head
    return {
        "step change": timed(lambda: step_change(spec, angles, weights), repeats),
        "before: explorer rerun (PennyLane probabilities + state)":
            timed(lambda: (exact_probabilities(spec, angles, weights), statevector(spec, angles, weights)), repeats),
        "explanation": timed(lambda: explanation(predictor, image, angles), max(3, repeats // 4)),
        "shot spread R=50 S=1024 (default.qubit)": timed(lambda: shot_spread(head, angles, 50, 1024), 3),
        "shot spread R=50 S=1024 (qiskit.aer, fake_manila noise)":
            timed(lambda: shot_spread(head, angles, 50, 1024, "qiskit.aer", "fake_manila"), 2),
    }


def final_entropies(predictor: Predictor, split) -> np.ndarray:
    """Entanglement between the circuit's two halves at its end, for every test image (what the README quotes)."""
    with torch.no_grad():
        angles = predictor.head.angles(split.features).double().numpy()
    weights = predictor.head.q_params.detach().double().numpy()
    return np.array([step_views(predictor.checkpoint.spec, a, weights)[-1].entropy for a in angles])


def measure(images: int, repeats: int) -> dict:
    torch.set_num_threads(1)
    predictor = Predictor(load_checkpoint(CHECKPOINT))
    photos = [s.path for s in list_split(data_dir(), "test")][:: 120 // images][:images]
    rows: dict[str, list[dict]] = {}
    for photo in photos:
        for name, row in measure_photo(predictor, photo, repeats).items():
            rows.setdefault(name, []).append(row)
    big = CircuitSpec(8, 10)
    rng = np.random.default_rng(0)
    big_angles, big_weights = rng.uniform(-1.5, 1.5, 8), rng.uniform(-np.pi, np.pi, big.weight_shape)
    rows["step change, 8 qubits depth 10"] = [timed(lambda: step_change(big, big_angles, big_weights), repeats)]
    split = load_split_features(data_dir(), predictor.checkpoint.meta["backbone"], "test")
    built = {}
    rows["atlas (120 test images, 40×40 grid; features cached)"] = [
        timed(lambda: built.setdefault("atlas", atlas(predictor.head, split)), 2)]
    entropies = final_entropies(predictor, split)
    summary = {name: {"median_s": statistics.median(r["median_s"] for r in runs), "max_s": max(r["max_s"] for r in runs),
                      "goal_s": GOALS.get(name)} for name, runs in rows.items()}
    return {"rows": summary, "images": [str(p) for p in photos], "atlas_agreement": built["atlas"].agreement,
            "final_entropy_bits": {"median": float(np.median(entropies)), "max": float(np.max(entropies)),
                                   "images": len(entropies)},
            "machine": f"{platform.processor() or platform.machine()}, torch threads 1",
            "when": time.strftime("%Y-%m-%d %H:%M:%S")}


def browser_steps(moves: int) -> dict:
    """Seconds from a key press on the step slider until the page shows the new step's text and Bloch spheres."""
    from playwright.sync_api import sync_playwright

    from tools.browser import BLOCH_SPHERES, STEP_SLIDER, launch_chromium, open_page, streamlit_server, wait_until_idle

    times = []
    with streamlit_server({"QTL_DATA": str(data_dir()), "QTL_MAINTAINER_PASSWORD": ""}) as (url, _), \
            sync_playwright() as playwright:
        page = launch_chromium(playwright).new_page(viewport={"width": 1400, "height": 1100})
        open_page(page, url, "inside", timeout_ms=180_000)
        page.locator(".st-key-inside-verdict h3").wait_for(timeout=180_000)
        wait_until_idle(page, 180_000)
        slider = page.locator(f"{STEP_SLIDER} input[type='range']").first
        for move in range(moves + 1):
            slider.focus()
            spheres = page.locator(BLOCH_SPHERES).first.get_attribute("src")
            started = time.perf_counter()
            page.keyboard.press("ArrowLeft" if int(slider.get_attribute("value")) > 0 else "End")
            label = slider.get_attribute("aria-valuetext")  # the thumb moves at once; the step's drawing follows
            page.locator("strong").filter(has_text=f"{label}.").first.wait_for(timeout=30_000)
            page.wait_for_function(  # the new spheres' image has arrived and is decoded
                "old => { const i = document.querySelector(arguments[0]); return i && i.src !== old && i.complete; }"
                .replace("arguments[0]", repr(BLOCH_SPHERES)), arg=spheres, timeout=30_000)
            if move:  # the first move warms the fragment up
                times.append(time.perf_counter() - started)
            wait_until_idle(page, 30_000)  # the run has finished before the next move
    return {"median_s": statistics.median(times), "max_s": max(times), "runs": len(times)}


def print_table(result: dict) -> None:
    print(f"{'work (warm)':62} {'median':>9} {'worst':>9} {'goal':>8}  met")
    for name, row in result["rows"].items():
        goal = row["goal_s"]
        met = "" if goal is None else ("yes" if row["max_s"] <= goal else "NO")
        goal_text = "" if goal is None else f"{goal * 1000:.0f} ms"
        print(f"{name:62} {row['median_s'] * 1000:7.1f} ms {row['max_s'] * 1000:7.1f} ms {goal_text:>8}  {met}")
    print(f"atlas: {result['atlas_agreement']:.1%} of test points on the side of their predicted class")
    e = result["final_entropy_bits"]
    print(f"entanglement of the halves at the end, {e['images']} test images: median {e['median']:.3f} bits, max {e['max']:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--browser", type=int, default=0, help="also time N step-slider moves in chromium")
    parser.add_argument("--out", default=str(PROJECT_ROOT / "bench" / "out" / "inside.json"))
    args = parser.parse_args()
    result = measure(args.images, args.repeats)
    if args.browser:
        result["rows"]["step change in chromium (server + drawing)"] = {**browser_steps(args.browser), "goal_s": 0.300}
    print_table(result)
    atomic_write_bytes(Path(args.out), json.dumps(result, indent=1).encode())


if __name__ == "__main__":
    main()
