"""Day-ahead unit commitment input (pydantic): thermal units, solar forecast, a battery, hourly demand.

Units: power in MW, energy in MWh, time in hours (one period = 1 h), money in the currency of
the cost fields (the example uses yen). Read from JSON (see ``examples/energy/regional_day.json``).
Hours above the fleet's total capacity (thermal + solar forecast + battery power) are rejected
before solving, naming the file, the hour and the rule.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, ValidationError, model_validator

from kakehashi.exceptions import ModelError


class ThermalUnit(BaseModel):
    """A dispatchable unit. Costs: ``fixed_cost`` per hour on, ``marginal_cost`` per MWh, ``startup_cost`` per start."""

    name: str
    p_min: float = Field(ge=0)
    p_max: float = Field(gt=0)
    min_up: int = Field(1, ge=1)
    min_down: int = Field(1, ge=1)
    ramp_up: float = Field(gt=0)
    ramp_down: float = Field(gt=0)
    startup_cost: float = Field(0.0, ge=0)
    fixed_cost: float = Field(0.0, ge=0)
    marginal_cost: float = Field(ge=0)
    initial_on: bool = False
    initial_power: float = 0.0
    initial_hours: int = Field(24, ge=1, description="hours already spent in the initial state")

    @model_validator(mode="after")
    def _check(self) -> ThermalUnit:
        if self.p_min > self.p_max:
            raise ValueError(f"unit {self.name}: p_min {self.p_min} > p_max {self.p_max}")
        if self.initial_on and not (self.p_min <= self.initial_power <= self.p_max):
            raise ValueError(f"unit {self.name}: initial_power must lie in [p_min, p_max] when on")
        return self


class Battery(BaseModel):
    """A storage unit: energy ``capacity`` (MWh), charge/discharge ``power`` (MW), round-trip ``efficiency``."""

    capacity: float = Field(gt=0)
    power: float = Field(gt=0)
    efficiency: float = Field(0.9, gt=0, le=1)
    initial_soc: float = Field(0.5, ge=0, le=1, description="fraction of capacity at hour 0")
    final_soc_min: float = Field(0.5, ge=0, le=1, description="fraction of capacity required at the end")


class UnitCommitmentInstance(BaseModel):
    """Hourly demand (MW), solar forecast (MW, curtailable), spinning reserve as a fraction of demand."""

    name: str
    demand: list[float]
    solar: list[float] = Field(default_factory=list)
    reserve_fraction: float = Field(0.05, ge=0)
    units: list[ThermalUnit]
    battery: Battery | None = None
    synthetic: bool = True
    description: str = ""
    source: str | None = None

    @model_validator(mode="after")
    def _check(self) -> UnitCommitmentInstance:
        T = len(self.demand)
        if not 1 <= T <= 168:
            raise ModelError(f"horizon of {T} hours; expected 1..168", source=self.source, field="demand")
        if self.solar and len(self.solar) != T:
            raise ModelError(f"{len(self.solar)} solar values for {T} hours", source=self.source, field="solar")
        names = [u.name for u in self.units]
        if len(set(names)) != len(names):
            raise ModelError("unit names must be unique", source=self.source, field="units")
        thermal = sum(u.p_max for u in self.units)
        batt = self.battery.power if self.battery else 0.0
        for t, d in enumerate(self.demand):
            if d < 0:
                raise ModelError(f"hour {t}: negative demand {d}", source=self.source, field=f"demand[{t}]")
            cap = thermal + self.solar_at(t) + batt
            if d > cap + 1e-9:
                raise ModelError(
                    f"hour {t}: demand {d:g} MW exceeds the fleet's total capacity {cap:g} MW "
                    f"(thermal {thermal:g} + solar {self.solar_at(t):g} + battery {batt:g}); rule: demand <= capacity",
                    source=self.source, field=f"demand[{t}]")
        return self

    @property
    def hours(self) -> int:
        return len(self.demand)

    def solar_at(self, t: int) -> float:
        return float(self.solar[t]) if self.solar else 0.0


def read_unit_commitment(path: str | Path) -> UnitCommitmentInstance:
    """Read a JSON unit-commitment instance; errors name the file and the field."""
    p = Path(path)
    if not p.exists():
        raise ModelError("file not found", source=p)
    from kakehashi import safejson

    try:
        data = safejson.loads(p.read_bytes())  # bounded depth and integer length, strict JSON
    except safejson.JsonLimitError as exc:
        raise ModelError(exc.reason, source=p, line=exc.line) from None
    if not isinstance(data, dict):
        raise ModelError("expected a JSON object", source=p)
    data["source"] = str(p)
    data.setdefault("name", p.stem)
    try:
        return UnitCommitmentInstance(**data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        raise ModelError(f"{err['msg']} (input {err.get('input')!r})", source=p, field=where or None) from None
