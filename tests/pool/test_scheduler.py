"""Scheduling decisions on hand-built pools, and starvation-freedom under an adversarial stream."""

from __future__ import annotations

from typing import Any

import pytest

from kakehashi.pool.config import PoolConfig, parse_pool
from kakehashi.pool.fairshare import PriorityWeights, starvation_bound
from kakehashi.pool.scheduler import JobRequest, Policy, PoolState, RunningLeg, schedule
from kakehashi.pool.simulate import MachineEvent, simulate


def pool(*machines: dict[str, Any], projects: list[dict[str, Any]] | None = None) -> PoolConfig:
    return parse_pool({"machines": list(machines), "projects": projects or []})


def cpu(slots: int = 2, name: str = "cpu", **kw: Any) -> dict[str, Any]:
    return {"name": name, "kind": "cpu", "slots": slots, "backends": ["sa", "tabu", "highs"],
            "price_yen_per_second": 0.01, **kw}


GPU = {"name": "gpu", "kind": "gpu", "slots": 1, "backends": ["sb"], "price_yen_per_second": 0.1}
QPU = {"name": "qpu", "kind": "qpu-anneal", "slots": 1, "backends": ["dwave-qpu"], "price_yen_per_second": 50.0}


def job(id: str, backends: list[str], *, t: float = 0.0, run: float = 10.0, project: str = "p", **kw: Any) -> JobRequest:
    return JobRequest.of(id, project, backends, submit_time=t, run_time=run, **kw)


def test_portfolio_takes_a_slot_per_leg() -> None:
    cfg = pool(cpu(2), GPU)
    race = job("race", ["sa", "tabu", "sb"], priority=10)
    single = job("single", ["sa"], t=1.0)
    d = schedule([race, single], PoolState(cfg, now=2.0))
    (start,) = d.starts
    assert start.job_id == "race"
    machines = sorted(p.machine for p in start.placements)
    assert machines == ["cpu", "cpu", "gpu"]
    assert {p.backend for p in start.placements} == {"sa", "tabu", "sb"}
    assert [w.job_id for w in d.waits] == ["single"]  # both CPU slots are taken by the race
    # a race needing more slots than exist is rejected, not left waiting forever
    d = schedule([job("huge", ["sa", "tabu", "highs"])], PoolState(cfg, now=0.0))
    assert d.rejections and "need more slots" in d.rejections[0].reason


def test_kind_down_waits_or_takes_allowed_alternative() -> None:
    cfg = pool(cpu(2), QPU)
    strict = job("strict", ["dwave-qpu"], priority=5)
    flexible = job("flexible", ["dwave-qpu"], alternatives={"dwave-qpu": ["sa"]})
    state = PoolState(cfg, now=0.0, down=frozenset({"qpu"}))
    d = schedule([strict, flexible], state)
    assert [s.job_id for s in d.starts] == ["flexible"]
    (p,) = d.starts[0].placements
    assert (p.backend, p.machine) == ("sa", "cpu")
    (w,) = d.waits
    assert w.job_id == "strict" and "down: dwave-qpu" in w.reason and w.reserved_start is None
    # QPU up but busy: the flexible job waits for it instead of running elsewhere
    busy = PoolState(cfg, now=0.0, running=(RunningLeg("qpu", "other", 30.0),))
    d = schedule([flexible], busy)
    assert not d.starts and d.waits[0].reserved_start == 30.0
    # when the QPU comes back the strict job runs on it
    out = simulate(cfg, [strict], machine_events=[MachineEvent(0.0, "qpu", False), MachineEvent(500.0, "qpu", True)])
    rec = out.records["strict"]
    assert rec.start == 500.0 and rec.placements[0].machine == "qpu"


def test_maintenance_blocks_jobs_that_would_overlap() -> None:
    # the CPU's weekly window is Thu 00:00-01:00; UNIX time 0 is Thursday 00:00 UTC
    cfg = pool(cpu(1, maintenance=[{"weekly": "thu 00:00-01:00"}]), GPU)
    d = schedule([job("a", ["sa"], run=100.0)], PoolState(cfg, now=-50.0))
    assert not d.starts and d.waits[0].reserved_start == 3600.0
    d = schedule([job("a", ["sa"], run=40.0)], PoolState(cfg, now=-50.0))
    assert [s.job_id for s in d.starts] == ["a"]  # ends before the window opens


def test_easy_backfill_never_delays_the_head() -> None:
    cfg = pool(cpu(4))
    running = tuple(RunningLeg("cpu", f"r{i}", 100.0) for i in range(3))
    head = job("head", ["sa", "sa", "tabu", "tabu"], priority=1000, run=50.0)
    short = job("short", ["sa"], priority=-1000, run=60.0)
    long = job("long", ["sa"], priority=-1000, run=500.0)
    d = schedule([head, short, long], PoolState(cfg, now=0.0, running=running))
    assert d.head is not None and d.head.job_id == "head" and d.head.reserved_start == 100.0
    assert [(s.job_id, s.backfilled) for s in d.starts] == [("short", True)]
    assert "delay the reserved start of job head" in next(w.reason for w in d.waits if w.job_id == "long")
    # simulated forward, the head starts exactly when it would without the lower-priority jobs
    alone = simulate(cfg, [], queued=[head], running=running)
    mixed = simulate(cfg, [], queued=[head, short, long], running=running)
    assert alone.records["head"].start == mixed.records["head"].start == 100.0
    assert mixed.records["short"].start == 0.0 and mixed.records["long"].start == 150.0
    # strict FCFS (no backfilling) leaves the free slot idle
    d = schedule([head, short, long], PoolState(cfg, now=0.0, running=running), policy=Policy.first_come_first_served())
    assert not d.starts


def test_deadline_and_cost_cap_rejections() -> None:
    cfg = pool(cpu(1), QPU, projects=[{"name": "lab", "tier": "research"}])
    d = schedule([job("late", ["sa"], run=100.0, deadline=50.0)], PoolState(cfg, now=0.0))
    assert d.rejections[0].job_id == "late" and "deadline cannot be met" in d.rejections[0].reason
    # the head can start only at t=100 (slot busy) and needs 100 s: a deadline at 150 cannot be met
    busy = PoolState(cfg, now=0.0, running=(RunningLeg("cpu", "x", 100.0),))
    d = schedule([job("tight", ["sa"], run=100.0, deadline=150.0)], busy)
    assert "earliest start is in 100 s" in d.rejections[0].reason
    d = schedule([job("ok", ["sa"], run=100.0, deadline=200.0)], busy)
    assert not d.rejections and d.head is not None
    # 10 s on the QPU lists at 500 yen; research pays half
    d = schedule([job("pricey", ["dwave-qpu"], cost_cap_yen=100.0, project="lab")], PoolState(cfg, now=0.0))
    assert "cost cap exceeded: the cheapest placement costs 250.00 yen" in d.rejections[0].reason
    d = schedule([job("fits", ["dwave-qpu"], cost_cap_yen=300.0, project="lab")], PoolState(cfg, now=0.0))
    (s,) = d.starts
    assert s.list_cost_yen == pytest.approx(500.0) and s.cost_yen == pytest.approx(250.0)
    # with a CPU alternative the cap is met by going to the CPU only if the QPU is unusable
    d = schedule(
        [job("alt", ["dwave-qpu"], cost_cap_yen=1.0, alternatives={"dwave-qpu": ["sa"]})],
        PoolState(cfg, now=0.0, down=frozenset({"qpu"})),
    )
    assert d.starts[0].placements[0].machine == "cpu"


def test_fair_share_orders_projects() -> None:
    cfg = pool(cpu(1), projects=[{"name": "a", "shares": 1.0}, {"name": "b", "shares": 1.0}])
    jobs = [job("from-a", ["sa"], project="a"), job("from-b", ["sa"], project="b")]
    d = schedule(jobs, PoolState(cfg, now=0.0), usage={"a": 100.0, "b": 10.0})
    assert [s.job_id for s in d.starts] == ["from-b"]
    d = schedule(jobs, PoolState(cfg, now=0.0), usage={"a": 10.0, "b": 100.0})
    assert [s.job_id for s in d.starts] == ["from-a"]


def _adversary(n: int, every: float, run: float) -> list[JobRequest]:
    # each job from a brand-new project (fair share 1) with the top user priority
    return [job(f"adv{i}", ["dwave-qpu"], t=i * every, run=run, project=f"fresh{i}", priority=1000) for i in range(n)]


def test_starvation_free_under_adversarial_stream() -> None:
    cfg = pool(QPU, projects=[{"name": "heavy", "shares": 1.0}])
    weights = PriorityWeights(max_age=600.0)
    victim = job("victim", ["dwave-qpu"], t=0.5, run=60.0, project="heavy", priority=-1000)
    stream = _adversary(int(4 * 3600 / 30), 30.0, 60.0)  # twice the QPU's capacity, for four hours
    usage = {"heavy": 1e6}  # the victim's project is far over its share
    aged = simulate(cfg, [victim, *stream], policy=Policy(weights), usage=usage, until=4 * 3600.0)
    start = aged.records["victim"].start
    assert start is not None
    # only jobs submitted before t_victim + Δ can outrank it; each holds the QPU for 60 s
    delta = starvation_bound(weights)
    ahead = sum(1 for j in stream if j.submit_time < victim.submit_time + delta)
    assert start <= victim.submit_time + delta + ahead * 60.0 + 60.0
    # without the age factor the same stream starves it for the whole run
    unaged = simulate(cfg, [victim, *stream], policy=Policy(PriorityWeights(age=0.0)), usage=usage, until=4 * 3600.0)
    assert unaged.records["victim"].start is None
