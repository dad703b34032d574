"""kakehashi's own Ising engine: simulated bifurcation and a compiled annealer.

Backends (entry points in ``kakehashi.backends``): ``sb``
(:class:`~kakehashi.backends.sb.backend.SimulatedBifurcationBackend`) and ``anneal``
(:class:`~kakehashi.backends.sb.backend.AnnealBackend`). The engines themselves are
:func:`kakehashi.backends.sb.anneal.anneal` and :func:`kakehashi.backends.sb.sb.simulated_bifurcation`.
"""

import os

# Idle OpenMP workers (numba's parallel kernels) sleep instead of spinning: on a shared or busy
# machine spinning workers take the cores the working ones need (measured on 2 loaded cores: a
# one-replica run 4x slower). Only a default, read when numba starts its OpenMP pool.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
