"""Hybrid workflows that work on backends and are backends: decomposition loops."""

from kakehashi.hybrid.decompose import DecomposeBackend

__all__ = ["DecomposeBackend"]
