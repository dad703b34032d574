"""Design–Build–Test–Learn: rounds of ranked designs, measurements, and a Gaussian-process surrogate.

* **Design**: the pool is the strain-design run's ranked designs plus their neighbours (one
  knockout swapped for another candidate, or dropped), each with its FBA prediction (guaranteed
  production, screened on COBRApy). Round 0 takes the ``batch`` best predictions; later rounds
  take the ``batch`` highest expected improvements; the neighbours of each round's best measured
  strain join the pool.
* **Build/Test**: :class:`SimulatedLab`, or a user's measurements (:func:`read_measurements`).
* **Learn**: scikit-learn's ``GaussianProcessRegressor`` (RBF + white noise on the knockout bits)
  fitted to *measured − predicted*: FBA is the prior mean and the GP learns what FBA misses.
  Expected improvement (Jones, Schonlau & Welch 1998) over the best measurement ranks the pool.

The loop stops after ``rounds`` rounds, or when the best measurement has not improved for
``patience`` rounds (``stopped_improving`` says at which round it last improved).

**The simulated lab** (documented, seeded; not biology): a strain's measured production is

    max(0, P_FBA · Π_{j∈K} e_j · (1 − burden · |K|) + ε),   ε ~ N(0, noise²),

with ``P_FBA`` the FBA-guaranteed production, one hidden factor ``e_j = exp(N(0, effect_sd²))``
per candidate knockout (regulation, enzyme promiscuity, toxicity: what the stoichiometry does
not know) and a burden per deletion. A strain that FBA says cannot reach the growth floor
measures ``max(0, ε)``.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kakehashi.apps.bio.network import MetabolicNetwork
from kakehashi.apps.bio.qubo import screen
from kakehashi.exceptions import ModelError

Knockouts = tuple[str, ...]


@dataclass
class SimulatedLab:
    """The seeded simulated lab of the module docstring (production in mmol gDW⁻¹ h⁻¹)."""

    candidates: Sequence[str]
    seed: int = 0
    noise: float = 0.2
    effect_sd: float = 0.1
    burden: float = 0.02

    def __post_init__(self) -> None:
        rng = np.random.default_rng(self.seed)
        self.effects = {r: float(math.exp(rng.normal(0.0, self.effect_sd))) for r in sorted(self.candidates)}
        self._rng = np.random.default_rng(self.seed + 1)

    def measure(self, knockouts: Knockouts, predicted: float | None) -> float:
        eps = float(self._rng.normal(0.0, self.noise))
        if predicted is None:
            return max(0.0, eps)
        factor = math.prod(self.effects.get(r, 1.0) for r in knockouts) * (1.0 - self.burden * len(knockouts))
        return max(0.0, predicted * factor + eps)


def neighbours(design: Knockouts, candidates: Sequence[str], k: int) -> set[Knockouts]:
    """Sets one swap or one deletion away from ``design`` (at most ``k`` knockouts)."""
    out: set[Knockouts] = set()
    for r in design:
        rest = [x for x in design if x != r]
        if rest:
            out.add(tuple(sorted(rest)))
        for c in candidates:
            if c not in design:
                out.add(tuple(sorted([*rest, c])))
    if len(design) < k:
        out |= {tuple(sorted([*design, c])) for c in candidates if c not in design}
    out.discard(design)
    return out


def expected_improvement(mu: np.ndarray, sigma: np.ndarray, best: float, xi: float = 0.01) -> np.ndarray:
    """EI of a maximisation: ``(μ − best − ξ) Φ(z) + σ φ(z)``, ``z = (μ − best − ξ) / σ``."""
    from scipy.stats import norm

    s = np.maximum(sigma, 1e-12)
    z = (mu - best - xi) / s
    return np.asarray((mu - best - xi) * norm.cdf(z) + s * norm.pdf(z))


class Surrogate:
    """FBA prediction as the prior mean plus a GP on the residual, over knockout bits."""

    def __init__(self, candidates: Sequence[str], seed: int = 0) -> None:
        self.candidates = list(candidates)
        self.index = {r: i for i, r in enumerate(self.candidates)}
        self.seed = seed
        self.gp: Any = None

    def features(self, designs: Sequence[Knockouts]) -> np.ndarray:
        X = np.zeros((len(designs), len(self.candidates)))
        for n, d in enumerate(designs):
            for r in d:
                if r in self.index:
                    X[n, self.index[r]] = 1.0
        return X

    def fit(self, designs: Sequence[Knockouts], predicted: Sequence[float], measured: Sequence[float]) -> None:
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

        kernel = ConstantKernel(1.0, (1e-3, 1e3)) * RBF(1.5, (0.1, 20.0)) + WhiteKernel(0.05, (1e-4, 10.0))
        self.gp = GaussianProcessRegressor(kernel=kernel, normalize_y=True, random_state=self.seed,
                                           n_restarts_optimizer=2)
        import warnings

        from sklearn.exceptions import ConvergenceWarning

        y = np.asarray(measured, dtype=float) - np.asarray(predicted, dtype=float)
        with warnings.catch_warnings():  # a length scale at its bound is an answer, not an error
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.gp.fit(self.features(designs), y)

    def predict(self, designs: Sequence[Knockouts], predicted: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
        base = np.asarray(predicted, dtype=float)
        if self.gp is None:
            return base, np.ones_like(base)
        mu, sd = self.gp.predict(self.features(designs), return_std=True)
        return base + mu, np.asarray(sd)


def read_measurements(path: str | Path) -> list[tuple[Knockouts, float]]:
    """A CSV with columns ``knockouts`` (ids separated by spaces or ';', empty: wild type) and ``measured``."""
    p = Path(path)
    if not p.exists():
        raise ModelError("no such measurement file", source=str(p))
    rows = []
    with p.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or not {"knockouts", "measured"} <= set(reader.fieldnames):
            raise ModelError("expected a header with columns 'knockouts' and 'measured'", source=str(p), line=1)
        for n, row in enumerate(reader, start=2):
            kos = tuple(sorted(x for x in (row["knockouts"] or "").replace(";", " ").split() if x))
            try:
                value = float(row["measured"])
            except (TypeError, ValueError):
                raise ModelError(f"measured: expected a number, got {row['measured']!r}", source=str(p),
                                 line=n) from None
            if not math.isfinite(value):
                raise ModelError("measured: not a finite number", source=str(p), line=n)
            rows.append((kos, value))
    if not rows:
        raise ModelError("no measurements", source=str(p))
    return rows


def _predict_fba(net: MetabolicNetwork, product: str, sets: Sequence[Knockouts], min_growth: float,
                 cache: dict[Knockouts, float | None]) -> None:
    todo = [s for s in sets if s not in cache]
    for s, v in zip(todo, screen(net, product, todo, min_growth=min_growth), strict=True):
        # rounded: the LP's last digits depend on its warm start, and equal designs must tie exactly
        cache[s] = None if v is None else round(v, 6)


def run_dbtl(net: MetabolicNetwork, product: str, start: Sequence[Knockouts], candidates: Sequence[str], k: int, *,
             min_growth: float, rounds: int = 8, batch: int = 3, patience: int = 3, seed: int = 0,
             lab: SimulatedLab | None = None) -> dict[str, Any]:
    """Run the loop on the simulated lab; returns every round (JSON-able) and when it stopped improving."""
    for kos in start:
        for r in kos:
            net.index(r, field="designs")
    lab = lab or SimulatedLab(candidates, seed=seed)
    cache: dict[Knockouts, float | None] = {}
    pool: set[Knockouts] = set(start)
    for d in start:
        pool |= neighbours(d, candidates, k)
    surrogate = Surrogate(candidates, seed=seed)
    measured: dict[Knockouts, float] = {}
    history: list[dict[str, Any]] = []
    best, last_improved = float("-inf"), 0
    for rnd in range(rounds):
        _predict_fba(net, product, sorted(pool), min_growth, cache)
        open_sets = sorted(s for s in pool if s not in measured and cache.get(s) is not None)
        if not open_sets:
            break
        pred = [float(cache[s] or 0.0) for s in open_sets]
        mu, sd = surrogate.predict(open_sets, pred)
        score = np.asarray(pred) if rnd == 0 else expected_improvement(mu, sd, best)
        order = np.argsort(-score, kind="stable")[:batch]
        rows: list[dict[str, Any]] = []
        for i in order:
            s = open_sets[int(i)]
            value = lab.measure(s, cache[s])
            measured[s] = value
            rows.append({"knockouts": list(s), "predicted": pred[int(i)], "surrogate_mean": float(mu[int(i)]),
                         "surrogate_sd": float(sd[int(i)]), "score": float(score[int(i)]), "measured": value})
        top = max(float(r["measured"]) for r in rows)
        improved = top > best + 1e-9
        if improved:
            best, last_improved = top, rnd
        best_set = max(measured, key=lambda s: measured[s])
        history.append({"round": rnd, "selection": "fba" if rnd == 0 else "expected improvement",
                        "measurements": rows, "best_so_far": best, "best_knockouts": list(best_set),
                        "improved": improved, "pool": len(pool)})
        pool |= neighbours(best_set, candidates, k)
        done = list(measured)
        surrogate.fit(done, [float(cache.get(s) or 0.0) for s in done], [measured[s] for s in done])
        if rnd - last_improved >= patience:
            break
    improvements = sum(1 for h in history[1:] if h["improved"])
    return {"product": product, "k": k, "min_growth": min_growth, "seed": seed, "batch": batch,
            "lab": {"kind": "simulated", "noise": lab.noise, "effect_sd": lab.effect_sd, "burden": lab.burden,
                    "seed": lab.seed},
            "rounds": history, "improvements": improvements, "stopped_improving": last_improved,
            "best": history[-1]["best_so_far"] if history else None,
            "best_knockouts": history[-1]["best_knockouts"] if history else []}


def propose(net: MetabolicNetwork, product: str, measurements: Sequence[tuple[Knockouts, float]],
            candidates: Sequence[str], k: int, *, min_growth: float, batch: int = 4, seed: int = 0) -> dict[str, Any]:
    """One Learn → Design step on a user's measurements: the next ``batch`` strains by expected improvement."""
    for kos, _ in measurements:
        for r in kos:
            net.index(r, field="measurements")
    cache: dict[Knockouts, float | None] = {}
    done = [m[0] for m in measurements]
    _predict_fba(net, product, done, min_growth, cache)
    surrogate = Surrogate(candidates, seed=seed)
    surrogate.fit(done, [float(cache.get(s) or 0.0) for s in done], [m[1] for m in measurements])
    best_value = max(m[1] for m in measurements)
    pool: set[Knockouts] = set()
    for s in done:
        pool |= neighbours(s, candidates, k)
    pool -= set(done)
    _predict_fba(net, product, sorted(pool), min_growth, cache)
    open_sets = sorted(s for s in pool if cache.get(s) is not None)
    pred = [float(cache[s] or 0.0) for s in open_sets]
    mu, sd = surrogate.predict(open_sets, pred)
    ei = expected_improvement(mu, sd, best_value)
    order = np.argsort(-ei, kind="stable")[:batch]
    return {"product": product, "best_measured": best_value,
            "proposals": [{"knockouts": list(open_sets[int(i)]), "predicted": pred[int(i)],
                           "surrogate_mean": float(mu[int(i)]), "surrogate_sd": float(sd[int(i)]),
                           "expected_improvement": float(ei[int(i)])} for i in order]}


def write_rounds_csv(result: dict[str, Any], path: str | Path) -> Path:
    """One row per measured strain: round, knockouts (';'-separated), FBA prediction, measurement."""
    out = Path(path)
    with out.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["round", "knockouts", "predicted", "measured"])
        for r in result["rounds"]:
            for m in r["measurements"]:
                w.writerow([r["round"], ";".join(m["knockouts"]), f"{m['predicted']:.6g}", f"{m['measured']:.6g}"])
    return out
