"""Backend comparison: our recorded runs per simulator, next to the article's published numbers."""

import pandas as pd
import streamlit as st

from core.execution.noise import noise_record
from core.results import comparison
from core.results.article import ARTICLE_LABEL, article_results
from core.results.qpu_estimate import QPUAssumptions, circuits_for_training, estimate, human_duration
from ui.figures import curve_lines
from ui.grid_figures import show_grid_studies
from ui.shared import run_records
from ui.svg_charts import Line, lines_alt, lines_svg

st.title("Backend comparison")
records, problems = run_records()
for problem in problems:
    st.warning(f"Skipped a run record: {problem}")
done = [r for r in records if r["status"] == "completed"]
unfinished = [r for r in records if r["status"] != "completed"]
if unfinished:
    failed = any(r["status"] == "failed" for r in unfinished)
    with st.expander(f"{len(unfinished)} run(s) did not finish (not in the charts)", expanded=failed):
        st.dataframe(pd.DataFrame([{
            "run": r["run_id"], "status": r["status"], "epochs done": f"{len(r['epochs'])}/{r['config']['epochs']}",
            "why": r.get("error") or "", "started": r.get("created", ""),
        } for r in unfinished]), hide_index=True, width="stretch")
if not done:
    st.info("No finished runs in `data/runs/` yet. Make them with `python -m core experiments` (all simulators, 3 seeds) "
            "or one at a time with `python -m core train --backend qiskit.aer --epochs 30`, or with the Retrain panel.")
    st.stop()

backbones = sorted({r["config"]["backbone"] for r in done})
seeds_all = sorted({r["config"]["seed"] for r in done})
# The filters sit in a popover, drawn only when opened: multiselects full of chips cost a phone's browser
# seconds of main-thread work on every load (bench/bench_lighthouse.py).
with st.popover("Backbone, seeds and series", icon="🔎"):
    backbone = st.selectbox("Backbone", backbones)
    seeds = st.multiselect("Seeds", seeds_all, default=seeds_all)
    chosen = comparison.completed(done, backbone, seeds)
    groups = comparison.group(chosen)
    labels = sorted(groups, key=lambda s: (comparison.family(groups[s][0]) == "classical", s))
    shown = st.multiselect("Series", labels, default=labels) if groups else []
st.caption(f"Showing **{backbone}**, seeds {', '.join(map(str, seeds)) or 'none'}: {len(shown)} of {len(labels)} series.")
if not groups:
    st.info("No runs match these filters." if not any(map(comparison.is_grid, chosen)) else "Only grid runs match these filters.")
    show_grid_studies(comparison.grid_studies(chosen))
    st.stop()
show_article = st.toggle(f"Show {ARTICLE_LABEL}", value=True)
article = article_results()
series = [s for s in labels if s in shown]
cost = comparison.noise_cost(groups)
studies = comparison.grid_studies(chosen)
sections = ["Training curves", "Per simulator", *(["NISQ noise"] if cost else []), "Cloud QPU estimate",
            *(["Grid studies"] if studies else [])]
# Only the open tab is drawn (its name is in the address: a lesson link can open one): a phone's browser draws a
# few charts on load instead of the whole page (bench/bench_lighthouse.py)
tabs = dict(zip(sections, st.tabs(sections, key="section", on_change="rerun", bind="query-params")))


def curves(column, metric: str, title: str, axis: str) -> None:
    """One chart of per-epoch curves, as an SVG image: light for a phone's browser (bench/bench_lighthouse.py)."""
    lines = curve_lines(groups, series, metric, article["qiskit_log"] if show_article else None, f"{ARTICLE_LABEL}: Qiskit")
    if lines:
        column.image(lines_svg(lines, title, "epoch", axis), width="stretch", alt=lines_alt(lines, title, "epoch", axis))


def training_curves() -> None:
    st.caption("Lines: mean over the selected seeds; bands: ± one standard deviation. Colours follow the article: "
               "Cirq blue, Qiskit orange, PennyLane green; classical baselines grey; the article's figures red, dashed.")
    c1, c2 = st.columns(2)
    curves(c1, "train_acc", "Training accuracy", "accuracy")
    curves(c2, "val_acc", "Validation accuracy", "accuracy")
    curves(c1, "train_loss", "Training loss", "cross-entropy")
    curves(c2, "val_loss", "Validation loss", "cross-entropy")


def per_simulator() -> None:
    summary = [r for r in comparison.summary_rows(groups) if r["series"] in shown]
    st.table(pd.DataFrame([{
        "series": r["series"], "seeds": len(r["seeds"]),
        "train acc. (last epoch) %": f"{r['final_train_acc']:.2f} ± {r['final_train_acc_sd']:.2f}",
        "best val. acc. %": f"{r['best_val_acc']:.2f} ± {r['best_val_acc_sd']:.2f}",
        "test acc. %": f"{r['test_acc']:.2f} ± {r['test_acc_sd']:.2f}",
        "test top-1 error %": f"{r['test_top1_error']:.2f} ± {r['test_top1_error_sd']:.2f}",
        "s / epoch": f"{r['seconds_per_epoch']:.2f} ± {r['seconds_per_epoch_sd']:.2f}",
        "circuits / run": f"{r['circuits']:,}", "shots / run": f"{r['shots']:,}",
    } for r in summary]), hide_index=True)
    if show_article:
        final = article["final_train_accuracy"]
        st.markdown(f"**{ARTICLE_LABEL}** — train accuracy at epoch 30: Cirq {final['cirq.simulator']:.2%}, "
                    f"Qiskit {final['qiskit.aer']:.2%}, PennyLane {final['default.qubit']:.2%}; 30 epochs on the Qiskit "
                    f"simulator took {article['qiskit_training_seconds'] / 60:.0f} min on a laptop CPU.")
    st.subheader("Test confusion matrices (summed over seeds)")
    st.caption("Each series' 2 × 2 matrix on one row: how many test images of each true class got each prediction.")
    st.table(pd.DataFrame([{
        "series": r["series"], "true mask → pred mask": r["confusion"][0][0],
        "true mask → pred no_mask": r["confusion"][0][1],
        "true no_mask → pred mask": r["confusion"][1][0], "true no_mask → pred no_mask": r["confusion"][1][1],
    } for r in summary]), hide_index=True)
    st.subheader("Epoch log, as the article printed it")
    with st.popover("Show the epoch logs", icon="📜"):  # two 30-row tables, drawn only when opened
        pick = st.selectbox("Series", series, key="log_series")
        if pick is not None:  # every series unticked in the filters: nothing to pick
            st.table(pd.DataFrame(comparison.article_style_table(groups[pick])), hide_index=True)
        if show_article:
            st.caption(f"{ARTICLE_LABEL}, Qiskit local simulator:")
            st.table(pd.DataFrame(article["qiskit_log"]), hide_index=True)


def nisq_noise() -> None:
    noisy_run = next(r for label, runs in groups.items() if "noise" in label for r in runs)
    model = noisy_run.get("noise_model") or noise_record(noisy_run["config"]["noise"])
    st.markdown(f"qiskit.aer with the noise model of **{model['description']}** ({model['device']} from qiskit-ibm-runtime's "
                f"fake provider: {model['why']}) against the same simulator without noise (both 1,024 shots). "
                "Positive numbers: accuracy lost or loss added by the noise.")
    epochs = [c["epoch"] for c in cost]
    n1, n2 = st.columns(2)
    for column, names, axis in ((n1, ("val_acc_cost", "train_acc_cost"), "accuracy lost"),
                                (n2, ("val_loss_cost",), "validation loss added")):
        lines = [Line(name, colour, epochs, [c[name] for c in cost]) for name, colour in zip(names, ("#1f77b4", "#ff7f0e"))]
        column.image(lines_svg(lines, f"NISQ noise: {axis}", "epoch", axis), width="stretch",
                     alt=lines_alt(lines, f"NISQ noise: {axis}", "epoch", axis))
    last = cost[-1]
    st.markdown(f"After the last epoch the noise costs **{last['val_acc_cost']:.1%}** validation accuracy and "
                f"**{last['val_loss_cost']:+.3f}** validation loss.")


def cloud_qpu() -> None:
    st.caption("Assumptions, not measurements: change them to your provider's. Circuit counts come from the recorded runs.")
    a1, a2, a3, a4 = st.columns(4)
    queue = a1.number_input("queue wait per job (s)", 0.0, 86_400.0, 60.0, step=10.0)
    shot_us = a2.number_input("time per shot (µs)", 1.0, 10_000.0, 250.0, step=50.0)
    overhead = a3.number_input("overhead per circuit (s)", 0.0, 60.0, 0.05, step=0.05)
    per_job = a4.number_input("circuits per job", 1, 10_000, 1,
                              help="1 = the article's single jobs; 228 = one training step per job")
    quantum_runs = [runs[0] for label, runs in groups.items() if label in shown and comparison.family(runs[0]) != "classical"]
    if not quantum_runs:
        st.info("No quantum series is selected.")
        return
    counts = circuits_for_training(quantum_runs[0])
    shots = quantum_runs[0]["config"].get("shots") or 1024
    assumptions = QPUAssumptions(queue, shot_us * 1e-6, overhead, int(per_job), int(shots))
    epoch, whole = estimate(counts["per_epoch"], assumptions), estimate(counts["training"], assumptions)
    m1, m2, m3 = st.columns(3)
    m1.metric("circuits per epoch", f"{counts['per_epoch']:,}")
    m2.metric("jobs per epoch", f"{epoch['jobs']:,}")
    m3.metric("time per epoch", human_duration(epoch["total_s"]))
    st.markdown(f"All {counts['epochs']} epochs: **{whole['jobs']:,} jobs, {whole['shots']:,} shots, "
                f"{human_duration(whole['total_s'])}** "
                f"— the article estimated *{article['qpu_estimate']}*.")


DRAW = {"Training curves": training_curves, "Per simulator": per_simulator, "NISQ noise": nisq_noise,
        "Cloud QPU estimate": cloud_qpu, "Grid studies": lambda: show_grid_studies(studies, heading=False)}
for name, tab in tabs.items():
    if tab.open:
        with tab:
            DRAW[name]()
