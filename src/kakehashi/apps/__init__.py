"""Domain applications: routing, portfolio selection, unit commitment, graph problems.

Each domain has a typed input read from its field's own files, ``to_problem()`` giving a
kakehashi :class:`~kakehashi.model.problem.Problem` (a compact MILP/MIQP for classical solvers
and a QUBO for Ising backends where sensible), ``interpret()`` giving the domain answer,
``validate()`` checking every domain rule independently of the model, a strong classical
baseline and a plot. Domain packages import matplotlib and the routing SDKs lazily.
"""
