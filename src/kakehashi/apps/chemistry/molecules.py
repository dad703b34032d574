"""Molecular geometries: XYZ files, a few named molecules, and validation before any quantum chemistry.

Coordinates are in ångström. A :class:`Molecule` is checked when built: every element must be
known, no two atoms may be closer than :data:`MIN_DISTANCE`, and the electron count must be
compatible with the spin (2S = N_alpha - N_beta has the parity of the electron count).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kakehashi.exceptions import ModelError

#: Closest allowed distance between two nuclei (Å); closer means a typo, not chemistry.
MIN_DISTANCE = 0.3

#: Atomic numbers, H to Kr.
ELEMENTS: dict[str, int] = {
    s: z
    for z, s in enumerate(
        ["H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne", "Na", "Mg", "Al", "Si", "P", "S", "Cl", "Ar", "K", "Ca", "Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Ga", "Ge", "As", "Se", "Br", "Kr"],
        start=1,
    )
}


@dataclass(frozen=True)
class Molecule:
    """Nuclei (element symbol, x, y, z in Å), total charge and spin 2S, plus an optional name.

    ``active_orbitals`` (spatial MO indices, 0-based, energy order) and ``frozen_core`` are the
    default active space for this molecule; ``None`` means all orbitals.
    """

    atoms: tuple[tuple[str, float, float, float], ...]
    charge: int = 0
    spin: int = 0
    name: str = ""
    active_orbitals: tuple[int, ...] | None = None
    source: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        validate(self)

    @property
    def num_electrons(self) -> int:
        return sum(ELEMENTS[s] for s, *_ in self.atoms) - self.charge

    @property
    def formula(self) -> str:
        counts: dict[str, int] = {}
        for s, *_ in self.atoms:
            counts[s] = counts.get(s, 0) + 1
        return "".join(f"{s}{n if n > 1 else ''}" for s, n in counts.items())

    def pyscf_atom(self) -> str:
        """The geometry in PySCF's ``atom`` string format (Å)."""
        return "; ".join(f"{s} {x:.10f} {y:.10f} {z:.10f}" for s, x, y, z in self.atoms)

    def with_atoms(self, atoms: tuple[tuple[str, float, float, float], ...]) -> Molecule:
        return Molecule(atoms, self.charge, self.spin, self.name, self.active_orbitals, self.source)


def validate(mol: Molecule) -> None:
    """Raise :class:`ModelError` for an unknown element, overlapping atoms or an impossible spin."""
    src = mol.source
    if not mol.atoms:
        raise ModelError("a molecule needs at least one atom", source=src, field="atoms")
    for k, (sym, *xyz) in enumerate(mol.atoms):
        if sym not in ELEMENTS:
            raise ModelError(f"unknown element {sym!r} (atom {k + 1}); known: H to Kr", source=src, field="atoms")
        if not all(np.isfinite(xyz)):
            raise ModelError(f"atom {k + 1} ({sym}) has a non-finite coordinate", source=src, field="atoms")
    pos = np.array([a[1:] for a in mol.atoms], dtype=np.float64)
    for i in range(len(pos)):
        for j in range(i + 1, len(pos)):
            d = float(np.linalg.norm(pos[i] - pos[j]))
            if d < MIN_DISTANCE:
                raise ModelError(
                    f"atoms {i + 1} ({mol.atoms[i][0]}) and {j + 1} ({mol.atoms[j][0]}) overlap: "
                    f"{d:.3f} Å apart (minimum {MIN_DISTANCE} Å)",
                    source=src,
                    field="atoms",
                )
    n = mol.num_electrons
    if n < 0:
        raise ModelError(f"charge {mol.charge} leaves {n} electrons", source=src, field="charge")
    if mol.spin < 0 or (n - mol.spin) % 2 != 0 or mol.spin > n:
        raise ModelError(
            f"{n} electrons cannot have spin 2S={mol.spin}: 2S must have the parity of the electron "
            f"count and be at most {n} (try spin={n % 2})",
            source=src,
            field="spin",
        )


def read_xyz(path: str | Path, *, charge: int = 0, spin: int = 0) -> Molecule:
    """Read an XYZ file: atom count, a comment line, then ``Symbol x y z`` lines (Å)."""
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise ModelError(f"cannot read: {exc.strerror}", source=path) from exc
    if len(lines) < 2:
        raise ModelError("an XYZ file starts with the atom count and a comment line", source=path, line=1)
    try:
        count = int(lines[0].split()[0])
    except (ValueError, IndexError) as exc:
        raise ModelError(f"expected the number of atoms, got {lines[0]!r}", source=path, line=1) from exc
    atoms: list[tuple[str, float, float, float]] = []
    for k, line in enumerate(lines[2:], start=3):
        parts = line.split()
        if not parts:
            continue
        if len(parts) < 4:
            raise ModelError(f"expected 'Symbol x y z', got {line!r}", source=path, line=k)
        sym = parts[0].capitalize()
        if sym not in ELEMENTS:
            raise ModelError(f"unknown element {parts[0]!r}; known: H to Kr", source=path, line=k)
        try:
            x, y, z = (float(v) for v in parts[1:4])
        except ValueError as exc:
            raise ModelError(f"expected three numbers (Å), got {parts[1:4]!r}", source=path, line=k) from exc
        atoms.append((sym, x, y, z))
    if len(atoms) != count:
        raise ModelError(f"the header says {count} atoms but {len(atoms)} follow", source=path, line=1)
    return Molecule(tuple(atoms), charge=charge, spin=spin, name=path.stem, source=str(path))


def _named() -> dict[str, Molecule]:
    theta = np.deg2rad(104.5) / 2
    r_oh = 0.9578
    return {
        "H2": Molecule((("H", 0.0, 0.0, 0.0), ("H", 0.0, 0.0, 0.735)), name="H2"),
        # Frozen Li 1s: CAS(2e, 5o), 0.23 mHa above full FCI in STO-3G (dropping 2px/2py too: 1.26 mHa).
        "LiH": Molecule((("Li", 0.0, 0.0, 0.0), ("H", 0.0, 0.0, 1.595)), name="LiH",
                        active_orbitals=(1, 2, 3, 4, 5)),
        # HOMO-1..LUMO+1 in STO-3G: CAS(4e, 4o).
        "H2O": Molecule(
            (
                ("O", 0.0, 0.0, 0.0),
                ("H", r_oh * np.sin(theta), 0.0, r_oh * np.cos(theta)),
                ("H", -r_oh * np.sin(theta), 0.0, r_oh * np.cos(theta)),
            ),
            name="H2O",
            active_orbitals=(3, 4, 5, 6),
        ),
    }


NAMED: dict[str, Molecule] = _named()


def named(name: str) -> Molecule:
    """A named molecule (case-insensitive): H2 (0.735 Å), LiH (1.595 Å), H2O (0.9578 Å, 104.5°)."""
    for key, mol in NAMED.items():
        if key.lower() == name.lower():
            return mol
    raise ModelError(f"unknown molecule {name!r}; named molecules: {', '.join(NAMED)} (or give an XYZ file)")


def load(spec: str, *, charge: int = 0, spin: int = 0) -> Molecule:
    """A molecule from an XYZ path or a name."""
    if spec.lower().endswith(".xyz") or Path(spec).is_file():
        return read_xyz(spec, charge=charge, spin=spin)
    mol = named(spec)
    if charge or spin:
        return Molecule(mol.atoms, charge, spin, mol.name, mol.active_orbitals)
    return mol
