"""Quantum-cloud adapters (IBM Quantum, D-Wave, Amazon Braket); each imports its SDK lazily, in its own module."""
