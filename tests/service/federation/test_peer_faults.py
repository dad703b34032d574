"""The peer executor against a peer that misbehaves: a real HTTP server answering 5xx, garbage,
or a refusal (no kakehashi behind it), and a listener that is gone."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kakehashi.pool.config import PeerOffer
from kakehashi.service.executors.base import ExecutionLost
from kakehashi.service.executors.peer import PeerExecutor, PeerRefused, idempotency_key
from kakehashi.service.lease import Claim
from kakehashi.service.peers import PeerRecord
from kakehashi.service.testing import free_port
from tests.service.support import tiny_problem


class _Peer(BaseHTTPRequestHandler):
    """Answers what ``server.script`` says for (method, path prefix); records the requests."""

    def _answer(self) -> None:
        server: ThreadingHTTPServer = self.server  # type: ignore[assignment]
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        server.seen.append((self.command, self.path, self.headers.get("Idempotency-Key")))  # type: ignore[attr-defined]
        status, body = next(
            (
                answer
                for (method, prefix), answer in server.script.items()  # type: ignore[attr-defined]
                if self.command == method and self.path.startswith(prefix)
            ),
            (404, b"{}"),
        )
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def peer() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Peer)
    server.script = {}  # type: ignore[attr-defined]
    server.seen = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def _executor(url: str, grace: float = 0.6) -> PeerExecutor:
    offer = PeerOffer(kind="cpu", backends=("exact",), price_yen_per_second=0.0)  # type: ignore[arg-type]
    record = PeerRecord("flaky", url, (offer,), token_env="UNUSED")
    return PeerExecutor(record, "kh_token", "flaky-cpu", grace_seconds=grace)


def _claim() -> Claim:
    return Claim(
        job_id="job_x",
        project_id="prj_x",
        attempt=3,
        worker_id="w",
        backend="exact",
        time_limit=1.0,
        seed=None,
        params={},
        problem_json=json.dumps(tiny_problem().to_dict()),
        created_at=0.0,
        started_at=0.0,
        peer="flaky",
        machine="flaky-cpu",
    )


def _url(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


@pytest.mark.parametrize("answer", [(500, b'{"title": "boom"}'), (200, b"<html>not kakehashi</html>"), (503, b"")])
def test_a_peer_answering_5xx_or_garbage_at_submission_is_lost(peer: ThreadingHTTPServer, answer: tuple[int, bytes]) -> None:
    peer.script[("POST", "/v1/jobs")] = answer  # type: ignore[attr-defined]
    ex = _executor(_url(peer))
    t0 = time.monotonic()
    with pytest.raises(ExecutionLost, match="flaky unreachable"):
        ex.start(_claim())
    assert time.monotonic() - t0 < 5.0
    keys = {k for (_, _, k) in peer.seen}  # type: ignore[attr-defined]
    assert keys == {idempotency_key(_claim())} == {"fwd-job_x-a3"}  # every retry: the same key
    ex.shutdown()


def test_a_listener_that_is_gone_is_lost() -> None:
    ex = _executor(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(ExecutionLost):
        ex.start(_claim())
    ex.shutdown()


def test_a_quota_refusal_fails_the_job_with_the_peers_reason(peer: ThreadingHTTPServer) -> None:
    peer.script[("POST", "/v1/jobs")] = (402, b'{"detail": "quota exceeded: 0.00 yen remaining"}')  # type: ignore[attr-defined]
    with pytest.raises(PeerRefused, match="quota exceeded"):
        _executor(_url(peer)).start(_claim())


def test_garbage_while_running_is_lost_after_the_grace_period_and_cancel_is_sent(peer: ThreadingHTTPServer) -> None:
    peer.script[("POST", "/v1/jobs/job_remote/cancel")] = (200, b"{}")  # type: ignore[attr-defined]
    peer.script[("POST", "/v1/jobs")] = (201, b'{"id": "job_remote"}')  # type: ignore[attr-defined]
    peer.script[("GET", "/v1/jobs/job_remote/result")] = (502, b"bad gateway")  # type: ignore[attr-defined]
    ex = _executor(_url(peer), grace=0.6)
    run = ex.start(_claim())
    first = run.poll(0.1)
    assert first is not None and first["data"]["remote_job_id"] == "job_remote"
    t0 = time.monotonic()
    with pytest.raises(ExecutionLost, match="unreachable for"):
        while time.monotonic() - t0 < 10:
            assert run.poll(0.2) is None
    assert 0.5 <= time.monotonic() - t0 < 5.0
    run.cancel()
    assert ("POST", "/v1/jobs/job_remote/cancel", None) in peer.seen  # type: ignore[attr-defined]
    ex.shutdown()
