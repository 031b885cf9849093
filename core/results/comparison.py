"""Run records → the tables and series the backend comparison shows."""

from __future__ import annotations

import statistics
from collections import defaultdict

from core.execution.backends import BACKENDS

METRICS = ("train_acc", "val_acc", "train_loss", "val_loss", "seconds")


def series_label(record: dict) -> str:
    """What a line on the charts stands for: simulator, shots, noise; or the classical head."""
    cfg = record["config"]
    if cfg.get("head", "quantum") != "quantum":
        return f"classical {cfg['head']} head"
    shots = f", {cfg['shots']} shots" if cfg.get("shots") else ", analytic"
    noise = f", noise {cfg['noise']}" if cfg.get("noise") else ""
    return f"{cfg['backend']}{shots}{noise}"


def family(record: dict) -> str:
    cfg = record["config"]
    if cfg.get("head", "quantum") != "quantum":
        return "classical"
    backend = BACKENDS.get(cfg["backend"])
    return backend.family if backend else "pennylane"


def completed(records: list[dict], backbone: str | None = None, seeds: list[int] | None = None) -> list[dict]:
    return [
        r for r in records
        if r["status"] == "completed" and (backbone is None or r["config"]["backbone"] == backbone)
        and (seeds is None or r["config"]["seed"] in seeds)
    ]


def group(records: list[dict]) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        groups[series_label(r)].append(r)
    return dict(groups)


def _mean_spread(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def epoch_curves(runs: list[dict]) -> list[dict]:
    """Per epoch: mean and standard deviation over the runs (seeds) of each metric."""
    epochs = min(len(r["epochs"]) for r in runs)
    rows = []
    for i in range(epochs):
        row: dict = {"epoch": i + 1, "runs": len(runs)}
        for metric in METRICS:
            row[metric], row[f"{metric}_sd"] = _mean_spread([r["epochs"][i][metric] for r in runs])
        rows.append(row)
    return rows


def summary_rows(groups: dict[str, list[dict]]) -> list[dict]:
    """One row per series: final/best/test accuracy, time per epoch, circuits and shots, mean ± sd over seeds."""
    rows = []
    for label, runs in groups.items():
        def ms(values, scale=1.0):
            mean, sd = _mean_spread([v * scale for v in values])
            return mean, sd

        row = {"series": label, "family": family(runs[0]), "seeds": sorted(r["config"]["seed"] for r in runs)}
        for key, values, scale in (
            ("final_train_acc", [r["epochs"][-1]["train_acc"] for r in runs], 100),
            ("final_val_acc", [r["epochs"][-1]["val_acc"] for r in runs], 100),
            ("best_val_acc", [r["best"]["val_acc"] for r in runs], 100),
            ("test_acc", [r["test"]["accuracy"] for r in runs], 100),
            ("test_top1_error", [r["test"]["top1_error"] for r in runs], 100),
            ("seconds_per_epoch", [statistics.fmean(e["seconds"] for e in r["epochs"]) for r in runs], 1),
            ("total_seconds", [r["totals"]["seconds"] for r in runs], 1),
        ):
            row[key], row[f"{key}_sd"] = ms(values, scale)
        row["circuits"] = int(statistics.fmean(r["totals"]["circuits"] for r in runs))
        row["shots"] = int(statistics.fmean(r["totals"]["shots"] for r in runs))
        row["confusion"] = [[sum(r["test"]["confusion"][i][j] for r in runs) for j in range(2)] for i in range(2)]
        rows.append(row)
    return rows


def article_style_table(runs: list[dict]) -> list[dict]:
    """Epochs 1–3 and the last ten, as the article printed its log (means over seeds)."""
    curves = epoch_curves(runs)
    keep = [c for c in curves if c["epoch"] <= 3 or c["epoch"] > len(curves) - 10]
    return [{"epoch": c["epoch"], "train loss": round(c["train_loss"], 4), "train acc": round(c["train_acc"], 4),
             "val loss": round(c["val_loss"], 4), "val acc": round(c["val_acc"], 4)} for c in keep]


def noise_cost(groups: dict[str, list[dict]]) -> list[dict] | None:
    """Per epoch, noisy minus noiseless qiskit.aer (1,024 shots): accuracy and loss differences."""
    noisy = next((runs for label, runs in groups.items() if "noise" in label and label.startswith("qiskit.aer")), None)
    clean = next((runs for label, runs in groups.items() if label.startswith("qiskit.aer") and "noise" not in label), None)
    if not noisy or not clean:
        return None
    rows = []
    for n, c in zip(epoch_curves(noisy), epoch_curves(clean)):
        rows.append({"epoch": n["epoch"], "val_acc_cost": c["val_acc"] - n["val_acc"],
                     "val_loss_cost": n["val_loss"] - c["val_loss"], "train_acc_cost": c["train_acc"] - n["train_acc"]})
    return rows


def markdown_table(groups: dict[str, list[dict]]) -> str:
    """The README's results table: mean ± sd over seeds per series, the article's figures beside them."""
    from core.results.article import article_results

    lines = ["| series | seeds | train acc. (epoch 30) % | val. acc. (epoch 30) % | best val. acc. % | test acc. % "
             "| s / epoch | circuits / run |",
             "|---|---|---|---|---|---|---|---|"]
    order = sorted(summary_rows(groups), key=lambda r: (r["family"] == "classical", r["series"]))
    for r in order:
        cells = [f"{r[k]:.2f} ± {r[k + '_sd']:.2f}" for k in ("final_train_acc", "final_val_acc", "best_val_acc", "test_acc")]
        lines.append(f"| {r['series']} | {len(r['seeds'])} | " + " | ".join(cells)
                     + f" | {r['seconds_per_epoch']:.2f} ± {r['seconds_per_epoch_sd']:.2f} | {r['circuits']:,} |")
    article = article_results()
    final = article["final_train_accuracy"]
    log = article["qiskit_log"][-1]
    for backend, name in (("cirq.simulator", "Cirq"), ("qiskit.aer", "Qiskit"), ("default.qubit", "PennyLane")):
        val = f"{log['val_acc'] * 100:.2f}" if backend == "qiskit.aer" else "—"
        seconds = f"{article['qiskit_training_seconds'] / 30:.0f}" if backend == "qiskit.aer" else "—"
        lines.append(f"| the article: {name}, ResNet-18 | 1 | {final[backend] * 100:.2f} | {val} | — | — | {seconds} | — |")
    return "\n".join(lines)
