"""``import_pennylane``: a training process imports PennyLane without cirq and matplotlib, and loses nothing by it."""

from __future__ import annotations

import json
import subprocess
import sys

from core.paths import PROJECT_ROOT

LEAN_THEN_BOTH = """
import json, sys
from core.circuit.pennylane_ops import import_pennylane
qml = import_pennylane()
loaded = {name: name in sys.modules for name in ("cirq", "matplotlib")}
device = qml.device("default.qubit", wires=1)
@qml.qnode(device)
def circuit(x):
    qml.RX(x, wires=0)
    return qml.expval(qml.PauliZ(0))
value = float(circuit(0.0))
import cirq, matplotlib.pyplot  # both still import afterwards
print(json.dumps({"loaded": loaded, "value": value, "again": import_pennylane() is qml,
                  "cirq": hasattr(cirq, "Circuit"), "mpl": hasattr(matplotlib.pyplot, "figure")}))
"""

MATPLOTLIB_FIRST = """
import json, sys
import matplotlib
from core.circuit.pennylane_ops import import_pennylane
import_pennylane()
from pennylane.drawer import mpldrawer
print(json.dumps({"has_mpl": mpldrawer.has_mpl, "cirq": "cirq" in sys.modules}))
"""


def _run(code: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_pennylane_imports_without_cirq_and_matplotlib_which_import_normally_after():
    out = _run(LEAN_THEN_BOTH)
    assert out["loaded"] == {"cirq": False, "matplotlib": False}
    assert out["value"] == 1.0 and out["again"]
    assert out["cirq"] and out["mpl"], "neither is left blocked"


def test_a_module_already_loaded_is_not_skipped():
    out = _run(MATPLOTLIB_FIRST)
    assert out == {"has_mpl": True, "cirq": False}
