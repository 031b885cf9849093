"""A test-set evaluation on an IBM device: every image's circuit in ONE job, sent once; top-1 error from the counts."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from core.circuit.definition import CircuitSpec, parameter_rows
from core.circuit.readout import expvals_from_counts, expvals_from_probabilities
from core.data.dataset import list_split
from core.files import sha256_file
from core.ibm import budget, submission
from core.ibm.connection import Connection, IBMError, connection, how_to_enable
from core.ibm.job_cache import JobRecord, job_key, load_record, save_record, submission_lock
from core.paths import data_dir as default_data_dir

# torch, the backbone and the simulator are imported where they are used: the explorer page imports this
# module with the IBM panel, and a look-up must stay cheap.


def _file_digest(path: Path) -> str:
    return sha256_file(Path(path))[:16]


def spread_indices(n_images: int, limit: int | None) -> list[int]:
    """All images, or ``limit`` of them spread evenly over the split (so both classes appear)."""
    if not limit or limit >= n_images:
        return list(range(n_images))
    return sorted({int(round(i)) for i in np.linspace(0, n_images - 1, limit)})


def _chosen_images(checkpoint, data_dir, limit: int | None, split: str) -> tuple[list, list[int]]:
    """The split's images to evaluate (``limit`` of them, spread out) and their indices; cheap, no backbone."""
    if checkpoint.head_kind != "quantum":
        raise ValueError(f"{checkpoint.path.name} has a classical head: nothing to send to a quantum device")
    samples = list_split(data_dir or default_data_dir(), split)
    if not samples:
        raise FileNotFoundError(f"no images in the {split} split of {data_dir or default_data_dir()}")
    indices = spread_indices(len(samples), limit)
    return [samples[i] for i in indices], indices


def within_budget(data_dir, limit: int | None, shots: int, max_shots: int, split: str = "test") -> tuple[int, int]:
    """(images, shots per image) for a test-set job that fits ``max_shots`` shots in all (budget.fit_evaluation)."""
    samples = list_split(data_dir or default_data_dir(), split)
    if not samples:
        raise FileNotFoundError(f"no images in the {split} split of {data_dir or default_data_dir()}")
    return budget.fit_evaluation(len(spread_indices(len(samples), limit)), shots, max_shots)


def _angles_and_weights(checkpoint, head, chosen: list) -> tuple[np.ndarray, np.ndarray]:
    """The chosen images' circuit angles (through the backbone) and the circuit's weights."""
    import torch

    from core.learning.features import extract_features

    features = extract_features([s.path for s in chosen], checkpoint.meta["backbone"])
    with torch.no_grad():
        return head.angles(features).double().numpy(), head.q_params.detach().double().numpy()


def evaluation_key(checkpoint, indices: list[int], split: str, shots: int, conn: Connection, noiseless: bool = False) -> str:
    """Cache key of an evaluation: the checkpoint's content, the images, shots, mode and backend."""
    return job_key({"kind": "evaluation", "mode": conn.mode, "backend": submission.device_name(conn, noiseless),
                 "checkpoint": _file_digest(checkpoint.path), "split": split, "indices": indices, "shots": int(shots)})


def _finish_evaluation(record: JobRecord, head) -> JobRecord:
    """Top-1 error from the counts: ⟨Z⟩ per qubit from each image's counts, then the head's last layer."""
    import torch

    from core.learning.evaluate import confusion_matrix

    if not record.done or record.metrics is not None:
        return record
    expvals = np.stack([expvals_from_counts(c, record.n_qubits)[0] for c in record.counts])
    with torch.no_grad():
        logits = head.post_net(torch.as_tensor(expvals, dtype=head.post_net.weight.dtype))
    predictions = logits.argmax(-1).tolist()
    labels = record.inputs["labels"]
    accuracy = float(np.mean(np.asarray(predictions) == np.asarray(labels)))
    record.metrics = {"top1_error": 1.0 - accuracy, "accuracy": accuracy,
                      "confusion": confusion_matrix(labels, predictions, logits.shape[-1]),
                      "predictions": predictions, "expvals": np.round(expvals, 6).tolist()}
    save_record(record)
    return record


def _exact_top1_error(head, angles: np.ndarray, weights: np.ndarray, labels: list[int], spec: CircuitSpec) -> float:
    """The same images through the exact simulator (default.qubit, analytic): the reference."""
    import torch

    from core.execution.single_circuit import exact_probabilities

    expvals = expvals_from_probabilities(np.atleast_2d(exact_probabilities(spec, angles, weights)), spec.n_qubits)
    with torch.no_grad():
        logits = head.post_net(torch.as_tensor(expvals, dtype=head.post_net.weight.dtype))
    return 1.0 - float(np.mean(logits.argmax(-1).numpy() == np.asarray(labels)))


def evaluate_test_set(checkpoint, data_dir: str | os.PathLike | None = None, limit: int | None = None, shots: int = 1024,
                      secrets: Mapping | None = None, conn: Connection | None = None, split: str = "test",
                      noiseless: bool = False, seed: int | None = None, submit: bool = True) -> JobRecord | None:
    """Top-1 error of a checkpoint with its circuit run on IBM Quantum: all images in ONE job, sent once.

    ``checkpoint`` is a :class:`core.learning.checkpoints.Checkpoint`; ``limit`` takes that
    many images spread over the split. The record's ``metrics`` appear once the job
    is DONE (at once in local mode; on a later call for a queued cloud job).
    ``submit=False`` only looks up (and refreshes) an earlier job.
    """
    conn = conn or connection(secrets)
    if conn is None:
        if not submit:
            return None
        raise IBMError(how_to_enable())
    chosen, indices = _chosen_images(checkpoint, data_dir, limit, split)
    spec, head = checkpoint.spec, checkpoint.build_head(executor=None)
    key = evaluation_key(checkpoint, indices, split, shots, conn, noiseless)
    with submission_lock():
        record = load_record(key)
        if record is None:
            if not submit:
                return None  # a look-up never runs the backbone
            budget.check(conn.mode, len(indices) * int(shots))  # before the backbone; submit() spends it
            angles, weights = _angles_and_weights(checkpoint, head, chosen)
            labels = [s.label for s in chosen]
            inputs = {"checkpoint": checkpoint.path.name, "checkpoint_sha256": _file_digest(checkpoint.path), "split": split,
                      "indices": indices, "labels": labels, "images": [s.path.name for s in chosen],
                      "angles": np.round(angles, 6).tolist(),
                      "exact_top1_error": _exact_top1_error(head, angles, weights, labels, spec)}
            rows = parameter_rows(angles, weights, spec)
            record = submission.submit(key, "evaluation", conn, spec, rows, shots, inputs, noiseless, seed)
        else:
            record = submission.refresh(record, conn)
    return _finish_evaluation(record, head)
