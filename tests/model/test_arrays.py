"""ProblemArrays: the fast path over dimod's C-level arrays agrees with the portable view path."""

from __future__ import annotations

import dimod
import numpy as np

from kakehashi.model.arrays import ProblemArrays


def _mixed_model() -> dimod.ConstrainedQuadraticModel:
    cqm = dimod.ConstrainedQuadraticModel()
    cqm.add_variable("BINARY", "b")
    cqm.add_variable("SPIN", "s")
    cqm.add_variable("INTEGER", "i", lower_bound=-3, upper_bound=7)
    cqm.add_variable("REAL", "r", lower_bound=-1.5, upper_bound=2.5)
    cqm.add_variable("BINARY", ("x", 0, 1))
    obj = dimod.QuadraticModel()
    obj.add_variables_from("BINARY", ["b", ("x", 0, 1)])
    obj.add_variable("INTEGER", "i", lower_bound=-3, upper_bound=7)
    obj.add_linear_from({"b": 1.0, "i": -2.0})
    obj.add_quadratic("b", ("x", 0, 1), 3.0)
    cqm.set_objective(obj)
    cqm.add_constraint_from_iterable([("r", 2.0), ("b", 1.0)], "<=", rhs=3.0, label="le")
    cqm.add_constraint_from_iterable([("i", 1.0), (("x", 0, 1), -4.0)], ">=", rhs=-1.0, label="ge")
    cqm.add_constraint_from_iterable([("s", 1.0), ("i", 0.5), ("r", 1.0)], "==", rhs=0.25, label="eq")
    cqm.add_constraint_from_iterable([("b", "i", 1.0), ("r", 1.0)], "<=", rhs=4.0, label="quad")
    return cqm


def test_fast_and_portable_paths_agree() -> None:
    cqm = _mixed_model()
    labels = tuple(cqm.variables)
    fast = ProblemArrays._of_cqm_arrays(cqm, labels)
    slow = ProblemArrays._of_cqm_views(cqm, labels)
    for field in ("lower", "upper", "spin", "integral", "rhs", "sense"):
        np.testing.assert_array_equal(getattr(fast, field), getattr(slow, field), err_msg=field)
    np.testing.assert_array_equal(fast.A.toarray(), slow.A.toarray())
    assert fast.names == slow.names == ("le", "ge", "eq")
    assert [n for n, _ in fast.quadratic] == [n for n, _ in slow.quadratic] == ["quad"]
    # and the rows mean what they say: r + b/2 ... checked on one sample
    X = np.array([[1.0, -1.0, 2.0, 0.5, 1.0]])
    np.testing.assert_allclose(fast.constraint_violations(X), slow.constraint_violations(X))
    assert fast.constraint_violations(X)[0, 2] == abs(-1 + 1 + 0.5 - 0.25)


def test_objective_arrays_match_dimod_energies() -> None:
    cqm = _mixed_model()
    labels = tuple(cqm.variables)
    rng = np.random.default_rng(4)
    X = np.column_stack([rng.integers(0, 2, 6), rng.choice([-1, 1], 6), rng.integers(-3, 8, 6),
                         rng.uniform(-1.5, 2.5, 6), rng.integers(0, 2, 6)]).astype(float)
    expected = np.asarray(cqm.objective.energies((X, list(labels))), dtype=float)
    for arrays in (ProblemArrays._of_cqm_arrays(cqm, labels), ProblemArrays._of_cqm_views(cqm, labels)):
        np.testing.assert_allclose(arrays.objective.values(X), expected)
    bqm = dimod.BinaryQuadraticModel({"a": 1.0, "b": -2.0}, {("a", "b"): 3.0, ("b", "c"): -1.0}, 5.0, "SPIN")
    S = rng.choice([-1.0, 1.0], size=(8, 3))
    order = list(ProblemArrays.of(bqm).labels)
    np.testing.assert_allclose(ProblemArrays.of(bqm).objective.values(S), bqm.energies((S, order)))
