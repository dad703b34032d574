"""Compilation: pure passes from a :class:`~kakehashi.model.problem.Problem` to backend targets.

Each pass returns a :class:`~kakehashi.compile.targets.Compiled` (target, variable order,
inverter, report). :func:`compile_for` picks the passes for a target kind. Passes for
domain-specific targets (circuits, routing) live beside their targets and are found through
:data:`EXTERNAL_PASSES` without this module importing them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from importlib import import_module
from typing import Any

import dimod
import numpy as np
import scipy.sparse as sp

from kakehashi.compile.integers import Encoding, encode_variables
from kakehashi.compile.inverter import Inverter
from kakehashi.compile.ising import bqm_to_ising, ising_to_bqm
from kakehashi.compile.milp import to_matrix_program
from kakehashi.compile.penalties import DEFAULT_PENALTY_SCALE, cqm_to_bqm
from kakehashi.compile.targets import (
    Compiled,
    CompileReport,
    IsingModel,
    MatrixProgram,
    QuadraticRow,
    TargetKind,
)
from kakehashi.exceptions import CompileError
from kakehashi.model.problem import Problem

#: target kind → "module:function" of a pass ``f(problem, **options) -> Compiled``.
EXTERNAL_PASSES: dict[str, str] = {
    "circuit": "kakehashi.compile.circuits:compile_circuit",
    "hamiltonian": "kakehashi.compile.circuits:compile_hamiltonian",
    "routing": "kakehashi.apps.routing.target:compile_routing",
}

__all__ = [
    "DEFAULT_PENALTY_SCALE",
    "EXTERNAL_PASSES",
    "CompileReport",
    "Compiled",
    "Encoding",
    "Inverter",
    "IsingModel",
    "MatrixProgram",
    "QuadraticRow",
    "TargetKind",
    "bqm_to_ising",
    "compile_for",
    "cqm_to_bqm",
    "encode_variables",
    "ising_to_bqm",
    "to_bqm",
    "to_cqm",
    "to_ising",
    "to_matrix_program",
]


def _affine(inner: Inverter, scale: float, shift: float) -> Inverter:
    """``inner`` after the elementwise map target_mid = scale·t + shift (same labels)."""
    n = len(inner.target)
    step = Inverter(
        original=inner.target,
        target=inner.target,
        matrix=sp.identity(n, format="csr") * scale,
        offset=np.full(n, shift),
        integral=np.zeros(n, dtype=bool),
    )
    return inner.then(step)


def to_bqm(
    problem: Problem,
    *,
    encoding: Encoding = "log",
    penalty_scale: float = DEFAULT_PENALTY_SCALE,
    penalties: dict[Any, float] | None = None,
) -> Compiled[dimod.BinaryQuadraticModel]:
    """A minimisation BQM over binaries (penalties for constraints, encodings for integers)."""
    model = problem.model
    if isinstance(model, dimod.BinaryQuadraticModel):
        bqm = (
            model.copy()
            if model.vartype is dimod.BINARY
            else model.change_vartype(dimod.BINARY, inplace=False)
        )
        if problem.sense == "max":
            bqm.scale(-1.0)
        variables = tuple(bqm.variables)
        inverter = Inverter.identity(variables)
        if model.vartype is dimod.SPIN:
            inverter = _affine(inverter, 2.0, -1.0)  # s = 2x − 1
        report = CompileReport()
        report.add("bqm_to_binary", from_vartype=model.vartype.name, negated_for_max=problem.sense == "max")
        return Compiled(TargetKind.BQM, bqm, variables, inverter, report)
    return cqm_to_bqm(problem, encoding=encoding, penalty_scale=penalty_scale, penalties=penalties)


def to_ising(problem: Problem, **options: Any) -> Compiled[IsingModel]:
    """Spins, fields h and sparse couplings J (minimise); via :func:`to_bqm` unless already spin."""
    model = problem.model
    if isinstance(model, dimod.BinaryQuadraticModel) and model.vartype is dimod.SPIN:
        variables = tuple(model.variables)
        ising = bqm_to_ising(model, variables)
        if problem.sense == "max":
            ising = IsingModel(h=-ising.h, J=(-ising.J).tocsr(), offset=-ising.offset)
        report = CompileReport()
        report.add("bqm_to_ising", negated_for_max=problem.sense == "max", num_couplings=int(ising.J.nnz))
        return Compiled(TargetKind.ISING, ising, variables, Inverter.identity(variables), report)
    compiled = to_bqm(problem, **options)
    ising = bqm_to_ising(compiled.target, compiled.variables)
    compiled.report.add("bqm_to_ising", num_couplings=int(ising.J.nnz))
    inverter = _affine(compiled.inverter, 0.5, 0.5)  # x = (s + 1) / 2
    return Compiled(TargetKind.ISING, ising, compiled.variables, inverter, compiled.report)


def to_cqm(problem: Problem) -> Compiled[dimod.ConstrainedQuadraticModel]:
    """The problem's own CQM, negated when maximised (for hybrid CQM solvers)."""
    cqm = dimod.ConstrainedQuadraticModel.from_bqm(problem.model) if problem.is_bqm else problem.cqm
    if problem.sense == "max":
        cqm = copy.deepcopy(cqm)
        negated = dimod.QuadraticModel()
        negated.update(cqm.objective)
        negated.scale(-1.0)
        cqm.set_objective(negated)
    variables = tuple(cqm.variables)
    integral = [cqm.vartype(v) is not dimod.REAL for v in variables]
    report = CompileReport()
    report.add("to_cqm", negated_for_max=problem.sense == "max")
    return Compiled(TargetKind.CQM, cqm, variables, Inverter.identity(variables, integral), report)


def _milp(problem: Problem) -> Compiled[MatrixProgram]:
    compiled = to_matrix_program(problem)
    if compiled.kind is not TargetKind.MILP:
        raise CompileError("the problem is quadratic: it compiles to MIQP, not MILP")
    return compiled


_PASSES: dict[TargetKind, Callable[..., Compiled[Any]]] = {
    TargetKind.BQM: to_bqm,
    TargetKind.ISING: to_ising,
    TargetKind.CQM: lambda problem, **_: to_cqm(problem),
    TargetKind.MILP: lambda problem, **_: _milp(problem),
    TargetKind.MIQP: lambda problem, **_: to_matrix_program(problem),
}


def compile_for(problem: Problem, kind: TargetKind | str, **options: Any) -> Compiled[Any]:
    """Compile ``problem`` for a target ``kind``.

    Options reach the passes: ``encoding`` ("log"/"unary"), ``penalty_scale``, ``penalties``
    ({constraint: weight}) for binary targets. Raises :class:`CompileError` when the problem
    cannot be expressed in that kind (continuous variables in a BQM, quadratic constraints...).
    A MIQP request on a linear problem yields a MILP target (a MILP is a MIQP). The problem's
    reader warnings are copied into the report.
    """
    kind = TargetKind(kind)
    if problem.complete_for and kind.value not in problem.complete_for:
        note = problem.metadata.get("note") or "the model leaves some rules to its domain target"
        raise CompileError(
            f"{problem.name}: this model is complete only for the {', '.join(problem.complete_for)} "
            f"target ({note}); a {kind.value} answer could break those rules"
        )
    compiled = _compile_for(problem, kind, **options)
    for warning in problem.warnings:
        if warning not in compiled.report.warnings:
            compiled.report.warnings.append(warning)
    return compiled


def _compile_for(problem: Problem, kind: TargetKind, **options: Any) -> Compiled[Any]:
    if kind in _PASSES:
        binary_opts = {k: v for k, v in options.items() if k in ("encoding", "penalty_scale", "penalties")}
        if kind in (TargetKind.BQM, TargetKind.ISING):
            return _PASSES[kind](problem, **binary_opts)
        return _PASSES[kind](problem)
    spec = EXTERNAL_PASSES.get(kind.value)
    if spec is None:
        raise CompileError(f"no compile pass for target kind {kind.value!r}")
    module, func = spec.split(":")
    try:
        fn = getattr(import_module(module), func)
    except (ImportError, AttributeError) as exc:
        raise CompileError(f"the {kind.value} pass is not installed: {exc}") from exc
    result: Compiled[Any] = fn(problem, **options)
    return result
