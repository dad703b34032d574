"""Hostile requests on every route that reads a body, a number or a token: always a 4xx
problem+json that names the limit, never a 5xx (issue 19; issue 10 part 5)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kakehashi.service.problems import PROBLEM_JSON
from tests.service.support import ADMIN, Harness, make_harness, tiny_problem

JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def hh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    h = make_harness(f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'kh.db'}", max_body_bytes=1_000_000)
    yield h
    h.client.close()
    h.db.dispose()


def _job_count(h: Harness) -> int:
    return len(h.client.get("/v1/jobs", headers=h.h()).json()["jobs"])


def _problem(r: object, status: int, limit_name: str | None = None) -> dict[str, object]:
    assert r.status_code == status, r.text  # type: ignore[attr-defined]
    assert r.headers["content-type"].startswith(PROBLEM_JSON)  # type: ignore[attr-defined]
    body: dict[str, object] = r.json()  # type: ignore[attr-defined]
    if limit_name is not None:
        assert body["limit_name"] == limit_name, body
    return body


def _submission(problem_extra: str = "", params: str = "{}") -> bytes:
    doc = json.dumps(tiny_problem().to_dict())
    return (
        '{"problem": ' + doc[:-1] + problem_extra + '}, "backend": "exact", "params": ' + params + "}"
    ).encode()


NESTED = [
    ("arrays", b"[" * 100_000 + b"]" * 100_000),
    ("objects", b'{"a":' * 100_000 + b"1" + b"}" * 100_000),
    ("in params", _submission(params="[" * 990 + "]" * 990)),
    ("in metadata", _submission(problem_extra=', "metadata": {"m": ' + "[" * 990 + "]" * 990 + "}")),
]


@pytest.mark.parametrize(("where", "body"), NESTED, ids=[n for n, _ in NESTED])
@pytest.mark.parametrize("route", ["/v1/jobs", "/v1/estimate", "/v1/admin/projects"])
def test_deep_nesting_is_422_naming_max_json_depth(hh: Harness, route: str, where: str, body: bytes) -> None:
    auth = {"Authorization": f"Bearer {ADMIN}"} if "admin" in route else hh.h()
    if "admin" in route and len(body) > hh.config.max_admin_body_bytes:
        _problem(hh.client.post(route, content=body, headers={**auth, **JSON}), 413, "max_admin_body_bytes")
        return
    r = hh.client.post(route, content=body, headers={**auth, **JSON})
    assert _problem(r, 422, "max_json_depth")["limit"] == hh.config.max_json_depth


@pytest.mark.parametrize(
    ("body", "limit_name"),
    [
        (_submission(params='{"x": ' + "7" * 4301 + "}"), "max_json_int_digits"),
        (_submission(params='{"x": ' + "7" * 101 + "}"), "max_json_int_digits"),
        (_submission(params='{"x": 1, "x": 2}'), "json"),
        (_submission(params='{"x": NaN}'), "json"),
        (_submission(params='{"x": 1e400}'), "json"),
        (_submission(params='{"x": "\\udc00"}'), "json"),
        (_submission(params='{"x": "\xff"}').replace(b"\xc3\xbf", b"\xff"), "json"),
        (b'{"problem": ', "json"),
    ],
    ids=[
        "4301-digits",
        "101-digits",
        "duplicate-key",
        "nan",
        "1e400",
        "lone-surrogate",
        "bad-utf8",
        "truncated",
    ],
)
def test_hostile_json_on_every_body_route(hh: Harness, body: bytes, limit_name: str) -> None:
    for route, auth in (
        ("/v1/jobs", hh.h()),
        ("/v1/estimate", hh.h()),
        ("/v1/admin/projects", {"Authorization": f"Bearer {ADMIN}"}),
    ):
        _problem(hh.client.post(route, content=body, headers={**auth, **JSON}), 422, limit_name)
    assert _job_count(hh) == 0


def _chunks(total: int, size: int = 16_384) -> Iterator[bytes]:
    yield b'{"problem": {"variables": [], "pad": "'
    for _ in range(total // size):
        yield b"x" * size
    yield b'"}}'


@pytest.mark.parametrize(
    ("route", "which", "limit_name"),
    [
        ("/v1/jobs", "a", "max_body_bytes"),
        ("/v1/estimate", "a", "max_body_bytes"),
        ("/v1/admin/projects", "admin", "max_admin_body_bytes"),
        ("/v1/admin/projects/alpha/quota", "admin", "max_admin_body_bytes"),
        ("/v1/jobs/job_x/cancel", "a", "max_admin_body_bytes"),
    ],
)
def test_body_limits_hold_with_and_without_content_length(
    hh: Harness, route: str, which: str, limit_name: str
) -> None:
    auth = {"Authorization": f"Bearer {ADMIN}"} if which == "admin" else hh.h()
    method = hh.client.put if route.endswith("/quota") else hh.client.post
    big = 1_200_000
    r = method(route, content=b"".join(_chunks(big)), headers={**auth, **JSON})  # Content-Length sent
    _problem(r, 413, limit_name)
    r = method(route, content=_chunks(big), headers={**auth, **JSON})  # chunked, no Content-Length
    assert "content-length" not in r.request.headers
    _problem(r, 413, limit_name)


def test_oversized_multipart_upload_is_413_and_hostile_form_json_is_422(hh: Harness) -> None:
    lp = "Minimize\n obj: x\nSubject To\n a: x <= 1\nBinary\n x\nEnd\n"
    r = hh.client.post(
        "/v1/jobs",
        files={"file": ("big.lp", b"\\" * 1_200_000, "text/plain")},
        data={"format": "lp"},
        headers=hh.h(),
    )
    _problem(r, 413, "max_body_bytes")
    for params, limit_name in (
        ("[" * 5000 + "]" * 5000, "max_json_depth"),
        ("1" * 5000, "max_json_int_digits"),
    ):
        r = hh.client.post(
            "/v1/jobs",
            files={"file": ("k.lp", lp.encode(), "text/plain")},
            data={"format": "lp", "backend": "exact", "params": params},
            headers=hh.h(),
        )
        body = _problem(r, 422)
        assert limit_name in str(body["detail"]) and body["field"] == "params"
    r = hh.client.post(
        "/v1/jobs",
        files={"file": ("k.json", ("[" * 5000 + "]" * 5000).encode(), "application/json")},
        data={"format": "json", "backend": "exact"},
        headers=hh.h(),
    )
    _problem(r, 422)
    assert _job_count(hh) == 0


@pytest.mark.parametrize(
    "value", ["²", "١٢", "9223372036854775808", "99999999999999999999999", "-1", "1.5", " 1"]
)
def test_last_event_id_must_be_ascii_int64(hh: Harness, value: str) -> None:
    job = hh.submit().json()["id"]
    r = hh.client.get(
        f"/v1/jobs/{job}/events?timeout=0",
        headers={**hh.h(), "Last-Event-ID": value.encode()},  # type: ignore[dict-item]
    )
    assert 400 <= r.status_code < 500 and r.headers["content-type"].startswith(PROBLEM_JSON), r.text
    r = hh.client.get(
        f"/v1/jobs/{job}/events?timeout=0", headers={**hh.h(), "Last-Event-ID": "9199999999999999999"}
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")


@pytest.mark.parametrize("payload", ["s9223372036854775808", "s" + "9" * 40, "s²", "s-1", "x1"])
def test_cursor_decoding_past_int64_is_422(hh: Harness, payload: str) -> None:
    cursor = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
    body = _problem(hh.client.get(f"/v1/jobs?cursor={cursor}", headers=hh.h()), 422)
    assert body["field"] == "cursor"


@pytest.mark.parametrize(
    "header",
    [
        "Bearer é".encode("latin-1"),
        "Bearer 東京".encode(),
        b"Bearer \x00\x01",
        b"Bearer " + b"k" * 5000,
        b"Basic abc",
        b"Bearer",
    ],
)
@pytest.mark.parametrize("route", ["/v1/admin/projects", "/v1/jobs", "/v1/pool"])
def test_malformed_authorization_is_always_401(hh: Harness, route: str, header: bytes) -> None:
    r = hh.client.get(route, headers={"Authorization": header})  # type: ignore[dict-item]
    _problem(r, 401)


def test_the_admin_token_still_works_and_near_misses_do_not(hh: Harness) -> None:
    assert (
        hh.client.get("/v1/admin/projects", headers={"Authorization": f"Bearer {ADMIN}"}).status_code == 200
    )
    _problem(hh.client.get("/v1/admin/projects", headers={"Authorization": f"Bearer {ADMIN}x"}), 401)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(
    levels=st.integers(min_value=60, max_value=120_000),
    opener=st.sampled_from(["[", '{"k":', "[1,", '{"a":[']),
    where=st.sampled_from(["top", "params", "metadata", "input"]),
    route=st.sampled_from(["/v1/jobs", "/v1/estimate"]),
)
def test_fuzz_nested_json_never_5xx(hh: Harness, levels: int, opener: str, where: str, route: str) -> None:
    """The property that would have found the 500 on ``[[[[…]]]]`` 100,000 deep."""
    closer = {"[": "]", '{"k":': "}", "[1,": "]", '{"a":[': "]}"}[opener]
    nest = opener * levels + "0" + closer * levels
    if where == "top":
        body = nest
    elif where == "params":
        body = _submission(params='{"p": ' + nest + "}").decode()
    elif where == "metadata":
        body = _submission(problem_extra=', "metadata": ' + nest).decode()
    else:
        body = '{"app": "portfolio", "input": ' + nest + "}"
    r = hh.client.post(route, content=body.encode(), headers={**hh.h(), **JSON})
    assert 400 <= r.status_code < 500 and r.headers["content-type"].startswith(PROBLEM_JSON), r.text[:300]


def test_what_would_fail_later_is_refused_at_the_door_and_not_charged(hh: Harness) -> None:
    before = _job_count(hh)
    body = _problem(hh.submit(backend="sa", params={"num_reads": 4, "bogus": 1}), 422)
    assert body["field"] == "params.bogus"
    assert "num_reads" in str(body["detail"]) and "num_sweeps" in str(body["detail"])  # accepted ones listed
    body = _problem(hh.submit(backend="sa", params={"num_reads": "many"}), 422)
    assert "num_reads" in str(body["detail"])
    # an allowed alternative must accept the (flat) parameters too
    body = _problem(hh.submit(backend="sa", alternatives=["exact"], params={"num_reads": 4}), 422)
    assert body["field"] == "params.num_reads"
    # a race takes {backend: {param: value}}; flat parameters would be silently ignored
    body = _problem(hh.submit(backend=["sa", "tabu"], params={"num_reads": 4}), 422)
    assert body["field"] == "params.num_reads"
    body = _problem(hh.submit(backend=["sa", "tabu"], params={"tabu": {"bogus": 1}}), 422)
    assert body["field"] == "params.tabu.bogus"
    _problem(hh.submit(backend="no-such-backend"), 422)
    _problem(hh.submit(time_limit=hh.config.max_time_limit * 2), 422)
    _problem(hh.submit(time_limit=0), 422)
    assert _job_count(hh) == before
    usage = hh.client.get("/v1/usage", params={"period": "all"}, headers=hh.h()).json()
    assert usage["total_runs"] == 0
    assert hh.submit(backend="sa", params={"num_reads": 4}).status_code == 201
    assert hh.submit(backend=["sa", "tabu"], params={"sa": {"num_reads": 4}}).status_code == 201


def test_a_tiny_tsplib_declaring_a_million_nodes_is_refused_at_once(hh: Harness) -> None:
    bomb = (
        "NAME : bomb\nTYPE : TSP\nDIMENSION : 1000000\nEDGE_WEIGHT_TYPE : EXPLICIT\n"
        "EDGE_WEIGHT_FORMAT : FULL_MATRIX\nEDGE_WEIGHT_SECTION\n0 1 2\n1 0 3\n2 3 0\nEOF\n"
    )
    r = hh.client.post(
        "/v1/jobs",
        files={"file": ("bomb.tsp", bomb.encode(), "text/plain")},
        data={"app": "routing"},
        headers=hh.h(),
    )
    body = _problem(r, 422)
    assert body["field"] == "DIMENSION" and "limit" in str(body["detail"])
    r = hh.client.post("/v1/jobs", json={"app": "routing", "input": bomb, "format": "tsp"}, headers=hh.h())
    assert _problem(r, 422)["field"] == "DIMENSION"


def test_uploads_must_be_utf8(hh: Harness) -> None:
    lp = b"Minimize\n obj: x\nSubject To\n a: x <= 1\nBinary\n x\nEnd\n\\ caf\xe9\n"
    r = hh.client.post(
        "/v1/jobs", files={"file": ("k.lp", lp, "text/plain")}, data={"format": "lp"}, headers=hh.h()
    )
    assert _problem(r, 422)["field"] == "file"
    r = hh.client.post("/v1/jobs", content=lp, headers={**hh.h(), "content-type": "text/plain; format=lp"})
    assert "byte" in str(_problem(r, 422)["detail"])


def test_a_problem_the_backend_cannot_compile_is_refused_at_the_door(hh: Harness) -> None:
    before = _job_count(hh)
    body = _problem(hh.submit(backend="lkh"), 422)  # a QUBO to a routing-only backend
    assert body["field"] == "backend" and "routing" in str(body["detail"])
    assert _job_count(hh) == before


def test_operator_limits_are_honoured(tmp_path: object) -> None:
    h = make_harness(
        f"sqlite:///{tmp_path}/kh.db", max_json_depth=8, max_json_int_digits=5, max_admin_body_bytes=2_000
    )
    try:
        r = h.submit(params={"sa": [[[[[[[[[1]]]]]]]]]}, backend=["sa", "tabu"])
        assert _problem(r, 422, "max_json_depth")["limit"] == 8
        assert _problem(h.submit(seed=123456), 422, "max_json_int_digits")["limit"] == 5
        r = h.client.post(
            "/v1/admin/projects", json={"name": "x" * 3000}, headers={"Authorization": f"Bearer {ADMIN}"}
        )
        assert _problem(r, 413, "max_admin_body_bytes")["limit"] == 2_000
        assert h.submit(seed=12345).status_code == 201
    finally:
        h.client.close()
        h.db.dispose()


def test_a_job_body_without_content_type_is_still_415(hh: Harness) -> None:
    r = hh.client.post("/v1/jobs", content=b"[" * 10_000, headers=hh.h())
    assert "content-type" not in r.request.headers
    _problem(r, 415)
    r = hh.client.post("/v1/estimate", content=b"[" * 10_000, headers=hh.h())  # FastAPI: JSON
    assert _problem(r, 422)["limit_name"] in ("json", "max_json_depth")
