"""Run records → the tables and series the backend comparison shows."""

from __future__ import annotations

import statistics
from collections import defaultdict

from core.execution.backends import BACKENDS

METRICS = ("train_acc", "val_acc", "train_loss", "val_loss", "seconds")
SETTING_NAMES = {"n_qubits": "qubits"}  # a grid axis as the command line and the charts name it


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


def is_grid(record: dict) -> bool:
    """A grid study's run (``python -m core experiments --grid``): its cell's settings are in ``record["grid"]``."""
    return "grid" in record


def group(records: list[dict]) -> dict[str, list[dict]]:
    """Runs by series, seeds together; grid runs are left out (they vary the circuit: :func:`grid_studies`)."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        if not is_grid(r):
            groups[series_label(r)].append(r)
    return dict(groups)


def grid_studies(records: list[dict]) -> dict[str, list[dict]]:
    """Completed grid runs by study (what stayed fixed, the settings varied), then one row per cell, means over seeds.

    A row: ``row``/``column`` (the first grid setting's value; the others', joined), ``test_acc`` (%), ``train_seconds``
    (per run, features not counted), ``seconds_per_epoch``, each with ``_sd``, and ``seeds``.
    """
    cells: dict[str, dict[tuple, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for r in records:
        if is_grid(r) and r["status"] == "completed":
            names = " × ".join(SETTING_NAMES.get(n, n) for n in r["grid"])
            study = f"{series_label(r)}, {r['config']['epochs']} epochs: {names}"
            cells[study][tuple(r["grid"].items())].append(r)
    return {study: [_grid_row(dict(cell), runs) for cell, runs in by_cell.items()] for study, by_cell in cells.items()}


def _grid_row(cell: dict, runs: list[dict]) -> dict:
    names = list(cell)
    row = {"cell": cell, "row_name": SETTING_NAMES.get(names[0], names[0]), "row": cell[names[0]],
           "column_name": ", ".join(SETTING_NAMES.get(n, n) for n in names[1:]),
           "column": cell[names[1]] if len(names) == 2 else ", ".join(str(cell[n]) for n in names[1:]),
           "seeds": len(runs)}
    for key, values in (
        ("test_acc", [r["test"]["accuracy"] * 100 for r in runs]),
        ("train_seconds", [r["totals"]["seconds"] - r["totals"].get("feature_seconds", 0.0) for r in runs]),
        ("seconds_per_epoch", [statistics.fmean(e["seconds"] for e in r["epochs"]) for r in runs]),
    ):
        row[key], row[f"{key}_sd"] = _mean_spread(values)
    return row


def grid_finding(rows: list[dict]) -> str:
    """What a grid study shows, in a sentence from its numbers: the accuracy's range and the training time's."""
    def where(r: dict) -> str:
        return ", ".join(f"{SETTING_NAMES.get(n, n)} {v}" for n, v in r["cell"].items())

    best, worst = max(rows, key=lambda r: r["test_acc"]), min(rows, key=lambda r: r["test_acc"])
    fast, slow = min(rows, key=lambda r: r["train_seconds"]), max(rows, key=lambda r: r["train_seconds"])
    spread = max(r["test_acc_sd"] for r in rows)
    return (f"Over {len(rows)} cells, mean test accuracy runs from {worst['test_acc']:.1f} % ({where(worst)}) to "
            f"{best['test_acc']:.1f} % ({where(best)}), a range of {best['test_acc'] - worst['test_acc']:.1f} points "
            f"(within one cell, the seeds' standard deviation reaches {spread:.1f} points), while training takes "
            f"from {fast['train_seconds']:.0f} s ({where(fast)}) to {slow['train_seconds']:.0f} s ({where(slow)}) per run, "
            f"{slow['train_seconds'] / max(fast['train_seconds'], 1e-9):.1f} times as long.")


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
