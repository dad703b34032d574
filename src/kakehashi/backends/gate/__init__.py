"""Gate-model backends: QAOA on Qiskit primitives (Aer by default, or a user's SamplerV2/EstimatorV2)."""
