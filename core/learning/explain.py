"""Why this verdict: where the photo mattered (Grad-CAM), what each qubit's angle did (parameter shift), and what if.

* :func:`saliency_map` — Grad-CAM of the explained class's log-odds w.r.t. the backbone's last convolutional
  block, back through the whole hybrid model (pre_net → tanh → circuit → post_net); one backbone forward, and
  one batched forward and backward through the head.
* :func:`angle_attribution` — ∂P(mask)/∂θ_i for each input angle by the parameter-shift rule (exact for RY),
  chained through post_net and softmax by hand, beside torch autograd's value for the same derivative.
* :func:`what_if` / :func:`probability_of_mask` — P(mask) on chosen angles, as the model computes it.

Class index 0 is "mask" (``core.data``'s CLASSES order, which every checkpoint records).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from PIL import Image

from core.circuit.definition import CircuitSpec
from core.execution.executor import CircuitExecutor
from core.learning.heads import DressedQuantumHead

MASK = 0  # index of "mask" in a checkpoint's classes
SHIFT = math.pi / 2  # the parameter-shift rule's shift for RY
STEPS, MAX_STEPS = 16, 256  # saliency's points along the path from A = 0 to the photo's activations


@dataclass
class Saliency:
    """Grad-CAM of one verdict, on the photo's own pixels."""

    heat: np.ndarray  # (H, W) in [0, 1] at the image's size; 0 outside ``seen``
    class_index: int  # the class explained
    label: str
    probability: float  # the model's P(class explained)
    log_odds: float  # what was differentiated: log P(c) − log(1 − P(c)), which does not saturate as P(c) → 1
    cam: np.ndarray  # (h, w) the ReLU'd Grad-CAM on the backbone's grid, before scaling to [0, 1]
    seen: tuple[int, int, int, int]  # the region the network saw (left, top, right, bottom): the transform's centre crop
    angles: np.ndarray  # the circuit's input angles for this photo (empty for a classical head)
    steps: int  # 1: Grad-CAM; K: the gradient averaged over A·k/K (integrated Grad-CAM)


@dataclass
class Attribution:
    """∂P(mask)/∂θ_i for one input: the parameter-shift rule's circuits and result, and autograd's result."""

    angles: np.ndarray  # (n,) the input angles θ
    expvals: np.ndarray  # (n,) ⟨Z_q⟩ at θ
    probability: float  # P(mask) at θ
    plus: np.ndarray  # (n, n) row i: ⟨Z⟩ of the circuit with θ_i + π/2
    minus: np.ndarray  # (n, n) row i: ⟨Z⟩ of the circuit with θ_i − π/2
    d_expvals: np.ndarray  # (n, n) [i, q] = ∂⟨Z_q⟩/∂θ_i = (plus − minus) / 2
    d_probability_d_expvals: np.ndarray  # (n,) ∂P(mask)/∂⟨Z_q⟩, through post_net and softmax
    shift_gradient: np.ndarray  # (n,) ∂P(mask)/∂θ_i by the parameter-shift rule
    autograd_gradient: np.ndarray  # (n,) the same by torch autograd through the executor's VJP

    @property
    def max_difference(self) -> float:
        """Largest gap between the two gradients (round-off for an exact simulator)."""
        return float(np.max(np.abs(self.shift_gradient - self.autograd_gradient)))

    @property
    def circuits(self) -> int:
        """Circuits the parameter-shift rule ran: θ, then θ ± π/2 e_i for each angle."""
        return 1 + 2 * len(self.angles)


def saliency_map(predictor, image: Image.Image, class_index: int | None = None, steps: int = STEPS) -> Saliency:
    """Grad-CAM of ``predictor``'s verdict on ``image`` (a PIL photo or face crop), default the predicted class.

    ``predictor`` is a :class:`core.learning.predict.Predictor` (anything with ``extractor``, ``transform``,
    ``head`` and ``classes``). The class's log-odds is differentiated w.r.t. the last convolutional block's
    activations A, through the whole head. ``steps=1`` is plain Grad-CAM (the gradient at A); ``steps=K``
    averages the gradient at A·k/K, k = 1…K (integrated Grad-CAM), which still explains a saturated verdict,
    where the gradient at A alone can point away from the class everywhere and leave an empty map.
    The backbone runs once; the K points go through the head in one batched forward and backward.
    """
    if not isinstance(image, Image.Image):
        raise ValueError(f"saliency_map needs a PIL image, got {type(image).__name__}")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not 1 <= steps <= MAX_STEPS:
        raise ValueError(f"steps must be a whole number from 1 to {MAX_STEPS}, got {steps!r}")
    rgb = image.convert("RGB")
    extractor, head = predictor.extractor, predictor.head
    maps = extractor.feature_maps(predictor.transform(rgb)[None])
    scales = torch.arange(1, steps + 1, dtype=maps.dtype) / steps  # the last one is the photo itself
    path = (scales[:, None, None, None] * maps).requires_grad_(True)
    with torch.enable_grad():
        out = head.run(extractor.pool(path))
        chosen = int(out.logits[-1].argmax()) if class_index is None else _class_index(class_index, out.logits.shape[1])
        log_odds = _log_odds(out.logits, chosen)
        (grad,) = torch.autograd.grad(log_odds.sum(), path)
    weights = grad.mean(dim=(0, 2, 3))  # Grad-CAM: each channel weighted by its mean gradient (here along the path too)
    cam = torch.relu((weights[:, None, None] * maps[0]).sum(0)).double()
    seen = _seen_region(rgb.size, extractor.info.transform)
    return Saliency(
        heat=_heat_on_image(cam, seen, rgb.size),
        class_index=chosen,
        label=str(predictor.classes[chosen]),
        probability=float(out.logits[-1].detach().softmax(-1)[chosen]),
        log_odds=float(log_odds[-1].detach()),
        cam=cam.numpy(),
        seen=seen,
        angles=out.angles[-1].detach().double().numpy(),
        steps=steps,
    )


def overlay(image: Image.Image, heat: np.ndarray, alpha: float = 0.45) -> Image.Image:
    """``heat`` (H, W) in [0, 1] as a jet colour map (blue cold, red hot) blended over ``image``."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    photo = np.asarray(image.convert("RGB"), dtype=float) / 255.0
    heat = np.asarray(heat, dtype=float)
    if heat.shape != photo.shape[:2]:
        raise ValueError(f"heat map is {heat.shape[1]}×{heat.shape[0]}, the image {photo.shape[1]}×{photo.shape[0]}")
    blended = (1.0 - alpha) * photo + alpha * jet(heat)
    return Image.fromarray(np.round(blended * 255.0).astype(np.uint8))


def jet(values: np.ndarray) -> np.ndarray:
    """The classic jet colour map, numpy only: (...,) in [0, 1] → (..., 3) RGB in [0, 1]."""
    x = np.clip(np.asarray(values, dtype=float), 0.0, 1.0)[..., None]
    centres = np.array([3.0, 2.0, 1.0])  # red, green, blue peak at x = 3/4, 1/2, 1/4
    return np.clip(1.5 - np.abs(4.0 * x - centres), 0.0, 1.0)


def angle_attribution(head: DressedQuantumHead, angles) -> Attribution:
    """Parameter-shift and autograd ∂P(mask)/∂θ_i at the input angles ``angles`` (n,), on an exact simulator.

    The head's executor is used when it is analytic, else an exact default.qubit one. All 1 + 2n circuits
    (θ, θ ± π/2 e_i) run in one batched call; everything is computed in float64.
    """
    theta = _angle_vector(head, angles)
    n = len(theta)
    executor = _analytic_executor(head)
    rows = np.vstack([theta, theta + SHIFT * np.eye(n), theta - SHIFT * np.eye(n)])
    with torch.no_grad():
        expvals = _expvals64(head, executor, torch.from_numpy(rows)).numpy()
    base, plus, minus = expvals[0], expvals[1 : n + 1], expvals[n + 1 :]
    d_expvals = (plus - minus) / 2.0
    probs, jacobian = _softmax_and_jacobian(head, base)
    d_p_d_z = jacobian[MASK]
    return Attribution(
        angles=theta,
        expvals=base,
        probability=float(probs[MASK]),
        plus=plus,
        minus=minus,
        d_expvals=d_expvals,
        d_probability_d_expvals=d_p_d_z,
        shift_gradient=d_expvals @ d_p_d_z,
        autograd_gradient=_autograd_gradient(head, executor, theta),
    )


def what_if(head: DressedQuantumHead, angles, qubit: int, values) -> np.ndarray:
    """P(mask) as angle ``qubit`` takes each of ``values`` (others as in ``angles``), in one batched call."""
    theta = _angle_vector(head, angles)
    n = len(theta)
    if isinstance(qubit, bool) or not isinstance(qubit, (int, np.integer)) or not 0 <= qubit < n:
        raise ValueError(f"qubit must be a whole number from 0 to {n - 1}, got {qubit!r}")
    sweep = np.asarray(values, dtype=float)
    if sweep.ndim != 1 or sweep.size == 0 or not np.all(np.isfinite(sweep)):
        raise ValueError(f"values must be a non-empty 1-D array of finite angles, got shape {sweep.shape}")
    rows = np.repeat(theta[None], len(sweep), axis=0)
    rows[:, qubit] = sweep
    return _mask_probabilities(head, rows)


def probability_of_mask(head: DressedQuantumHead, angles) -> float:
    """P(mask) for one vector of input angles (n,), as the model computes it (the head's executor and dtype)."""
    return float(_mask_probabilities(head, _angle_vector(head, angles)[None])[0])


def _mask_probabilities(head: DressedQuantumHead, rows: np.ndarray) -> np.ndarray:
    # The head's own dtype and executor: at a photo's own angles this is the Predictor's number, bit for bit.
    dtype = head.post_net.weight.dtype
    with torch.no_grad():
        logits = head.from_angles(torch.from_numpy(rows).to(dtype)).logits
    return logits.softmax(-1)[:, MASK].double().numpy()


def _angle_vector(head, angles) -> np.ndarray:
    if not isinstance(head, DressedQuantumHead):
        raise ValueError(f"explaining the circuit needs a quantum head, got {type(head).__name__}")
    if isinstance(angles, torch.Tensor):
        angles = angles.detach().cpu().double().numpy()
    theta = np.array(angles, dtype=float)
    n = head.spec.n_qubits
    if theta.shape != (n,):
        raise ValueError(f"angles must be a vector of {n} numbers (one per qubit), got shape {theta.shape}")
    if not np.all(np.isfinite(theta)):
        raise ValueError(f"angles must be finite numbers, got {theta.tolist()}")
    return theta


def _class_index(index: int, n_classes: int) -> int:
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < n_classes:
        raise ValueError(f"class_index must be a whole number from 0 to {n_classes - 1}, got {index!r}")
    return int(index)


def _log_odds(logits: torch.Tensor, c: int) -> torch.Tensor:
    """log P(c) − log(1 − P(c)) for each row of ``logits`` (B, classes)."""
    others = torch.cat([logits[:, :c], logits[:, c + 1 :]], dim=1)
    return logits[:, c] - torch.logsumexp(others, dim=1)


def _seen_region(size: tuple[int, int], transform) -> tuple[int, int, int, int]:
    """The centre crop of ``Resize(resize)`` then ``CenterCrop(crop)``, in the original image's pixels."""
    width, height = size
    scale = transform.resize / min(width, height)
    side_w, side_h = min(transform.crop / scale, width), min(transform.crop / scale, height)
    left, top = (width - side_w) / 2, (height - side_h) / 2
    return round(left), round(top), round(left + side_w), round(top + side_h)


def _heat_on_image(cam: torch.Tensor, seen: tuple[int, int, int, int], size: tuple[int, int]) -> np.ndarray:
    """``cam`` upsampled (bilinear) onto the region the network saw, scaled so its peak is 1; 0 elsewhere."""
    left, top, right, bottom = seen
    heat = np.zeros((size[1], size[0]))
    if float(cam.max()) <= 0.0 or right <= left or bottom <= top:
        return heat  # nothing in the photo pushed toward this class
    up = torch.nn.functional.interpolate(cam[None, None], size=(bottom - top, right - left), mode="bilinear",
                                         align_corners=False)[0, 0]
    heat[top:bottom, left:right] = (up / up.max()).clamp(0.0, 1.0).numpy()
    return heat


def _analytic_executor(head: DressedQuantumHead) -> CircuitExecutor:
    if head.executor is not None and head.executor.shots is None:
        return head.executor
    return _exact_executor(head.spec)


@lru_cache(maxsize=4)
def _exact_executor(spec: CircuitSpec) -> CircuitExecutor:
    from core.execution.factory import make_executor
    from core.execution.settings import ExecutionSettings

    return make_executor(spec, ExecutionSettings("default.qubit", None))


def _expvals64(head: DressedQuantumHead, executor: CircuitExecutor, angles: torch.Tensor) -> torch.Tensor:
    return executor.expvals(angles.double(), head.q_params.detach().double())


def _logits64(head: DressedQuantumHead, expvals: torch.Tensor) -> torch.Tensor:
    """post_net in float64: the head's ``from_angles`` last layer, with its float32 weights widened exactly."""
    return torch.nn.functional.linear(expvals, head.post_net.weight.detach().double(), head.post_net.bias.detach().double())


def _softmax_and_jacobian(head: DressedQuantumHead, expvals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Softmax probabilities p and ∂p_c/∂⟨Z_q⟩ = Σ_k p_c (δ_ck − p_k) W_kq, by hand."""
    weight = head.post_net.weight.detach().double().numpy()
    logits = weight @ expvals + head.post_net.bias.detach().double().numpy()
    p = np.exp(logits - logits.max())
    p /= p.sum()
    return p, (np.diag(p) - np.outer(p, p)) @ weight


def _autograd_gradient(head: DressedQuantumHead, executor: CircuitExecutor, theta: np.ndarray) -> np.ndarray:
    angles = torch.from_numpy(theta.copy())[None].requires_grad_(True)
    with torch.enable_grad():
        p_mask = _logits64(head, _expvals64(head, executor, angles)).softmax(-1)[0, MASK]
        (grad,) = torch.autograd.grad(p_mask, angles)
    return grad[0].numpy()
