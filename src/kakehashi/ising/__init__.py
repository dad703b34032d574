"""kakehashi's own Ising engine: simulated bifurcation and a compiled annealer.

Backends (entry points in ``kakehashi.backends``): ``sb``
(:class:`~kakehashi.backends.ising.SimulatedBifurcationBackend`) and ``anneal``
(:class:`~kakehashi.backends.ising.AnnealBackend`). The engines themselves are
:func:`kakehashi.ising.anneal.anneal` and :func:`kakehashi.ising.sb.simulated_bifurcation`.
"""

import os

# Idle OpenMP workers (numba's parallel kernels) sleep instead of spinning: on a shared or busy
# machine spinning workers take the cores the working ones need (measured on 2 loaded cores: a
# one-replica run 4x slower). Only a default, read when numba starts its OpenMP pool.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
