"""A model with no variables is a valid model: every BQM/MILP backend answers it (issue 19).

``{"type": "qubo", "offset": 1.5}`` on ``sa`` with a time limit raised IndexError in the batched
dwave-samplers path; its only assignment is the empty one, objective = the offset.
"""

from __future__ import annotations

import pytest

import kakehashi
from kakehashi.backends.registry import all_backends
from kakehashi.model.readers import reads
from kakehashi.result import Status

ROUTING_ONLY = {"lkh", "ortools-routing", "pyvrp"}
#: gate-model backends need at least one qubit; their refusal is a CompileError line, not an answer
NO_ZERO_QUBITS = {"qaoa"}


def _available() -> list[str]:
    out = []
    for name, backend in all_backends().items():
        if isinstance(backend, Exception) or not backend.available():
            continue
        if name in ROUTING_ONLY | NO_ZERO_QUBITS or backend.capabilities().hardware.value != "cpu":
            continue
        out.append(name)
    return sorted(out)


@pytest.mark.parametrize("time_limit", [None, 0.5])
@pytest.mark.parametrize("backend", ["sa", "steepest", "tabu"])
def test_dwave_samplers_answer_the_empty_qubo(backend: str, time_limit: float | None) -> None:
    problem = reads('{"type": "qubo", "offset": 1.5}', format="qubo")
    assert problem.num_variables == 0
    result = kakehashi.solve(problem, backend, time_limit=time_limit, seed=1)
    assert result.status in (Status.FEASIBLE, Status.OPTIMAL)
    assert result.objective == 1.5 and result.feasible and result.sample == {}


@pytest.mark.parametrize("backend", _available())
def test_every_local_backend_answers_the_empty_qubo(backend: str) -> None:
    problem = reads('{"type": "qubo", "offset": 1.5}', format="qubo")
    result = kakehashi.solve(problem, backend, time_limit=0.5, seed=1)
    assert result.objective == 1.5 and result.feasible, result.to_dict()
