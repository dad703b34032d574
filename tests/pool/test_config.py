"""Pool configuration: the example loads; validation errors name the file and the field."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from kakehashi.backends.base import HardwareKind
from kakehashi.exceptions import ModelError
from kakehashi.pool.config import MaintenanceWindow, Tier, load_pool, utc_seconds

REPO = Path(__file__).resolve().parents[2]

MACHINE = """
[[machines]]
name = "cpu"
kind = "cpu"
slots = 2
backends = ["sa"]
price_yen_per_second = 0.01
"""


def test_example_pool_loads() -> None:
    pool = load_pool(REPO / "examples" / "pool.toml")
    kinds = {m.kind for m in pool.machines}
    assert kinds == set(HardwareKind)
    assert pool.machine("qpu-anneal").slots == 1
    assert pool.project("lab-quantum").tier is Tier.RESEARCH
    assert pool.discount_for("lab-quantum") == 0.5
    assert pool.discount_for("acme-corp") == 0.0
    assert pool.discount_for("someone-new") == 0.0  # unknown projects: commercial terms
    assert "dwave-qpu" in pool.backends()


def test_bad_slot_count_names_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "pool.toml"
    path.write_text(MACHINE + MACHINE.replace('"cpu"', '"gpu"', 2).replace("slots = 2", "slots = 0"))
    with pytest.raises(ModelError) as info:
        load_pool(path)
    assert info.value.source == str(path)
    assert info.value.field == "machines[1].slots"
    assert str(path) in str(info.value)


def test_unknown_kind_and_unknown_key(tmp_path: Path) -> None:
    path = tmp_path / "pool.toml"
    path.write_text(MACHINE.replace('kind = "cpu"', 'kind = "tpu"'))
    with pytest.raises(ModelError) as info:
        load_pool(path)
    assert info.value.field == "machines[0].kind"
    path.write_text(MACHINE.replace("slots = 2", "slots = 2\ncolour = 'red'"))
    with pytest.raises(ModelError) as info:
        load_pool(path)
    assert info.value.field == "machines[0].colour"


def test_duplicate_names_and_bad_tier_rate(tmp_path: Path) -> None:
    path = tmp_path / "pool.toml"
    path.write_text(MACHINE + MACHINE)
    with pytest.raises(ModelError, match="duplicate machine name 'cpu'"):
        load_pool(path)
    path.write_text("[tiers]\nresearch = 1.5\n" + MACHINE)
    with pytest.raises(ModelError) as info:
        load_pool(path)
    assert info.value.field == "tiers"


def test_yaml_pool_and_quota_field_error(tmp_path: Path) -> None:
    path = tmp_path / "pool.yaml"
    path.write_text(
        "machines:\n  - {name: q, kind: qpu-gate, slots: 1, qubits: 127, backends: [ibm], price_yen_per_second: 100}\n"
        "projects:\n  - {name: p, tier: academic, quota: {limit: -5, unit: yen, period: day}}\n"
    )
    with pytest.raises(ModelError) as info:
        load_pool(path)
    assert info.value.field == "projects[0].quota.limit"
    path.write_text(path.read_text().replace("-5", "5"))
    pool = load_pool(path)
    assert pool.machines[0].qubits == 127 and pool.discount_for("p") == 0.5


def test_broken_toml_and_wrong_suffix(tmp_path: Path) -> None:
    path = tmp_path / "pool.toml"
    path.write_text("[[machines]\n")
    with pytest.raises(ModelError, match="invalid TOML"):
        load_pool(path)
    (tmp_path / "pool.ini").write_text("x = 1\n")
    with pytest.raises(ModelError, match=r"expected a \.toml"):
        load_pool(tmp_path / "pool.ini")
    with pytest.raises(ModelError, match="cannot read"):
        load_pool(tmp_path / "missing.toml")


def test_maintenance_windows() -> None:
    weekly = MaintenanceWindow(weekly="sun 02:00-06:00")
    sunday_3am = utc_seconds(datetime(2026, 11, 22, 3, 0, tzinfo=UTC))  # a Sunday
    assert weekly.intervals(sunday_3am, sunday_3am + 1)
    (a, b), = weekly.intervals(sunday_3am, sunday_3am + 1)
    assert b - a == 4 * 3600 and a == utc_seconds(datetime(2026, 11, 22, 2, 0, tzinfo=UTC))
    monday = utc_seconds(datetime(2026, 11, 23, 3, 0, tzinfo=UTC))
    assert not weekly.intervals(monday, monday + 3600)
    wrap = MaintenanceWindow(weekly="sat 23:00-01:00")
    sunday_0030 = utc_seconds(datetime(2026, 11, 22, 0, 30, tzinfo=UTC))
    assert wrap.intervals(sunday_0030, sunday_0030 + 1)
    once = MaintenanceWindow(start=datetime(2026, 12, 1), end=datetime(2026, 12, 1, 12))
    assert once.intervals(utc_seconds(datetime(2026, 12, 1, 6)), utc_seconds(datetime(2026, 12, 1, 7)))
    with pytest.raises(ValueError, match="DAY HH:MM-HH:MM"):
        MaintenanceWindow(weekly="someday 2-6")
    with pytest.raises(ValueError, match="end must be after start"):
        MaintenanceWindow(start=datetime(2026, 12, 2), end=datetime(2026, 12, 1))
