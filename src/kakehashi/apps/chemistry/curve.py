"""The H2 bond-dissociation curve: VQE against HF and FCI over bond lengths, plotted with matplotlib (Agg).

One call, :func:`dissociation_curve`, computes every point and writes the PNG.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from kakehashi.apps.chemistry.molecules import Molecule
from kakehashi.apps.chemistry.vqe import VqeResult, ground_state
from kakehashi.exceptions import BackendUnavailable

#: Default H–H distances (Å).
DEFAULT_DISTANCES = tuple(float(d) for d in np.round(np.linspace(0.3, 2.5, 12), 3))


def stretched(molecule: Molecule, distance: float) -> Molecule:
    """A diatomic ``molecule`` with its second atom moved along z to ``distance`` Å from the first."""
    (s0, *_), (s1, *_) = molecule.atoms
    return molecule.with_atoms(((s0, 0.0, 0.0, 0.0), (s1, 0.0, 0.0, float(distance))))


def dissociation_curve(
    molecule: Molecule,
    out: str | Path,
    *,
    distances: Sequence[float] = DEFAULT_DISTANCES,
    **vqe_options: Any,
) -> list[tuple[float, VqeResult]]:
    """VQE, HF and FCI energies (Hartree) over bond lengths (Å) of a diatomic; writes a PNG to ``out``."""
    if len(molecule.atoms) != 2:
        from kakehashi.exceptions import ModelError

        raise ModelError(f"a dissociation curve needs a diatomic molecule, got {len(molecule.atoms)} atoms")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise BackendUnavailable("install the extra: pip install 'kakehashi[apps]'") from exc
    points = [(float(d), ground_state(stretched(molecule, d), **vqe_options)) for d in distances]
    xs = [d for d, _ in points]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(6.4, 6.4), sharex=True, height_ratios=(3, 1))
    top.plot(xs, [r.hf for _, r in points], "s--", label="Hartree–Fock")
    if all(r.fci is not None for _, r in points):
        top.plot(xs, [r.fci for _, r in points], "k-", label="FCI (PySCF)")
    top.plot(xs, [r.energy for _, r in points], "o", label=f"VQE ({points[0][1].ansatz}, {points[0][1].mapping})")
    top.set_ylabel("energy (Hartree)")
    top.set_title(f"{molecule.name or molecule.formula} dissociation, {points[0][1].basis}")
    top.legend()
    bottom.semilogy(xs, [max(abs(r.error_mha), 1e-6) for _, r in points], "o-")
    bottom.axhline(1.6, color="r", lw=0.8, ls=":", label="chemical accuracy 1.6 mHa")
    bottom.set_ylabel("|VQE − FCI| (mHa)")
    bottom.set_xlabel("bond length (Å)")
    bottom.legend()
    fig.tight_layout()
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return points
