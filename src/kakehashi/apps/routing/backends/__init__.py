"""Classical routing baselines as kakehashi backends (target kind ROUTING).

``pyvrp`` (hybrid genetic search, CVRP and TSP), ``lkh`` (LKH-3 through elkai, TSP only) and
``ortools-routing`` (OR-Tools routing with guided local search). Each imports its SDK lazily.
"""
