"""kakehashi's own Ising engine: simulated bifurcation and a compiled annealer.

Backends (entry points in ``kakehashi.backends``): ``sb``
(:class:`~kakehashi.backends.sb.backend.SimulatedBifurcationBackend`) and ``anneal``
(:class:`~kakehashi.backends.sb.backend.AnnealBackend`). The engines themselves are
:func:`kakehashi.backends.sb.anneal.anneal` and :func:`kakehashi.backends.sb.sb.simulated_bifurcation`.
"""
