"""``kakehashi molecule FILE.xyz|NAME``: VQE ground-state energy against HF, CCSD and FCI.

Mounted by the main app as a command; ``--curve out.png`` instead draws the bond-dissociation
curve of a diatomic (e.g. ``kakehashi molecule H2 --curve h2.png``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kakehashi.cli.output import emit_json


def molecule(
    spec: Annotated[str, typer.Argument(metavar="FILE.xyz|NAME", help="an XYZ file (Å) or H2, LiH, H2O")],
    basis: Annotated[str, typer.Option(help="PySCF basis set")] = "sto-3g",
    mapping: Annotated[str, typer.Option(help="jordan_wigner or parity (two-qubit reduction)")] = "parity",
    ansatz: Annotated[str, typer.Option(help="uccsd or hea (hardware-efficient)")] = "uccsd",
    charge: Annotated[int, typer.Option(help="total charge")] = 0,
    spin: Annotated[int, typer.Option(help="2S = N_alpha - N_beta")] = 0,
    active: Annotated[
        str | None, typer.Option(help="active spatial orbitals, comma-separated 0-based MO indices")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
    curve: Annotated[
        Path | None, typer.Option(help="write the dissociation curve of a diatomic to this PNG")
    ] = None,
) -> None:
    """Compute a molecular ground-state energy with VQE and compare it with PySCF's HF, CCSD and FCI."""
    from kakehashi.apps.chemistry import dissociation_curve, ground_state, load
    from kakehashi.exceptions import ModelError

    mol = load(spec, charge=charge, spin=spin)
    active_orbitals = None
    if active:
        try:
            active_orbitals = [int(x) for x in active.split(",")]
        except ValueError as exc:
            raise ModelError(f"expected comma-separated integers, got {active!r}", field="--active") from exc
    opts = {"basis": basis, "mapping": mapping, "ansatz": ansatz, "active_orbitals": active_orbitals}
    if curve is not None:
        points = dissociation_curve(mol, curve, **opts)  # type: ignore[arg-type]
        rows = [{"distance_angstrom": d, **r.to_dict()} for d, r in points]
        if as_json:
            emit_json({"plot": str(curve), "points": rows})
        else:
            worst = max(abs(r.error_mha) for _, r in points)
            typer.echo(f"wrote {curve}: {len(points)} points, largest |VQE - {points[0][1].reference.upper()}| "
                       f"{worst:.3f} mHa")
        return
    r = ground_state(mol, **opts)  # type: ignore[arg-type]
    if as_json:
        emit_json(r.to_dict())
        return

    def fmt(x: float | None) -> str:
        return "-" if x is None else f"{x:.8f}"

    typer.echo(f"{r.molecule} / {r.basis}: {r.num_qubits} qubits ({r.mapping}), {r.ansatz} with "
               f"{r.num_parameters} parameters, active orbitals {r.active_orbitals}")
    typer.echo(f"  VQE    {fmt(r.energy)} Ha   ({r.error_mha:+.3f} mHa vs {r.reference.upper()})")
    typer.echo(f"  HF     {fmt(r.hf)} Ha")
    typer.echo(f"  CCSD   {fmt(r.ccsd)} Ha")
    typer.echo(f"  CASCI  {fmt(r.casci)} Ha")
    typer.echo(f"  FCI    {fmt(r.fci)} Ha")
