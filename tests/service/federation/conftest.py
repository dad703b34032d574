"""Two real kakehashi services on one machine: site B (a plain service) and site A (peering with B).

Each is a :class:`~kakehashi.service.testing.LiveService` (uvicorn API + one worker process) with
its own SQLite database. B issues A a peer-scoped token (project ``site-a``); A registers B as peer
``site-b`` offering B's ``highs``, ``exact`` and ``tabu`` as the machine ``site-b-cpu`` at
0.02 yen/s for A's users (agreed: B charges A 0.01 yen/s, B's own cpu price). A's own machine
``a-local`` runs ``highs`` and ``exact`` at 0.05 yen/s, so the scheduler prefers the peer (cheaper)
and fails over to ``a-local`` when the peer is down; ``tabu`` runs only at the peer.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kakehashi.backends.base import HardwareKind
from kakehashi.pool.config import PeerOffer
from kakehashi.service import peers, tenancy
from kakehashi.service.config import ServiceConfig
from kakehashi.service.testing import LiveService

TOKEN_ENV = "KH_TEST_PEER_TOKEN_SITE_B"
POOL_A = """
[[machines]]
name = "a-local"
kind = "cpu"
slots = 1
backends = ["highs", "exact"]
price_yen_per_second = 0.05
"""


@dataclass
class Sites:
    a: LiveService
    b: LiveService
    config_a: ServiceConfig
    pool_a: Path
    peer_token: str

    def token_a(self, project: str) -> str:
        return self.a.token(project)


def _config(url: str, **extra: object) -> ServiceConfig:
    return ServiceConfig(
        database_url=url,
        admin_token="admin",
        lease_seconds=5.0,
        poll_seconds=0.05,
        peer_grace_seconds=2.0,
        peer_probe_seconds=1.0,
        **extra,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="package")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sites]:
    tmp = tmp_path_factory.mktemp("federation")
    b = LiveService(f"sqlite:///{tmp / 'b.db'}", config=_config(f"sqlite:///{tmp / 'b.db'}"))
    pool_a = tmp / "pool-a.toml"
    pool_a.write_text(POOL_A)
    config_a = _config(f"sqlite:///{tmp / 'a.db'}", pool_file=str(pool_a))
    a = LiveService(config_a.database_url, config=config_a)
    try:
        b.start()
        tenancy.create_project(b.db, "site-a")
        peer_token = tenancy.create_token(b.db, "site-a", "peer site-a", scope="peer").secret
        os.environ[TOKEN_ENV] = peer_token  # for in-process workers and CLI runs of site A
        a.env.update({"KAKEHASHI_POOL": str(pool_a), TOKEN_ENV: peer_token})
        from kakehashi.service.store.migrate import upgrade

        upgrade(a.db)
        offer = PeerOffer(
            kind=HardwareKind.CPU,
            backends=("highs", "exact", "tabu"),
            slots=2,
            price_yen_per_second=0.02,
            agreed_yen_per_second=0.01,
        )
        peers.add_peer(a.db, "site-b", b.url, [offer], token_env=TOKEN_ENV)
        a.start()
        yield Sites(a, b, config_a, pool_a, peer_token)
    finally:
        a.stop()
        b.stop()
        os.environ.pop(TOKEN_ENV, None)
