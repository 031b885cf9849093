"""Faces in photos: detection recall, false faces, per-face accuracy, against today's whole-image verdict, and speed.

    python bench/bench_faces.py [--scenes 300] [--seed 1] [--checkpoint CKPT] [--out bench/out/faces.json]
    python bench/bench_faces.py --calibrate     # the detector's box against the training images' framing
    python bench/bench_faces.py --speed-only    # only the speed rows, before and after

Scenes (tools/scenes.py): 1–4 face images of known class from face-mask-pool
(minus near-duplicates of face-mask-410's images), 60–400 px high, pasted at
random places onto pictures without faces. A face counts as found when the
region the training images would frame around the detector's box (TRAINING_FRAMING),
or the detector's box itself, overlaps the pasted picture with IoU ≥ 0.4 (the
data set's pictures range from a tight face to a face with shoulders); every
other box is a false face.
Per-face accuracy: the found faces' verdicts against their class. Today's path
classifies the whole scene once; its verdict is scored against every face in
the scene. The pool's pictures are screened by one fixed detector, so every
variant is scored on the same scenes. Speed: one 1280×720 scene with 4 faces,
warm, detection and classification timed apart, with the server's settings
(one thread for each look of onnxruntime and for torch; the looks run side by
side, one per core) and with two threads a look; beside it the first shipped
passes (one look at 0.5 × and one at 1.5 ×, the whole network), in turn.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections import defaultdict
from dataclasses import asdict
from pathlib import Path

import torch
from PIL import Image

from core.data.dataset import CLASSES, list_all, list_split
from core.data.images import load_rgb
from core.faces.boxes import Box, overlap_of_smaller
from core.faces.crops import FRAMING, TRAINING_FRAMING, Framing, crop_region
from core.faces.detector import ENDS_SEARCH, PASSES, SMALL, THRESHOLD, Pass, RetinaFaceDetector
from core.faces.retinaface_model import STRIDES
from core.learning.checkpoints import best_quantum_checkpoint, load_checkpoint
from core.learning.predict import Predictor
from core.paths import PROJECT_ROOT, SHARED_DATA_DIR
from tools.scenes import NO_FACE_CHECKS, face_pool, make_scene, match, near_duplicates, scenes, skimage_picture

POOL = SHARED_DATA_DIR.parent / "face-mask-pool"
SCREENING = (Pass(0.5), Pass(1.5, below=SMALL))  # the detector that screens the pool: the first one shipped
GOALS = {"recall_mask": 0.95, "recall_no_mask": 0.95, "face_accuracy": 0.95, "false_per_scene": 0.1, "total_ms": 300}
SIZE_BUCKETS = ((60, 120), (120, 240), (240, 401))


def scene_pool(data_dir: Path, per_class: int, seed: int) -> tuple[dict, dict]:
    """Face pictures for the scenes: a seeded sample of face-mask-pool, single-face close-ups only.

    The pictures are screened by one fixed detector (``SCREENING``), not the one measured, so every
    variant of the detector is scored on the same scenes.

    Left out: near-duplicates of face-mask-410's images, and pictures that are not one face filling
    the frame (group photos, collages, half-body shots), which is what the detector finds when it
    sees the picture alone: two or more faces of like size, or a face under 40 % of the picture's
    side (the scenes pair a box with a picture down to 30 %). A picture in which the detector finds
    no face stays in (its misses count against recall).
    """
    everything = face_pool(POOL)
    references = [s.path for s in list_all(data_dir)]
    duplicates = near_duplicates(everything[0] + everything[1], references)
    detector = screening_detector()
    rng, pool, left_out = random.Random(seed), {}, {"near_duplicates": len(duplicates), "not_close_ups": 0, "screened": 0}
    for label, paths in face_pool(POOL, exclude=duplicates).items():
        sample = rng.sample(paths, min(per_class, len(paths)))
        pool[label] = [p for p in sample if _close_up(load_rgb(p), detector)]
        left_out["screened"] += len(sample)
        left_out["not_close_ups"] += len(sample) - len(pool[label])
    return pool, left_out


def screening_detector() -> RetinaFaceDetector:
    """The detector as first shipped, every pass at once: a later detector's defaults must not change the scenes."""
    return RetinaFaceDetector(passes=SCREENING, close_ups_first=False)


def _close_up(picture: Image.Image, detector: RetinaFaceDetector) -> bool:
    sides = sorted((max(f.box.width, f.box.height) for f in detector.detect(picture)), reverse=True)
    if not sides:
        return True
    several = len(sides) > 1 and sides[1] >= 0.5 * sides[0]
    return not several and sides[0] >= 0.4 * max(picture.size)


def evaluate(predictor: Predictor, count: int, seed: int, pool: dict[int, list[Path]]) -> dict:
    """Recall (both pairing rules), false faces, per-face accuracy, and today's whole-image verdict, over the scenes."""
    n = defaultdict(int)  # counters, by name
    for scene in scenes(count, seed, pool):
        verdict = predictor.predict_faces(scene.image, whole_image=True, max_faces=50)
        boxes = [Box(*f.box) for f in verdict.faces]
        truth = [f.box for f in scene.faces]
        framed = [crop_region(b, TRAINING_FRAMING) for b in boxes]
        strict, _ = match(truth, boxes, framed)
        pairs, unpaired = match(truth, boxes, framed, inside=True)
        n["false"] += len(unpaired)
        n["false_iou"] += len(boxes) - len(strict)
        whole = CLASSES.index(verdict.whole_image.label)
        n["whole_right"] += sum(f.label == whole for f in scene.faces)
        n["scenes_right"] += all(f.label == whole for f in scene.faces)
        for i, face in enumerate(scene.faces):
            bucket = next(f"{a}-{b - 1} px" for a, b in SIZE_BUCKETS if a <= face.box.height < b)
            n[f"total {face.label}"] += 1
            n[f"total {bucket}"] += 1
            n[f"iou {face.label}"] += i in strict
            if i in pairs:
                n[f"found {face.label}"] += 1
                n[f"found {bucket}"] += 1
                n["judged"] += 1
                n["right"] += CLASSES.index(verdict.faces[pairs[i]].prediction.label) == face.label
        n["faces"] += len(scene.faces)
    return {
        "scenes": count, "seed": seed, "faces": n["faces"],
        **{f"recall_{c}": n[f"found {i}"] / n[f"total {i}"] for i, c in enumerate(CLASSES)},
        **{f"recall_iou_{c}": n[f"iou {i}"] / n[f"total {i}"] for i, c in enumerate(CLASSES)},
        **{f"faces_{c}": n[f"total {i}"] for i, c in enumerate(CLASSES)},
        "recall_by_height": {k: n[f"found {k}"] / n[f"total {k}"] for k in (f"{a}-{b - 1} px" for a, b in SIZE_BUCKETS)},
        "false_per_scene": n["false"] / count, "false_per_scene_iou": n["false_iou"] / count,
        "face_accuracy": n["right"] / n["judged"], "faces_judged": n["judged"], "end_to_end_accuracy": n["right"] / n["faces"],
        "whole_image_face_accuracy": n["whole_right"] / n["faces"], "whole_image_scene_accuracy": n["scenes_right"] / count,
    }


def no_face_checks(predictor: Predictor) -> dict:
    """Faces reported on scikit-image's coffee, chelsea and rocket, at their size and at 1280 wide."""
    out = {}
    for name in NO_FACE_CHECKS:
        picture = skimage_picture(name)
        wide = picture.resize((1280, round(picture.height * 1280 / picture.width)), Image.Resampling.BICUBIC)
        out[name] = [len(predictor.detector.detect(p)) for p in (picture, wide)]
    return out


def close_ups(predictor: Predictor, data_dir: Path) -> dict:
    """The test split's close-ups: is a face found, and does its verdict agree with today's whole-image one?"""
    found = agree = right_faces = right_whole = 0
    samples = list_split(data_dir, "test")
    for sample in samples:
        verdict = predictor.predict_faces(load_rgb(sample.path), whole_image=True)
        whole = verdict.whole_image.label
        right_whole += whole == CLASSES[sample.label]
        if verdict.faces:
            found += 1
            face = max(verdict.faces, key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1])).prediction.label
            agree += face == whole
            right_faces += face == CLASSES[sample.label]
    n = len(samples)
    return {"images": n, "face_found": found / n, "same_verdict_as_whole_image": agree / max(found, 1),
            "accuracy_largest_face": right_faces / max(found, 1), "accuracy_whole_image": right_whole / n}


def speed(checkpoint_path: Path, pool: dict[int, list[Path]], threads: int, runs: int, detector: dict) -> dict:
    """Median seconds to detect and to classify the 4 faces of one 1280×720 scene, warm: with ``detector``'s settings
    ("after") and with the first shipped passes (``SCREENING``, "before"), one run of each in turn."""
    torch.set_num_threads(threads)
    checkpoint = load_checkpoint(checkpoint_path)
    variants = {"after": detector, "before": {**detector, "passes": SCREENING}}
    predictors = {name: Predictor(checkpoint, detector=RetinaFaceDetector(threads=threads, **settings))
                  for name, settings in variants.items()}
    scene = make_scene(random.Random(7), pool, 4, (1280, 720), "coffee")
    times: dict[str, dict[str, list[float]]] = {name: defaultdict(list) for name in variants}
    for round_ in range(3 + runs):
        for name, predictor in predictors.items():
            cpu = time.process_time()
            verdict = predictor.predict_faces(scene.image)
            if round_ >= 3:  # the first three warm up
                for part in ("detect", "classify"):
                    times[name][part].append(verdict.seconds[part])
                times[name]["cpu"].append(time.process_time() - cpu)
                times[name]["faces"].append(len(verdict.faces))
    return {"threads": threads, "runs": runs, **{name: _speed_summary(t) for name, t in times.items()}}


def _speed_summary(times: dict[str, list[float]]) -> dict:
    totals = sorted(d + c for d, c in zip(times["detect"], times["classify"], strict=True))
    return {"faces": statistics.median(times["faces"]), "detect_ms": 1000 * statistics.median(times["detect"]),
            "classify_ms": 1000 * statistics.median(times["classify"]), "total_ms": 1000 * statistics.median(totals),
            "total_p90_ms": 1000 * totals[int(0.9 * (len(totals) - 1))], "cpu_ms": 1000 * statistics.median(times["cpu"])}


def calibrate(data_dir: Path, heights: tuple[int, ...] = (100, 200, 300)) -> dict:
    """How the training images frame the face the detector finds, seen as faces in a photo are.

    Each training image is pasted ``heights`` pixels high onto a grey 1280×720 canvas (a face in a
    photo, not a close-up filling the frame); the ratios are the pasted picture's size over the
    detector's box, and the picture's centre below the box's, in box heights. Medians per class.
    """
    detector = RetinaFaceDetector(threads=2)
    ratios: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    missed = defaultdict(int)
    for sample in list_split(data_dir, "train"):
        picture, label = load_rgb(sample.path), CLASSES[sample.label]
        for height in heights:
            width = round(picture.width * height / picture.height)
            canvas = Image.new("RGB", (1280, 720), (128, 128, 128))
            x, y = (1280 - width) // 2, (720 - height) // 2
            canvas.paste(picture.resize((width, height), Image.Resampling.BICUBIC), (x, y))
            pasted = Box(x, y, x + width, y + height)
            faces = [f for f in detector.detect(canvas) if overlap_of_smaller(f.box, pasted) > 0.5]
            if not faces:
                missed[label] += 1
                continue
            box = max(faces, key=lambda f: f.box.area).box
            ratios[label].append((width / box.width, height / box.height, (pasted.centre[1] - box.centre[1]) / box.height))
    groups = {**ratios, "all": [r for rows in ratios.values() for r in rows]}
    summary = {}
    for label, rows in groups.items():
        summary[label] = {key: statistics.median(r[k] for r in rows) for k, key in enumerate(("width", "height", "shift_y"))}
        summary[label]["pastes"] = len(rows)
    summary["no_face_found"] = dict(missed)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenes", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--checkpoint", default=None, help="default: the best quantum model in checkpoints/")
    parser.add_argument("--data", default=str(SHARED_DATA_DIR), help="face-mask-410 (close-ups, near-duplicates)")
    parser.add_argument("--speed-runs", type=int, default=20)
    parser.add_argument("--speed-only", action="store_true", help="only the speed rows (the pool is still screened)")
    parser.add_argument("--pool-size", type=int, default=400, help="pictures per class drawn from the pool, then screened")
    parser.add_argument("--calibrate", action="store_true", help="only measure the training images' framing")
    parser.add_argument("--framing", default=None, help="WIDTH,HEIGHT,SHIFT_Y: classify another crop than FRAMING")
    parser.add_argument("--passes", type=passes, default=PASSES,
                        help="the detector's passes, SCALE[:BELOW][:m|:b][:sSTRIDE] comma-separated (m: mirrored, b: both "
                        "ways, scores averaged; s16: the network's levels from stride 16 up); default 0.5,1.5:250:b:s16")
    parser.add_argument("--threshold", type=float, default=THRESHOLD, help="the detector's score threshold")
    parser.add_argument("--ends-search", type=float, default=ENDS_SEARCH,
                        help="the share of the photo a face's training framing covers that ends the search at the coarse pass")
    parser.add_argument("--out", default=str(PROJECT_ROOT / "bench" / "out" / "faces.json"))
    args = parser.parse_args(argv)
    data_dir = Path(args.data)
    if args.calibrate:
        result = {"calibration": calibrate(data_dir)}
        print(json.dumps(result, indent=1))
    else:
        result = run(args, data_dir)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({**result, "when": time.strftime("%Y-%m-%d %H:%M:%S")}, indent=1))
    print(f"wrote {out}")
    return 0


def passes(text: str) -> tuple[Pass, ...]:
    """``0.5,1.5:250:b:s16`` → (Pass(0.5), Pass(1.5, below=250, both_ways=True, strides=(16, 32)))."""
    out = []
    for part in text.split(","):
        scale, *rest = part.split(":")
        below = [float(r) for r in rest if r not in ("m", "b") and not r.startswith("s")]
        smallest = next((int(r[1:]) for r in rest if r.startswith("s")), STRIDES[0])
        out.append(Pass(float(scale), below[0] if below else float("inf"), mirror="m" in rest, both_ways="b" in rest,
                        strides=tuple(s for s in STRIDES if s >= smallest)))
    return tuple(out)


def run(args, data_dir: Path) -> dict:
    checkpoint = Path(args.checkpoint) if args.checkpoint else best_quantum_checkpoint()
    torch.set_num_threads(1)
    framing = Framing(*map(float, args.framing.split(","))) if args.framing else FRAMING
    settings = {"passes": args.passes, "threshold": args.threshold, "ends_search": args.ends_search}
    predictor = Predictor(load_checkpoint(checkpoint), detector=RetinaFaceDetector(threads=1, **settings), framing=framing)
    pool, left_out = scene_pool(data_dir, args.pool_size, args.seed)
    print(f"pool: {len(pool[0])} mask + {len(pool[1])} no_mask face pictures; left out: {left_out}")
    speeds = [speed(checkpoint, pool, threads, args.speed_runs, settings) for threads in (1, 2)]
    if args.speed_only:
        print("\n".join(_speed_rows(speeds)))
        return {"checkpoint": checkpoint.name, "speed": speeds}
    started = time.perf_counter()
    scores = evaluate(predictor, args.scenes, args.seed, pool)
    print(f"{args.scenes} scenes in {time.perf_counter() - started:.0f} s")
    result = {"checkpoint": checkpoint.name, "framing": asdict(framing),
              "detector": {"passes": [asdict(p) for p in args.passes], "threshold": args.threshold,
                           "ends_search": args.ends_search},
              "pool": {"mask": len(pool[0]), "no_mask": len(pool[1]), "left_out": left_out}, "scenes": scores,
              "no_face_checks": no_face_checks(predictor), "close_ups": close_ups(predictor, data_dir),
              "speed": speeds, "goals": GOALS}
    print(table(result))
    return result


def table(r: dict) -> str:
    s, c = r["scenes"], r["close_ups"]
    sizes = ", ".join(f"{k} {v:.1%}" for k, v in s["recall_by_height"].items())
    rows = [
        "| measure | faces in photos (this change) | whole image (before) | goal |", "|---|---|---|---|",
        f"| recall, masked faces ({s['faces_mask']}) | {s['recall_mask']:.1%} (IoU alone {s['recall_iou_mask']:.1%}) "
        "| — | ≥ 95 % |",
        f"| recall, unmasked faces ({s['faces_no_mask']}) | {s['recall_no_mask']:.1%} (IoU alone {s['recall_iou_no_mask']:.1%}) "
        "| — | ≥ 95 % |",
        f"| recall by face height | {sizes} | — | |",
        f"| false faces per scene | {s['false_per_scene']:.3f} (IoU alone {s['false_per_scene_iou']:.3f}) | — | ≤ 0.1 |",
        f"| per-face accuracy (faces found: {s['faces_judged']}) | {s['face_accuracy']:.1%} | "
        f"{s['whole_image_face_accuracy']:.1%} (one verdict for every face) | ≥ 95 % |",
        f"| every face found and right | {s['end_to_end_accuracy']:.1%} | "
        f"{s['whole_image_scene_accuracy']:.1%} of scenes right | |",
        f"| faces on coffee / chelsea / rocket (own size, 1280 wide) | {r['no_face_checks']} | — | none |",
        f"| close-ups (test split, {c['images']}): face found | {c['face_found']:.1%} | — | |",
        f"| close-ups: same verdict as the whole image | {c['same_verdict_as_whole_image']:.1%} | — | |",
        f"| close-ups: accuracy | {c['accuracy_largest_face']:.1%} (largest face) | {c['accuracy_whole_image']:.1%} | |",
    ]
    return "\n".join(rows + _speed_rows(r["speed"]))


def _speed_rows(speeds: list[dict]) -> list[str]:
    return [f"| 1280×720, {sp['after']['faces']:.0f} faces, {sp['threads']} thread(s) a look: detect + classify, median "
            f"(CPU) | {_ms(sp['after'])} | {_ms(sp['before'])} (first shipped passes) | ≤ 300 ms |" for sp in speeds]


def _ms(sp: dict) -> str:
    return (f"{sp['detect_ms']:.0f} + {sp['classify_ms']:.0f} = {sp['total_ms']:.0f} ms (p90 {sp['total_p90_ms']:.0f}; "
            f"CPU {sp['cpu_ms']:.0f} ms)")


if __name__ == "__main__":
    raise SystemExit(main())
