"""Running the circuit: the backend registry, where a circuit runs (one settings object), noise, and the executors."""
