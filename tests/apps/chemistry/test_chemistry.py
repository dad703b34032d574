"""Molecular ground states: mapping spectra, VQE within chemical accuracy of FCI, input errors, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kakehashi.apps.chemistry import Molecule, QubitMapping, dissociation_curve, ground_state, named, read_xyz
from kakehashi.apps.chemistry.integrals import active_space, baselines, run_scf
from kakehashi.exceptions import ModelError

CHEMICAL_ACCURACY_MHA = 1.6


@pytest.mark.parametrize("mapping", ["jordan_wigner", "parity"])
def test_mapping_ground_energy_is_fci(mapping: str) -> None:
    mol = named("H2")
    state = run_scf(mol)
    ints = active_space(state, mol, None)
    qm = QubitMapping(mapping, ints.num_orbitals, ints.num_alpha, ints.num_beta)  # type: ignore[arg-type]
    H = qm.hamiltonian(ints).to_matrix()
    assert qm.num_qubits == (4 if mapping == "jordan_wigner" else 2)
    evals = np.linalg.eigvalsh(H)
    fci = baselines(state, ints).fci
    assert fci is not None
    assert evals[0] == pytest.approx(fci, abs=1e-8)
    hf_index = sum(b << i for i, b in enumerate(qm.occupation_bits()))
    assert H[hf_index, hf_index].real == pytest.approx(state.mf.e_tot, abs=1e-8)


@pytest.mark.parametrize(("mapping", "ansatz"), [("jordan_wigner", "uccsd"), ("parity", "hea")])
def test_vqe_h2_chemical_accuracy(mapping: str, ansatz: str) -> None:
    r = ground_state(named("H2"), mapping=mapping, ansatz=ansatz)
    assert r.reference == "fci"
    assert abs(r.error_mha) < CHEMICAL_ACCURACY_MHA
    assert r.energy < r.hf


def test_vqe_lih_frozen_core_chemical_accuracy() -> None:
    r = ground_state(named("LiH"), mapping="parity", ansatz="uccsd")
    assert r.num_qubits == 8  # CAS(2e, 5o), parity with two-qubit reduction
    assert r.fci is not None and r.energy > r.fci - 1e-6  # variational against full FCI
    assert abs(r.error_mha) < CHEMICAL_ACCURACY_MHA


def test_bad_molecules_rejected_before_any_integral(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="unknown element 'Qq'"):
        Molecule((("Qq", 0.0, 0.0, 0.0),))
    with pytest.raises(ModelError, match="overlap"):
        Molecule((("H", 0.0, 0.0, 0.0), ("H", 0.0, 0.0, 0.05)))
    with pytest.raises(ModelError, match="3 electrons cannot have spin 2S=0"):
        Molecule((("H", 0.0, 0.0, 0.0), ("He", 0.0, 0.0, 1.0)))
    bad = tmp_path / "bad.xyz"
    bad.write_text("3\ncomment\nH 0 0 0\nH 0 0 0.74\n")
    with pytest.raises(ModelError, match=r"bad.xyz:1: the header says 3 atoms but 2 follow"):
        read_xyz(bad)
    with pytest.raises(ModelError, match="unknown molecule"):
        named("unobtainium")


def test_xyz_roundtrip_and_cli_json(tmp_path: Path) -> None:
    import typer
    from typer.testing import CliRunner

    from kakehashi.cli.molecule import molecule

    path = tmp_path / "h2.xyz"
    path.write_text("2\nhydrogen\nH 0 0 0\nH 0 0 0.735\n")
    assert read_xyz(path).num_electrons == 2
    app = typer.Typer()
    app.command()(molecule)
    app.command("noop")(lambda: None)
    res = CliRunner().invoke(app, ["molecule", str(path), "--json", "--mapping", "jordan_wigner"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert abs(data["error_mha"]) < CHEMICAL_ACCURACY_MHA and data["num_qubits"] == 4


def test_dissociation_curve_png(tmp_path: Path) -> None:
    out = tmp_path / "h2.png"
    points = dissociation_curve(named("H2"), out, distances=(0.5, 0.735, 2.0))
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert all(abs(r.error_mha) < CHEMICAL_ACCURACY_MHA for _, r in points)
    # stretched H2: HF fails badly, VQE follows FCI
    assert points[-1][1].hf - points[-1][1].energy > 0.1
