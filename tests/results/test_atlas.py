"""The decision atlas of the trained model over the real test set: points, regions, projection."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.paths import PROJECT_ROOT


@pytest.fixture(scope="module")
def split(face_mask_410, lite0):
    """The real test split's features, from the session's backbone."""
    from core.data.dataset import list_split
    from core.learning.features import extract_features, load_split_features

    extract_features([s.path for s in list_split(face_mask_410, "test")], lite0.info.name, extractor=lite0)
    return load_split_features(face_mask_410, lite0.info.name, "test")


@pytest.fixture(scope="module")
def mapped(head, split):
    from core.results.atlas import atlas

    return atlas(head, split)


def test_every_test_image_is_a_point_with_the_heads_verdict(head, split, mapped):
    assert len(mapped.points) == len(split.paths) == 120
    with torch.no_grad():
        p_mask = head.run(split.features).logits.softmax(-1)[:, 0].numpy()
    assert [p.path for p in mapped.points] == split.paths
    assert [p.truth for p in mapped.points] == [["mask", "no_mask"][int(k)] for k in split.labels]
    assert [p.predicted for p in mapped.points] == ["mask" if p >= 0.5 else "no_mask" for p in p_mask]
    assert np.allclose([p.p_mask for p in mapped.points], p_mask, atol=1e-5)
    wrong = sum(p.truth != p.predicted for p in mapped.points)
    assert wrong == 1  # the checkpoint's recorded test accuracy: 99.2 % of 120


def test_regions_agree_with_the_heads_predictions_at_the_points(mapped):
    # the cell that holds each point, found from the cell edges (not through the atlas's own region_at)
    column = np.floor((np.array([p.x for p in mapped.points]) - mapped.xs[0]) / mapped.cell[0] + 0.5).astype(int)
    row = np.floor((np.array([p.y for p in mapped.points]) - mapped.ys[0]) / mapped.cell[1] + 0.5).astype(int)
    assert column.min() >= 0 and column.max() < len(mapped.xs) and row.min() >= 0 and row.max() < len(mapped.ys)
    agree = [(mapped.p_mask[r, c] >= 0.5) == (p.predicted == "mask") for r, c, p in zip(row, column, mapped.points)]
    assert np.mean(agree) >= 0.99
    assert mapped.agreement == pytest.approx(np.mean(agree))


def test_the_grid_shows_both_classes_around_the_points(mapped):
    assert mapped.p_mask.shape == (40, 40) and len(mapped.xs) == len(mapped.ys) == 40
    assert ((mapped.p_mask >= 0) & (mapped.p_mask <= 1)).all()
    mask_share = np.mean(mapped.p_mask >= 0.5)
    assert 0.1 < mask_share < 0.9
    x, y = np.array([p.x for p in mapped.points]), np.array([p.y for p in mapped.points])
    (dx, dy), xs, ys = mapped.cell, mapped.xs, mapped.ys
    assert xs[0] - dx / 2 < x.min() and x.max() < xs[-1] + dx / 2  # the grid covers every point
    assert ys[0] - dy / 2 < y.min() and y.max() < ys[-1] + dy / 2
    cells = mapped.grid_cells()
    assert len(cells) == 1600 and cells[0] == pytest.approx((mapped.xs[0] - mapped.cell[0] / 2,
                                                              mapped.ys[0] - mapped.cell[1] / 2, mapped.p_mask[0, 0]))


def test_project_puts_a_test_image_on_its_point_and_back(head, split, mapped):
    with torch.no_grad():
        angles = head.angles(split.features).double().numpy()
    for k in (0, 37, 119):
        assert mapped.project(angles[k]) == pytest.approx((mapped.points[k].x, mapped.points[k].y), abs=1e-9)
        # the back-projection at a point's place is that image's own angles: the hidden directions come from it
        assert np.allclose(mapped.back_project([mapped.project(angles[k])])[0], angles[k], atol=1e-9)
    assert isinstance(mapped.project(angles[0])[0], float)
    with pytest.raises(ValueError, match="angles must be 4 finite numbers"):
        mapped.project([0.1, 0.2])


def test_pca_is_orthonormal_and_explains_the_spread(mapped):
    components = mapped.components
    assert np.allclose(components @ components.T, np.eye(4), atol=1e-9)
    assert mapped.explained_variance.sum() == pytest.approx(1.0)
    assert list(mapped.explained_variance) == sorted(mapped.explained_variance, reverse=True)
    assert mapped.explained_variance[0] > 0.9  # the trained angles saturate near ±π/2: one direction holds the spread


def test_far_from_the_points_the_shading_is_the_plain_back_projection(mapped):
    # every test image equally far: their hidden components average to the test set's mean, 0 after centring
    far = np.array([[mapped.xs[0], mapped.ys[0]]]) * 1e6
    plain = mapped.mean + far @ mapped.components[:2]
    assert np.allclose(mapped.back_project(far) - plain, 0.0, atol=1e-6)


def test_bad_input_is_a_clear_value_error(head, split):
    from core.learning.checkpoints import load_checkpoint
    from core.learning.features import SplitFeatures
    from core.results.atlas import atlas

    for grid in (1, 201, 2.5, True):
        with pytest.raises(ValueError, match="grid must be a whole number between 2 and 200"):
            atlas(head, split, grid)
    with pytest.raises(ValueError, match="the split is empty"):
        atlas(head, SplitFeatures(split.features[:0], split.labels[:0], []))
    mlp = load_checkpoint(PROJECT_ROOT / "checkpoints" / "best-efficientnet_lite0-mlp.pt").build_head()
    with pytest.raises(ValueError, match="quantum head's input angles"):
        atlas(mlp, split)
