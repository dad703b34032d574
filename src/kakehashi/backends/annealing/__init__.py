"""Annealing-type heuristics on BQM targets (dwave-samplers: simulated annealing, tabu, descent)."""
