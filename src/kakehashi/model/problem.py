"""`Problem`: a dimod model plus a name, an optimisation sense, metadata and a known optimum.

kakehashi does not define a modelling language: a problem is a dimod
:class:`~dimod.ConstrainedQuadraticModel` or :class:`~dimod.BinaryQuadraticModel`, built with
dimod's symbolic API (``dimod.Binaries``, ``dimod.Integers``, ``dimod.Reals``...) or read from a
file with :func:`kakehashi.read`. The objective is stored exactly as the user wrote it; ``sense``
says whether it is minimised or maximised. Compilation passes produce minimisation targets and
every answer is evaluated back on this original model.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import dimod
import numpy as np

from kakehashi.exceptions import ModelError
from kakehashi.model.arrays import ProblemArrays
from kakehashi.model.evaluation import Evaluation

Sense = Literal["min", "max"]
Model = dimod.ConstrainedQuadraticModel | dimod.BinaryQuadraticModel

#: Absolute feasibility tolerance, scaled by ``max(1, |rhs|)`` for each constraint.
FEASIBILITY_TOL = 1e-6


@dataclass
class Problem:
    """An optimisation problem: a dimod model with a name, sense, metadata and known optimum.

    Args:
        model: a dimod CQM or BQM. A BQM is unconstrained; its vartype (BINARY or SPIN) is kept.
        name: a short name used in results and reports.
        sense: ``"min"`` or ``"max"``: the direction in which ``model``'s objective is optimised.
        known_optimum: the best known objective value (in the model's own sense), if published;
            results report their gap to it.
        metadata: free-form JSON-serialisable data (source file, instance family, units...).
    """

    model: Model
    name: str = "problem"
    sense: Sense = "min"
    known_optimum: float | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.model, dimod.ConstrainedQuadraticModel | dimod.BinaryQuadraticModel):
            raise ModelError(
                f"expected a dimod ConstrainedQuadraticModel or BinaryQuadraticModel, "
                f"got {type(self.model).__name__}",
                field="model",
            )
        if self.sense not in ("min", "max"):
            raise ModelError(f"expected 'min' or 'max', got {self.sense!r}", field="sense")

    # ----------------------------------------------------------------- views
    @property
    def warnings(self) -> list[str]:
        """What the reader of this problem's file skipped or reinterpreted (``"file:line: ..."``).

        Kept in ``metadata["warnings"]`` so that it crosses every JSON boundary with the problem;
        compilation copies it into the compile report of each result.
        """
        return [str(w) for w in self.metadata.get("warnings", [])]

    @property
    def complete_for(self) -> tuple[str, ...]:
        """The target kinds this model is complete for, or ``()`` for every kind.

        A model that leaves some rules to a domain target (the routing edge formulation has no
        sub-tour elimination; its ``routing`` target and :func:`kakehashi.apps.routing.validate`
        enforce them) names its targets in ``metadata["complete_for"]``; compiling it for any
        other kind is refused, because an answer there could violate the unmodelled rules and
        still look optimal. The reason is ``metadata["note"]``.
        """
        return tuple(str(k) for k in self.metadata.get("complete_for", ()))

    @property
    def is_bqm(self) -> bool:
        """True when the model is an unconstrained binary/spin quadratic model."""
        return isinstance(self.model, dimod.BinaryQuadraticModel)

    @property
    def cqm(self) -> dimod.ConstrainedQuadraticModel:
        """The model as a CQM (a BQM is wrapped without constraints)."""
        if isinstance(self.model, dimod.BinaryQuadraticModel):
            return dimod.ConstrainedQuadraticModel.from_bqm(self.model)
        return self.model

    @property
    def variables(self) -> list[Hashable]:
        """The problem's variables, in the model's order."""
        return list(self.model.variables)

    @property
    def num_variables(self) -> int:
        return len(self.model.variables)

    @property
    def num_constraints(self) -> int:
        return 0 if self.is_bqm else len(self.model.constraints)  # type: ignore[union-attr]

    def vartype(self, v: Hashable) -> dimod.Vartype:
        """The vartype of variable ``v``."""
        if isinstance(self.model, dimod.BinaryQuadraticModel):
            return self.model.vartype  # type: ignore[no-any-return]
        return self.model.vartype(v)  # type: ignore[no-any-return]

    def bounds(self, v: Hashable) -> tuple[float, float]:
        """Lower and upper bound of ``v`` (binary: 0..1, spin: -1..1)."""
        vt = self.vartype(v)
        if vt is dimod.BINARY:
            return (0.0, 1.0)
        if vt is dimod.SPIN:
            return (-1.0, 1.0)
        assert isinstance(self.model, dimod.ConstrainedQuadraticModel)
        return (float(self.model.lower_bound(v)), float(self.model.upper_bound(v)))

    def vartype_counts(self) -> dict[str, int]:
        """Number of variables per vartype name (BINARY, SPIN, INTEGER, REAL)."""
        counts: dict[str, int] = {}
        for v in self.model.variables:
            name = self.vartype(v).name
            counts[name] = counts.get(name, 0) + 1
        return counts

    def is_quadratic(self) -> bool:
        """True when the objective or any constraint has a quadratic term."""
        if isinstance(self.model, dimod.BinaryQuadraticModel):
            return self.model.num_interactions > 0
        if self.model.objective.num_interactions > 0:
            return True
        return any(c.lhs.num_interactions > 0 for c in self.model.constraints.values())

    # ------------------------------------------------------------ evaluation
    def objective_value(self, sample: Mapping[Hashable, float]) -> float:
        """The objective of ``sample`` in the problem's own sense (no penalties)."""
        if isinstance(self.model, dimod.BinaryQuadraticModel):
            return float(self.model.energy(sample))
        if self.model.objective.num_variables == 0:  # dimod returns 0 here, dropping the offset
            return float(self.model.objective.offset)
        return float(self.model.objective.energy(sample))

    def arrays(self) -> ProblemArrays:
        """The model's bounds and constraints as arrays (built once, rebuilt if the model grows)."""
        key = (id(self.model), self.num_variables, self.num_constraints)
        cached = self.__dict__.get("_arrays")
        if cached is None or cached[0] != key:
            cached = (key, ProblemArrays.of(self.model))
            self.__dict__["_arrays"] = cached
        return cached[1]  # type: ignore[no-any-return]

    def evaluate(self, sample: Mapping[Hashable, float]) -> Evaluation:
        """Evaluate ``sample`` on the original model: objective and every constraint's violation.

        A violation is ``max(0, lhs - rhs)`` for ``<=``, ``max(0, rhs - lhs)`` for ``>=`` and
        ``|lhs - rhs|`` for ``==``; bound, spin and integrality violations are reported under
        the key ``"bounds:<var>"``. A constraint is satisfied when its violation is at most
        ``FEASIBILITY_TOL * max(1, |rhs|)``. Raises :class:`ModelError` if a variable is missing.
        """
        arrays = self.arrays()
        missing = [v for v in arrays.labels if v not in sample]
        if missing:
            raise ModelError(f"sample lacks {len(missing)} variable(s), e.g. {missing[:3]!r}", field="sample")
        X = np.array([[float(sample[v]) for v in arrays.labels]])
        objective = self.objective_value(sample)
        bounds = arrays.bound_violations(X)[0]
        violations = {
            f"bounds:{arrays.labels[i]}": float(bounds[i]) for i in np.flatnonzero(bounds > FEASIBILITY_TOL)
        }
        feasible = not violations
        if arrays.constraint_names:
            cons = arrays.constraint_violations(X)[0]
            violations.update({name: float(v) for name, v in zip(arrays.constraint_names, cons, strict=True)})
            feasible = feasible and bool(np.all(cons <= FEASIBILITY_TOL * arrays.constraint_scale))
        return Evaluation(objective=objective, violations=violations, feasible=feasible)

    def evaluate_many(self, samples: np.ndarray, labels: Iterable[Hashable]) -> tuple[np.ndarray, np.ndarray]:
        """Vectorised evaluation of many samples.

        Args:
            samples: array of shape (num_samples, num_variables), columns in ``labels`` order.
            labels: the variable of each column.
        Returns:
            ``(objectives, max_violations)``, each of shape (num_samples,). Constraint
            violations are scaled by ``max(1, |rhs|)`` so that ``max_violation <= 1e-6`` means
            feasible; bound and integrality violations are included.
        """
        labels = list(labels)
        arrays = self.arrays()
        arr = np.atleast_2d(np.asarray(samples, dtype=float))
        if tuple(labels) != arrays.labels:
            index = {v: i for i, v in enumerate(labels)}
            arr = arr[:, [index[v] for v in arrays.labels]]
        objectives = arrays.objective.values(arr)
        worst = arrays.bound_violations(arr).max(axis=1, initial=0.0)
        if arrays.constraint_names:
            scaled = arrays.constraint_violations(arr) / arrays.constraint_scale
            worst = np.maximum(worst, scaled.max(axis=1, initial=0.0))
        return objectives, worst

    def is_better(self, a: float, b: float) -> bool:
        """True when objective ``a`` is strictly better than ``b`` in this problem's sense."""
        return a < b if self.sense == "min" else a > b

    def gap(self, objective: float) -> float | None:
        """Relative gap of ``objective`` to the known optimum (0 = optimal, 0.01 = 1% worse)."""
        if self.known_optimum is None:
            return None
        opt = self.known_optimum
        diff = objective - opt if self.sense == "min" else opt - objective
        return float(diff / max(abs(opt), 1e-12))

    # --------------------------------------------------------- serialisation
    def to_dict(self) -> dict[str, Any]:
        """The problem as a JSON-compatible dict (schema in ``docs/formats.md``)."""
        from kakehashi.model.serialize import problem_to_dict

        return problem_to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str | None = None) -> Problem:
        """Inverse of :meth:`to_dict`; raises :class:`ModelError` naming the bad field."""
        from kakehashi.model.serialize import problem_from_dict

        return problem_from_dict(data, source=source)

    def to_json(self) -> str:
        import json

        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str, *, source: str | None = None) -> Problem:
        import json

        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ModelError(f"invalid JSON: {exc.msg}", source=source, line=exc.lineno) from exc
        return cls.from_dict(data, source=source)
