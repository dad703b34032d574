"""`Poly`: a small quadratic polynomial over binary variables, used by the compile passes.

dimod models are the input and output of compilation; in between, passes substitute
variables by affine expressions (integer → Σ 2^k bits, spin → 2x − 1) and square
constraints into penalties. `Poly` does that arithmetic with plain dicts and uses x² = x for
binaries.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: An affine expression over binaries: (constant, [(binary variable, coefficient), ...]).
Affine = tuple[float, list[tuple[Hashable, float]]]


@dataclass
class Poly:
    """offset + Σ linear[v]·v + Σ quadratic[(u, v)]·u·v over binary variables (u ≠ v)."""

    linear: dict[Hashable, float] = field(default_factory=dict)
    quadratic: dict[tuple[Hashable, Hashable], float] = field(default_factory=dict)
    offset: float = 0.0

    def add_linear(self, v: Hashable, bias: float) -> None:
        if bias:
            self.linear[v] = self.linear.get(v, 0.0) + bias

    def add_quadratic(self, u: Hashable, v: Hashable, bias: float) -> None:
        if not bias:
            return
        if u == v:  # binary: x·x = x
            self.add_linear(u, bias)
            return
        key = (u, v) if (v, u) not in self.quadratic else (v, u)
        self.quadratic[key] = self.quadratic.get(key, 0.0) + bias

    def add_scaled(self, other: Poly, scale: float) -> None:
        """self += scale · other."""
        self.offset += scale * other.offset
        for v, b in other.linear.items():
            self.add_linear(v, scale * b)
        for (u, v), b in other.quadratic.items():
            self.add_quadratic(u, v, scale * b)

    @classmethod
    def from_affine(cls, expr: Affine) -> Poly:
        p = cls(offset=expr[0])
        for v, c in expr[1]:
            p.add_linear(v, c)
        return p

    def is_linear(self) -> bool:
        return not any(self.quadratic.values())

    def square(self) -> Poly:
        """(self)² for a LINEAR poly over binaries, using x² = x."""
        if not self.is_linear():
            raise ValueError("square() needs a linear polynomial")
        out = Poly(offset=self.offset**2)
        items = [(v, b) for v, b in self.linear.items() if b]
        for i, (u, a) in enumerate(items):
            out.add_linear(u, a * a + 2.0 * self.offset * a)
            for v, b in items[i + 1 :]:
                out.add_quadratic(u, v, 2.0 * a * b)
        return out

    def variables(self) -> set[Hashable]:
        out = set(self.linear)
        for u, v in self.quadratic:
            out.add(u)
            out.add(v)
        return out

    def min_max(self) -> tuple[float, float]:
        """Bounds on a LINEAR poly over binaries: (min, max)."""
        lo = self.offset + sum(b for b in self.linear.values() if b < 0)
        hi = self.offset + sum(b for b in self.linear.values() if b > 0)
        return lo, hi


def substitute(qm: Any, encoding: Mapping[Hashable, Affine]) -> Poly:
    """Substitute each variable of a dimod model by its affine expression over binaries.

    ``qm`` is a dimod QuadraticModel or BinaryQuadraticModel; ``encoding`` maps every variable
    to ``(constant, [(binary, coefficient), ...])``. Self-interactions (x·x of an integer) are
    expanded exactly.
    """
    out = Poly(offset=float(qm.offset))
    for v, bias in qm.linear.items():
        const, terms = encoding[v]
        out.offset += bias * const
        for x, c in terms:
            out.add_linear(x, bias * c)
    for (u, v), bias in qm.quadratic.items():
        cu, tu = encoding[u]
        cv, tv = encoding[v]
        out.offset += bias * cu * cv
        for x, a in tu:
            out.add_linear(x, bias * a * cv)
        for y, b in tv:
            out.add_linear(y, bias * b * cu)
        for x, a in tu:
            for y, b in tv:
                out.add_quadratic(x, y, bias * a * b)
    return out
