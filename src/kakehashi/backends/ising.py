"""kakehashi's own Ising engine as backends: ``sb`` (simulated bifurcation) and ``anneal``.

Both accept an Ising target (``TargetKind.ISING``) or a BINARY BQM (``TargetKind.BQM``) and
return samples in ``compiled.variables`` order: spins ±1 for Ising targets, 0/1 for BQM targets,
with their exact energies, best first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from kakehashi.backends import budget, progress
from kakehashi.backends.base import (
    Availability,
    BackendOutput,
    Capabilities,
    HardwareKind,
    Param,
    Termination,
    check_params,
    check_target,
)
from kakehashi.compile.targets import Compiled, IsingModel, TargetKind
from kakehashi.exceptions import BackendRejected, BackendUnavailable
from kakehashi.ising.anneal import EngineResult
from kakehashi.ising.arrays import IsingArrays

_TARGETS = (TargetKind.ISING, TargetKind.BQM)


def _arrays(name: str, compiled: Compiled[Any]) -> IsingArrays:
    if compiled.kind == TargetKind.ISING:
        if not isinstance(compiled.target, IsingModel):
            raise BackendRejected(f"{name}: an Ising target must be an IsingModel")
        return IsingArrays.from_ising(compiled.target)
    return IsingArrays.from_bqm(compiled.target, tuple(compiled.variables))


def _reporter(compiled: Compiled[Any]) -> Any:
    """The engine's ``on_improve``: rows in the target's layout to :mod:`~kakehashi.backends.progress`."""
    if not progress.listening():
        return None
    binary = compiled.kind == TargetKind.BQM

    def report(spins: np.ndarray, energy: float) -> None:
        row = spins.astype(np.float64)
        progress.report_incumbent((row + 1.0) / 2.0 if binary else row, energy)

    return report


def _budget(time_limit: float | None, compiled: Compiled[Any], rows: int) -> budget.Budget:
    return budget.start(time_limit, num_variables=compiled.num_variables,
                        rows=min(rows, max(1, budget.MAX_ENTRIES // max(1, compiled.num_variables))))


def _output(compiled: Compiled[Any], result: EngineResult) -> BackendOutput:
    keep = budget.trim(result.spins, result.energies)  # engines return best first
    spins = result.spins[keep].astype(np.float64)
    samples = (spins + 1.0) / 2.0 if compiled.kind == TargetKind.BQM else spins
    termination = Termination.TIME_LIMIT if result.timed_out else Termination.COMPLETED
    info = dict(result.info)
    info["reached_target"] = result.reached_target
    info["time_to_target_s"] = result.time_to_target
    if len(keep) < len(result.energies):
        info["samples_dropped"] = int(len(result.energies) - len(keep))
    return BackendOutput(samples=samples, termination=termination, solve_seconds=result.seconds,
                         energies=result.energies[keep].copy(), info=info)


class AnnealBackend:
    """Numba simulated annealing under the default policy (:mod:`kakehashi.ising.policy`).

    With a time limit it uses the whole budget (growing restarts, the last one stretched to the
    deadline) unless it reaches ``target_energy``; every parameter overrides the policy.
    """

    name = "anneal"

    def capabilities(self) -> Capabilities:
        return Capabilities(
            targets=_TARGETS,
            hardware=HardwareKind.CPU,
            params={
                "num_replicas": Param((int, type(None)), None,
                                      "replicas per round, in parallel (None: one per usable core)"),
                "num_sweeps": Param((int, type(None)), None,
                                    "sweeps of every round (None: the policy's growing rounds)"),
                "beta_range": Param((tuple, list), None, "(hot, cold) inverse temperatures, 1/energy"),
                "target_energy": Param((int, float), None, "stop when a replica reaches this energy"),
                "restarts": Param(bool, True, "run rounds until the time limit (False: one round)"),
                "polish": Param(bool, True, "1-flip greedy descent on every returned state"),
            },
        )

    def available(self) -> Availability:
        return Availability.yes()

    def solve(self, compiled: Compiled[Any], *, time_limit: float | None, seed: int | None,
              params: Mapping[str, Any]) -> BackendOutput:
        from kakehashi.ising import policy

        caps = self.capabilities()
        check_target(self.name, caps, compiled)
        p = check_params(self.name, caps, params)
        replicas = p["num_replicas"] or policy.usable_cores()
        plan = _budget(time_limit, compiled, int(replicas))
        arrays = _arrays(self.name, compiled)
        beta = p["beta_range"]
        if beta is not None and (len(beta) != 2 or not 0 < float(beta[0]) <= float(beta[1])):
            raise BackendRejected(f"{self.name}: beta_range must be (hot, cold) with 0 < hot <= cold")
        if replicas < 1 or (p["num_sweeps"] is not None and p["num_sweeps"] < 1):
            raise BackendRejected(f"{self.name}: num_replicas and num_sweeps must be positive")
        result = policy.solve(
            arrays, replicas=int(replicas), sweeps=p["num_sweeps"],
            beta_range=None if beta is None else (float(beta[0]), float(beta[1])),
            seed=seed, deadline=_engine_deadline(plan, arrays), target=p["target_energy"],
            restarts=p["restarts"], polish=p["polish"], on_improve=_reporter(compiled),
        )
        return _output(compiled, result)


class SimulatedBifurcationBackend:
    """Simulated bifurcation (ballistic/discrete, optionally heated); numpy or torch (GPU).

    With a time limit, runs of ``num_steps`` (doubling) restart until the limit or the target.
    """

    name = "sb"

    def capabilities(self) -> Capabilities:
        return Capabilities(
            targets=_TARGETS,
            hardware=HardwareKind.CPU,
            params={
                "variant": Param(str, "discrete", "'ballistic' (bSB) or 'discrete' (dSB)"),
                "heated": Param(bool, False, "add the heating term (HbSB/HdSB)"),
                "num_agents": Param(int, 64, "agents (replicas) advanced by one matrix product per step"),
                "num_steps": Param(int, 1000, "time steps"),
                "dt": Param(float, None, "step size; default from the coupling spectrum"),
                "c0": Param(float, None, "coupling scale; default 0.5/(sqrt(n)·std(J))"),
                "target_energy": Param((int, float), None, "stop when an agent reaches this energy"),
                "patience": Param(int, 8, "stop after this many checks without improvement (None: never)"),
                "device": Param(str, "auto", "'auto' (torch+CUDA if present, else numpy), 'numpy', "
                                "'cpu' (torch on CPU) or 'cuda'"),
            },
        )

    def available(self) -> Availability:
        return Availability.yes()

    def solve(self, compiled: Compiled[Any], *, time_limit: float | None, seed: int | None,
              params: Mapping[str, Any]) -> BackendOutput:
        from kakehashi.ising.policy import solve_sb

        caps = self.capabilities()
        check_target(self.name, caps, compiled)
        p = check_params(self.name, caps, params)
        plan = _budget(time_limit, compiled, int(p["num_agents"]))
        arrays = _arrays(self.name, compiled)
        if p["num_agents"] < 1 or p["num_steps"] < 1:
            raise BackendRejected(f"{self.name}: num_agents and num_steps must be positive")
        ops = _ops(self.name, arrays, p["device"])
        result = solve_sb(
            arrays, variant=p["variant"], heated=p["heated"], num_agents=p["num_agents"],
            num_steps=p["num_steps"], dt=p["dt"], c0=p["c0"], seed=seed,
            deadline=_engine_deadline(plan, arrays), target=p["target_energy"], patience=p["patience"],
            ops=ops, on_improve=_reporter(compiled),
        )
        return _output(compiled, result)


#: Seconds per coupling-or-field entry per replica kept back for the final 1-flip polish.
_POLISH_PER_ENTRY = 2e-9


def _engine_deadline(plan: budget.Budget, arrays: IsingArrays) -> float | None:
    """The engine's stop instant: the budget's deadline less an estimate of the polish."""
    if plan.deadline is None:
        return None
    polish = float(_POLISH_PER_ENTRY * (arrays.Js.nnz + arrays.n) * 64)
    return float(plan.deadline - min(polish, 0.25 * max(0.0, plan.deadline - plan.started)))


def _cuda_device_present() -> bool:
    """Whether this machine shows an NVIDIA device node (cheap; importing torch is not: ~6 s)."""
    from pathlib import Path

    return Path("/dev/nvidiactl").exists() or any(Path("/dev").glob("nvidia[0-9]*"))


def _ops(name: str, arrays: IsingArrays, device: str) -> Any:
    from kakehashi.ising.ops import NumpyOps
    from kakehashi.ising.torch_kernels import TorchOps, torch_available

    if device == "numpy":
        return NumpyOps(arrays)
    if device == "auto":
        # torch is only worth its import time when it can reach a GPU.
        if _cuda_device_present() and torch_available():
            import torch

            if torch.cuda.is_available():
                return TorchOps(arrays, "cuda")
        return NumpyOps(arrays)
    if device not in ("cpu", "cuda"):
        raise BackendRejected(f"{name}: device must be 'auto', 'numpy', 'cpu' or 'cuda', got {device!r}")
    if not torch_available():
        raise BackendUnavailable(f"{name}: device {device!r} needs torch: pip install 'kakehashi[gpu]'")
    import torch

    if device == "cuda" and not torch.cuda.is_available():
        raise BackendUnavailable(f"{name}: no CUDA device visible to torch")
    return TorchOps(arrays, device)
