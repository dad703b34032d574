"""Integer and spin encodings reach exactly the declared range."""

from __future__ import annotations

import itertools

import dimod
import numpy as np
import pytest

from kakehashi.compile.integers import coefficients, encode_variables
from kakehashi.model.problem import Problem


@pytest.mark.parametrize("range_", [1, 2, 3, 5, 7, 8, 12, 100])
@pytest.mark.parametrize("encoding", ["log", "unary"])
def test_every_value_in_range_and_none_outside(range_: int, encoding: str) -> None:
    coefs = coefficients(range_, encoding)  # type: ignore[arg-type]
    if encoding == "log":
        assert len(coefs) == int(np.floor(np.log2(range_))) + 1
    if len(coefs) > 12:
        return
    reachable = {
        sum(c * b for c, b in zip(coefs, bits, strict=True))
        for bits in itertools.product([0, 1], repeat=len(coefs))
    }
    assert reachable == set(range(range_ + 1))


def test_inverter_decodes_spins_and_integers() -> None:
    cqm = dimod.ConstrainedQuadraticModel()
    cqm.set_objective(dimod.Spin("s") + dimod.Integer("n", lower_bound=-3, upper_bound=4) + dimod.Binary("x"))
    enc, binaries, inverter, stats = encode_variables(Problem(cqm))
    assert stats == {"binary": 1, "spin": 1, "integer": 1, "bits": 3}
    columns = {v: i for i, v in enumerate(binaries)}
    state = np.zeros((1, len(binaries)))
    for label, coefficient in enc["n"][1]:
        if coefficient in (1.0, 4.0):
            state[0, columns[label]] = 1
    state[0, columns["s"]] = 0  # s = -1
    decoded = dict(zip(inverter.original, inverter(state)[0], strict=True))
    assert decoded == {"s": -1.0, "n": -3.0 + 5.0, "x": 0.0}
