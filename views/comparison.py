"""Backend comparison: our recorded runs per simulator, next to the article's published numbers."""

import pandas as pd
import streamlit as st

from core.execution.noise import noise_record
from core.results import comparison
from core.results.article import ARTICLE_LABEL, article_results
from core.results.qpu_estimate import QPUAssumptions, circuits_for_training, estimate, human_duration
from ui.figures import curves_spec
from ui.grid_figures import show_grid_studies
from ui.shared import run_records

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
f1, f2 = st.columns(2)
backbone = f1.selectbox("Backbone", backbones)
seeds = f2.multiselect("Seeds", seeds_all, default=seeds_all)
chosen = comparison.completed(done, backbone, seeds)
groups = comparison.group(chosen)
if not groups:
    st.info("No runs match these filters." if not any(map(comparison.is_grid, chosen)) else "Only grid runs match these filters.")
    show_grid_studies(chosen)
    st.stop()
labels = sorted(groups, key=lambda s: (comparison.family(groups[s][0]) == "classical", s))
shown = st.multiselect("Series", labels, default=labels)
show_article = st.toggle(f"Show {ARTICLE_LABEL}", value=True)
article = article_results()
st.caption("Lines: mean over the selected seeds; bands: ± one standard deviation. Colours follow the article: "
           "Cirq blue, Qiskit orange, PennyLane green; classical baselines grey; the article's figures red, dashed.")

series = [s for s in labels if s in shown]
article_log = article["qiskit_log"] if show_article else None


def curves(metric: str, title: str, axis: str) -> dict:
    return curves_spec(groups, series, metric, title, axis, article_log, f"{ARTICLE_LABEL}: Qiskit")


c1, c2 = st.columns(2)
c1.vega_lite_chart(spec=curves("train_acc", "Training accuracy", "accuracy"), width="stretch")
c2.vega_lite_chart(spec=curves("val_acc", "Validation accuracy", "accuracy"), width="stretch")
c1.vega_lite_chart(spec=curves("train_loss", "Training loss", "cross-entropy"), width="stretch")
c2.vega_lite_chart(spec=curves("val_loss", "Validation loss", "cross-entropy"), width="stretch")

st.subheader("Per simulator")
summary = [r for r in comparison.summary_rows(groups) if r["series"] in shown]
table = pd.DataFrame([{
    "series": r["series"], "seeds": len(r["seeds"]),
    "train acc. (last epoch) %": f"{r['final_train_acc']:.2f} ± {r['final_train_acc_sd']:.2f}",
    "best val. acc. %": f"{r['best_val_acc']:.2f} ± {r['best_val_acc_sd']:.2f}",
    "test acc. %": f"{r['test_acc']:.2f} ± {r['test_acc_sd']:.2f}",
    "test top-1 error %": f"{r['test_top1_error']:.2f} ± {r['test_top1_error_sd']:.2f}",
    "s / epoch": f"{r['seconds_per_epoch']:.2f} ± {r['seconds_per_epoch_sd']:.2f}",
    "circuits / run": f"{r['circuits']:,}", "shots / run": f"{r['shots']:,}",
} for r in summary])
st.dataframe(table, hide_index=True, width="stretch")
if show_article:
    final = article["final_train_accuracy"]
    st.markdown(f"**{ARTICLE_LABEL}** — train accuracy at epoch 30: Cirq {final['cirq.simulator']:.2%}, "
                f"Qiskit {final['qiskit.aer']:.2%}, PennyLane {final['default.qubit']:.2%}; 30 epochs on the Qiskit "
                f"simulator took {article['qiskit_training_seconds'] / 60:.0f} min on a laptop CPU.")

st.subheader("Test confusion matrices (summed over seeds)")
cols = st.columns(min(4, len(summary)) or 1)
for i, r in enumerate(summary):
    with cols[i % len(cols)]:
        st.markdown(f"**{r['series']}**")
        st.dataframe(pd.DataFrame(r["confusion"], index=["true mask", "true no_mask"], columns=["pred mask", "pred no_mask"]))

st.subheader("Epoch log, as the article printed it")
pick = st.selectbox("Series", [s for s in labels if s in shown], key="log_series")
st.dataframe(pd.DataFrame(comparison.article_style_table(groups[pick])), hide_index=True, width="stretch")
if show_article:
    st.caption(f"{ARTICLE_LABEL}, Qiskit local simulator:")
    st.dataframe(pd.DataFrame(article["qiskit_log"]), hide_index=True, width="stretch")

cost = comparison.noise_cost(groups)
if cost:
    st.subheader("What NISQ noise costs")
    noisy_run = next(r for label, runs in groups.items() if "noise" in label for r in runs)
    model = noisy_run.get("noise_model") or noise_record(noisy_run["config"]["noise"])
    st.markdown(f"qiskit.aer with the noise model of **{model['description']}** ({model['device']} from qiskit-ibm-runtime's "
                f"fake provider: {model['why']}) against the same simulator without noise (both 1,024 shots). "
                "Positive numbers: accuracy lost or loss added by the noise.")
    frame = pd.DataFrame(cost).set_index("epoch")
    n1, n2 = st.columns(2)
    n1.line_chart(frame[["val_acc_cost", "train_acc_cost"]], height=220, x_label="epoch", y_label="accuracy lost")
    n2.line_chart(frame[["val_loss_cost"]], height=220, x_label="epoch", y_label="validation loss added")
    last = cost[-1]
    st.markdown(f"After the last epoch the noise costs **{last['val_acc_cost']:.1%}** validation accuracy and "
                f"**{last['val_loss_cost']:+.3f}** validation loss.")

st.subheader("The same training on a cloud QPU (estimate)")
st.caption("Assumptions, not measurements: change them to your provider's. Circuit counts come from the recorded runs.")
a1, a2, a3, a4 = st.columns(4)
queue = a1.number_input("queue wait per job (s)", 0.0, 86_400.0, 60.0, step=10.0)
shot_us = a2.number_input("time per shot (µs)", 1.0, 10_000.0, 250.0, step=50.0)
overhead = a3.number_input("overhead per circuit (s)", 0.0, 60.0, 0.05, step=0.05)
per_job = a4.number_input("circuits per job", 1, 10_000, 1, help="1 = the article's single jobs; 228 = one training step per job")
quantum_runs = [runs[0] for label, runs in groups.items() if label in shown and comparison.family(runs[0]) != "classical"]
if quantum_runs:
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

show_grid_studies(chosen)
