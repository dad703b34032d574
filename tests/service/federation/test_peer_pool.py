"""Peers in the pool file and in the scheduler (no servers): validation, residency, races."""

from __future__ import annotations

import pytest

from kakehashi.exceptions import ModelError
from kakehashi.pool.config import PoolConfig, parse_pool
from kakehashi.pool.scheduler import JobRequest, LegRequest, PoolState, schedule
from kakehashi.service.peers import PeerRecord, parse_offers, with_peers

POOL = {
    "machines": [
        {"name": "home", "kind": "cpu", "slots": 2, "backends": ["highs", "exact"], "price_yen_per_second": 0.05}
    ],
    "peers": [
        {
            "name": "site-b",
            "url": "https://b.example",
            "token_env": "SITE_B_TOKEN",
            "offers": [{"kind": "cpu", "backends": ["highs", "exact"], "slots": 4, "price_yen_per_second": 0.02}],
        }
    ],
}


def _pool() -> PoolConfig:
    base = parse_pool(POOL, "pool.toml")
    spec = base.peers[0]
    return with_peers(base, [PeerRecord(spec.name, spec.url, spec.offers, token_env=spec.token_env)])


def test_a_pool_file_peer_is_one_remote_machine_per_offer() -> None:
    pool = _pool()
    remote = pool.machine("site-b-cpu")
    assert remote.peer == "site-b" and remote.slots == 4 and remote.price_yen_per_second == 0.02
    assert pool.machine("home").peer is None


def test_a_token_in_clear_in_the_pool_file_is_refused_naming_the_field() -> None:
    bad = {**POOL, "peers": [{**POOL["peers"][0], "token": "kh_secret"}]}  # type: ignore[dict-item]
    with pytest.raises(ModelError) as err:
        parse_pool(bad, "pool.toml")
    assert "peers[0].token" in str(err.value) and "pool.toml" in str(err.value)


def test_an_offer_without_backends_is_refused_naming_the_field() -> None:
    with pytest.raises(ModelError) as err:
        parse_offers([{"kind": "cpu", "backends": [], "price_yen_per_second": 1.0}])
    assert "offers[0].backends" in str(err.value)


@pytest.mark.parametrize(
    ("legs", "local_only", "where"),
    [
        ((LegRequest(("highs",)),), False, {"site-b-cpu"}),  # the peer is cheaper
        ((LegRequest(("highs",)),), True, {"home"}),  # the project's data stays here
        ((LegRequest(("highs",)), LegRequest(("exact",))), False, {"home"}),  # a race runs at home
    ],
)
def test_where_the_scheduler_places_a_job(legs: tuple[LegRequest, ...], local_only: bool, where: set[str]) -> None:
    job = JobRequest("j1", "p", legs, submit_time=0.0, run_time=10.0, local_only=local_only)
    (start,) = schedule([job], PoolState(_pool(), 1.0), {}).starts
    assert {p.machine for p in start.placements} == where


def test_a_resident_job_that_only_a_peer_could_run_is_rejected() -> None:
    base = parse_pool({**POOL, "machines": [{**POOL["machines"][0], "backends": ["exact"]}]}, "pool.toml")
    spec = base.peers[0]
    pool = with_peers(base, [PeerRecord(spec.name, spec.url, spec.offers, token_env=spec.token_env)])
    job = JobRequest("j1", "p", (LegRequest(("highs",)),), submit_time=0.0, run_time=10.0, local_only=True)
    (rejected,) = schedule([job], PoolState(pool, 1.0), {}).rejections
    assert "no machine in the pool runs highs" in rejected.reason


def test_a_peer_machine_is_priced_by_its_offer_even_in_the_default_pool() -> None:
    from kakehashi.service.pool_state import default_pool
    from kakehashi.service.quotas import is_default_pool, machine_price

    spec = parse_pool(POOL, "pool.toml").peers[0]
    pool = with_peers(default_pool(2, 0.01), [PeerRecord(spec.name, spec.url, spec.offers, token_env="X")])
    assert is_default_pool(pool)  # the peers' machines do not make it an operator's pool file
    assert machine_price(pool, {}, "site-b-cpu", 0.01) == 0.02
    assert machine_price(pool, {}, "local", 0.01) == 0.01
    assert machine_price(pool, {"site-b-cpu": 0.5}, "site-b-cpu", 0.01) == 0.5  # the admin's override wins
