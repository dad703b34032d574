"""A bio job built like the service builds it, solved by the plain solve(), answered and validated."""

from __future__ import annotations

import cobra
import pytest

from kakehashi.exceptions import ModelError
from kakehashi.service.domain import answer, build
from kakehashi.solver import solve


def test_bio_fba_and_strain_design_jobs() -> None:
    model = cobra.io.model_to_dict(cobra.io.load_model("textbook"))
    problem, backend = build("bio", model, options={"analysis": "fba"})
    assert backend == "highs"
    done = answer(problem.metadata["app"], solve(problem, backend))
    assert done["valid"] and done["cost"] == pytest.approx(0.8739215069684, abs=1e-6)
    problem, backend = build("bio", model, options={"analysis": "strain-design", "product": "EX_succ_e", "k": 2,
                                                    "anaerobic": True})
    done = answer(problem.metadata["app"], solve(problem, backend, time_limit=60))  # as a worker runs it
    assert done["valid"] and done["cost"] > 9.0 and len(done["answer"]["knockouts"]) == 2
    with pytest.raises(ModelError, match="unknown reaction 'EX_nope'"):
        build("bio", model, options={"analysis": "strain-design", "product": "EX_nope"})
