"""Schemathesis over the OpenAPI spec, in process: >= 100 cases per operation, no 5xx, responses conform."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable

from tests.service.support import ADMIN, Harness, make_harness, tiny_problem

schemathesis = pytest.importorskip("schemathesis")

from schemathesis.generation.modes import GenerationMode  # noqa: E402
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance  # noqa: E402

#: Cases per operation; KAKEHASHI_OPENAPI_FUZZ_CASES lowers them for a quick local run.
CASES_PER_OPERATION = int(os.environ.get("KAKEHASHI_OPENAPI_FUZZ_CASES", "100"))
NEGATIVE_CASES = max(1, CASES_PER_OPERATION * 3 // 10)


@pytest.fixture(scope="module")
def fuzz_harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    h = make_harness(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'kh.db'}", max_page_size=50)
    h.submit(tiny_problem(0))  # something to list
    yield h
    h.client.close()
    h.db.dispose()


def _operations(h: Harness) -> list[tuple[str, object]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        schema = schemathesis.openapi.from_asgi("/openapi.json", h.client.app)
    ops = []
    for result in schema.get_all_operations():
        op = result.ok()
        ops.append((f"{op.method.upper()} {op.path}", op))
    return ops


@pytest.mark.parametrize(("mode", "cases"), [("positive", CASES_PER_OPERATION), ("negative", NEGATIVE_CASES)])
def test_every_operation_conforms_and_never_5xx(fuzz_harness: Harness, mode: str, cases: int) -> None:
    """Positive mode: schema-valid requests. Negative mode: requests that break the schema must be
    rejected with a documented 4xx problem, never a 5xx."""
    h = fuzz_harness
    ops = _operations(h)
    assert len(ops) >= 14
    failures: dict[str, str] = {}
    counts: dict[str, int] = {}

    def fuzz(name: str, op: object, token: str) -> None:
        # a schema-valid problem document (jobs, estimates) or bench result (runs naming instances
        # the suite lacks) can still be semantically wrong (unknown variables...)
        # and a well-formed cursor can still be forged: both are 422 by design. Every other
        # check applies to every operation.
        semantic = ("POST /v1/jobs", "GET /v1/jobs", "POST /v1/estimate", "POST /v1/benchmarks", "GET /v1/benchmarks")
        excluded = [positive_data_acceptance] if name in semantic else []
        if mode == "negative":
            # lenient parsing (e.g. a UNIX time for a date-time query parameter) is fine; what
            # must hold is no 5xx and documented, schema-conforming problem responses
            excluded.append(negative_data_rejection)

        @settings(
            max_examples=cases,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        )
        @given(case=op.as_strategy(generation_mode=GenerationMode(mode)))  # type: ignore[attr-defined]
        def run(case: object) -> None:
            counts[name] += 1
            case.call_and_validate(  # type: ignore[attr-defined]
                headers={"Authorization": f"Bearer {token}"}, excluded_checks=excluded
            )

        run()

    for name, op in ops:
        counts[name] = 0
        try:
            fuzz(name, op, ADMIN if "/admin/" in name else h.token_a)
        except Unsatisfiable:
            assert mode == "negative"  # no input to break (GET /healthz): nothing to send
        except (Exception, BaseExceptionGroup) as exc:
            failures[name] = f"{type(exc).__name__}: {str(exc)[:2000]}"
    print(counts)
    assert not failures, "\n\n".join(f"{k}\n{v}" for k, v in failures.items())
    # operations with inputs get >= 100 cases; hypothesis stops early on those with none to vary
    # (GET /healthz has exactly one possible request)
    varied = {
        k: n for k, n in counts.items() if k.startswith(("POST", "DELETE")) or "{" in k or k == "GET /v1/jobs"
    }
    assert all(n >= cases for n in varied.values()) or mode == "negative", counts
