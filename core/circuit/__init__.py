"""The dressed circuit: its one definition (a plain gate list) and its translations (PennyLane, Qiskit, OpenQASM)."""
