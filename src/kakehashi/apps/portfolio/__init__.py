"""Cardinality-constrained mean–variance portfolios: OR-Library/CSV input, MIQP and QUBO, frontier."""

from kakehashi.apps.portfolio.app import (
    PortfolioSolution,
    frontier,
    mean_percentage_error,
    polish_weights,
    proxy_objective,
    repair_selection,
    solve_portfolio,
    validate,
)
from kakehashi.apps.portfolio.formulation import (
    qubo_problem,
    selected_assets,
    selection_penalty,
    selection_problem,
    to_problem,
    weights_from_sample,
)
from kakehashi.apps.portfolio.instance import PortfolioInstance, PortfolioSettings, read_portfolio

__all__ = [
    "PortfolioInstance",
    "PortfolioSettings",
    "PortfolioSolution",
    "frontier",
    "mean_percentage_error",
    "polish_weights",
    "proxy_objective",
    "qubo_problem",
    "read_portfolio",
    "repair_selection",
    "selected_assets",
    "selection_penalty",
    "selection_problem",
    "solve_portfolio",
    "to_problem",
    "validate",
    "weights_from_sample",
]
