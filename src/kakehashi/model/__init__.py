"""The problem model: :class:`Problem`, its evaluation, serialisation and file readers."""

from kakehashi.model.evaluation import Evaluation
from kakehashi.model.problem import FEASIBILITY_TOL, Problem, Sense

__all__ = ["FEASIBILITY_TOL", "Evaluation", "Problem", "Sense"]
