"""Decomposition: solve an Ising/BQM larger than a backend's limit by solving small subproblems on it.

A Kerberos-like loop (after dwave-hybrid's ``reference/kerberos.py``), on plain arrays:

1. start from a classical state (random spins polished by a classical sampler);
2. **select** a subproblem by energy impact: variables ranked by the energy change of flipping
   them alone (``ΔE_i = -2 s_i (h_i + Σ_j J_ij s_j)``, smallest first, i.e. the most frustrated),
   grown breadth-first through the coupling graph from the best-ranked seed not used recently,
   up to ``sub_size`` variables;
3. **solve** it on the sub-backend with the rest clamped (``h'_i = h_i + Σ_{j∉S} J_ij s_j``),
   looked up in the registry: any backend that accepts ISING or BQM targets, e.g. ``exact``,
   ``qaoa``, ``dwave-qpu``;
4. **merge** the subproblem's best state when it does not raise the energy, and **polish** the
   full state with a classical sampler (tabu, SA or steepest descent from dwave-samplers);
5. stop after ``iterations``, after ``convergence`` rounds without improvement, or at the time limit.

``info`` reports the number and sizes of the subproblems, how many improved the state, and the
energy after each round.

Time limit: the loop works to the deadline of :mod:`kakehashi.backends.budget`; subproblems and
polishes get the time left. dwave-samplers' tabu search sets up an n × n matrix on every call
(seconds at 5,000 variables), so when that set-up would eat more than a tenth of the budget the
polish falls back to steepest descent, said in ``info["polish_fallback"]``. Every improvement of
the full state is reported through :func:`kakehashi.backends.progress.report_incumbent`.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping
from typing import Any

import dimod
import numpy as np
import scipy.sparse as sp

from kakehashi.backends import budget, progress
from kakehashi.backends.base import (
    Availability,
    Backend,
    BackendOutput,
    Capabilities,
    HardwareKind,
    Param,
    Termination,
    check_params,
    check_target,
)
from kakehashi.compile.inverter import Inverter
from kakehashi.compile.ising import bqm_to_ising, ising_to_bqm
from kakehashi.compile.targets import Compiled, IsingModel, TargetKind
from kakehashi.exceptions import BackendError, BackendRejected

#: Subproblem size when neither ``sub_size`` nor the sub-backend's limit says otherwise.
DEFAULT_SUB_SIZE = 20
POLISHERS = ("tabu", "sa", "steepest", "none")

PARAMS: dict[str, Param] = {
    "sub_backend": Param(str, "exact", "registered backend that solves the subproblems"),
    "sub_size": Param(int, None, "variables per subproblem (default: min(20, the sub-backend's limit))"),
    "sub_params": Param(dict, None, "parameters passed to the sub-backend"),
    "sub_time_limit": Param((int, float), 5.0, "time limit per subproblem (seconds)"),
    "iterations": Param(int, 100, "maximum number of subproblems"),
    "convergence": Param(int, 10, "stop after this many rounds without improvement"),
    "polish": Param(str, "tabu", "classical sampler on the full state: 'tabu', 'sa', 'steepest' or 'none'"),
    "polish_ms": Param(int, 100, "tabu search time per polish (milliseconds)"),
}


def local_fields(ising: IsingModel, sym: sp.csr_matrix, s: np.ndarray) -> np.ndarray:
    """``h_i + Σ_j J_ij s_j`` for every spin (``sym`` = J + Jᵀ)."""
    return np.asarray(ising.h + sym @ s)


def select_subproblem(sym: sp.csr_matrix, fields: np.ndarray, s: np.ndarray, size: int,
                      recent: set[int]) -> list[int]:
    """Energy-impact selection: the most frustrated spin not used recently, grown breadth-first."""
    delta = -2.0 * s * fields  # energy change of flipping each spin alone
    order = np.argsort(delta, kind="stable")
    seed = next((int(i) for i in order if int(i) not in recent), int(order[0]))
    chosen: list[int] = [seed]
    taken = {seed}
    queue: deque[int] = deque([seed])
    while queue and len(chosen) < size:
        v = queue.popleft()
        row = sym.indices[sym.indptr[v] : sym.indptr[v + 1]]
        for u in sorted((int(u) for u in row if int(u) not in taken), key=lambda u: delta[u]):
            if len(chosen) >= size:
                break
            chosen.append(u)
            taken.add(u)
            queue.append(u)
    for i in order:  # a disconnected remainder: fill with the next most frustrated spins
        if len(chosen) >= size:
            break
        if int(i) not in taken:
            chosen.append(int(i))
            taken.add(int(i))
    return chosen


def clamp(ising: IsingModel, sym: sp.csr_matrix, s: np.ndarray, sub: list[int]) -> IsingModel:
    """The Ising model over ``sub`` with every other spin fixed at its value in ``s``."""
    idx = np.asarray(sub)
    mask = np.ones(s.size, dtype=bool)
    mask[idx] = False
    outside = np.where(mask, s, 0.0)
    h = ising.h[idx] + np.asarray(sym[idx] @ outside)
    J = sp.triu(ising.symmetric()[idx][:, idx], k=1).tocsr()
    return IsingModel(h=np.asarray(h, dtype=np.float64), J=J, offset=0.0)


class DecomposeBackend:
    """Kerberos-like decomposition over a small backend (``sub_backend``) plus classical polish."""

    name = "decompose"

    def __init__(self, sub_backend: Backend | None = None) -> None:
        #: A backend instance to use instead of the registry lookup (tests, notebooks).
        self.sub_backend_instance = sub_backend

    def capabilities(self) -> Capabilities:
        return Capabilities(
            targets=(TargetKind.ISING, TargetKind.BQM),
            hardware=HardwareKind.CPU,
            max_variables=None,
            proves_optimality=False,
            honours_time_limit=True,
            honours_seed=True,
            params=PARAMS,
        )

    def available(self) -> Availability:
        return Availability.yes()

    def _sub(self, name: str) -> Backend:
        if self.sub_backend_instance is not None:
            return self.sub_backend_instance
        from kakehashi.backends.registry import get_backend

        return get_backend(name)

    def solve(
        self,
        compiled: Compiled[Any],
        *,
        time_limit: float | None,
        seed: int | None,
        params: Mapping[str, Any],
    ) -> BackendOutput:
        caps = self.capabilities()
        check_target(self.name, caps, compiled)
        opts = check_params(self.name, caps, params)
        if opts["polish"] not in POLISHERS:
            raise BackendRejected(f"{self.name}: polish must be one of {', '.join(POLISHERS)}")
        plan = budget.start(time_limit, num_variables=compiled.num_variables)
        start = plan.started
        deadline = plan.deadline
        binary = compiled.kind is TargetKind.BQM
        ising: IsingModel = bqm_to_ising(compiled.target, compiled.variables) if binary else compiled.target
        n = ising.num_variables
        if n == 0:  # nothing to decompose: the empty assignment
            return BackendOutput(samples=np.zeros((1, 0)), termination=Termination.COMPLETED,
                                 solve_seconds=time.perf_counter() - start, energies=np.array([ising.offset]),
                                 info={"num_subproblems": 0, "subproblem_sizes": []})
        sub_backend = self._sub(str(opts["sub_backend"]))
        sub_caps = sub_backend.capabilities()
        if not (TargetKind.ISING in sub_caps.targets or TargetKind.BQM in sub_caps.targets):
            raise BackendRejected(f"{self.name}: sub-backend {sub_backend.name!r} accepts neither ISING nor BQM")
        avail = sub_backend.available()
        if not avail:
            from kakehashi.exceptions import BackendUnavailable

            raise BackendUnavailable(f"{self.name}: sub-backend {sub_backend.name!r}: {avail.reason}")
        limit = sub_caps.max_variables
        size = int(opts["sub_size"] or min(DEFAULT_SUB_SIZE, limit or DEFAULT_SUB_SIZE))
        if limit is not None and size > limit:
            raise BackendRejected(f"{self.name}: sub_size {size} exceeds {sub_backend.name}'s limit of {limit}")
        size = max(1, min(size, n))
        rng = np.random.default_rng(seed)
        sym = ising.symmetric()
        spin_bqm = ising_to_bqm(ising, range(n))
        method = str(opts["polish"])
        fallback = None
        if method == "tabu" and deadline is not None:
            from kakehashi.backends.annealing.dwave_samplers import tabu_setup_seconds

            setup = tabu_setup_seconds(n)
            if setup > 0.1 * max(0.0, deadline - start):
                method = "steepest"
                fallback = (f"tabu's set-up (about {setup:.2f} s per call for {n} variables) exceeds a "
                            "tenth of the time limit: steepest descent polishes instead")

        def polish(state: np.ndarray) -> np.ndarray:
            return self._polish(spin_bqm, state, method, int(opts["polish_ms"]),
                                int(rng.integers(2**31)), deadline)

        def report(state: np.ndarray, e: float) -> None:
            if progress.listening():
                progress.report_incumbent((state + 1.0) / 2.0 if binary else state.copy(), e)

        s = polish(rng.choice([-1.0, 1.0], size=n))
        energy = float(ising.energies(s)[0])
        report(s, energy)
        trace = [energy]
        sizes: list[int] = []
        improved = 0
        stale = 0
        recent: deque[int] = deque(maxlen=max(1, n // 2))
        timed_out = False
        for _ in range(int(opts["iterations"])):
            if deadline is not None and time.perf_counter() > deadline:
                timed_out = True
                break
            fields = local_fields(ising, sym, s)
            sub = select_subproblem(sym, fields, s, size, set(recent))
            recent.extend(sub)
            sizes.append(len(sub))
            sub_state = self._solve_sub(sub_backend, sub_caps, clamp(ising, sym, s, sub), opts, deadline, rng)
            candidate = s.copy()
            if sub_state is not None:
                candidate[np.asarray(sub)] = sub_state
            candidate = polish(candidate)
            e_new = float(ising.energies(candidate)[0])
            if e_new < energy - 1e-9:
                s, energy, stale = candidate, e_new, 0
                improved += 1
                report(s, energy)
            else:
                stale += 1
                if e_new <= energy:
                    s = candidate
            trace.append(energy)
            if stale >= int(opts["convergence"]) or size >= n:  # a subproblem of size n was the whole problem
                break
        samples = (s[None, :] + 1.0) / 2.0 if binary else s[None, :]
        info = {
            "sub_backend": sub_backend.name,
            "sub_size": size,
            "num_subproblems": len(sizes),
            "subproblem_sizes": sizes,
            "improving_subproblems": improved,
            "energy_trace": trace,
            "polish": method,
        }
        if fallback is not None:
            info["polish_fallback"] = fallback
        return BackendOutput(
            samples=samples,
            termination=Termination.TIME_LIMIT if timed_out else Termination.COMPLETED,
            solve_seconds=time.perf_counter() - start,
            energies=np.array([energy]),  # bqm_to_ising keeps energies exactly
            info=info,
        )

    @staticmethod
    def _solve_sub(backend: Backend, caps: Capabilities, sub: IsingModel, opts: Mapping[str, Any],
                   deadline: float | None, rng: np.random.Generator) -> np.ndarray | None:
        """The sub-backend's lowest-energy state of ``sub`` as spins, or None if it gave none."""
        k = sub.num_variables
        labels = tuple(range(k))
        tl = float(opts["sub_time_limit"])
        if deadline is not None:
            tl = max(0.01, min(tl, deadline - time.perf_counter()))
        compiled: Compiled[Any]
        if TargetKind.ISING in caps.targets:
            compiled = Compiled(TargetKind.ISING, sub, labels, Inverter.identity(labels))
        else:
            bqm = ising_to_bqm(sub, labels).change_vartype(dimod.BINARY, inplace=False)
            compiled = Compiled(TargetKind.BQM, bqm, labels, Inverter.identity(labels))
        try:
            out = backend.solve(compiled, time_limit=tl, seed=int(rng.integers(2**31)),
                                params=dict(opts["sub_params"] or {}))
        except BackendError:
            raise
        except Exception as exc:
            raise BackendError(f"decompose: sub-backend {backend.name!r} failed: {exc}") from exc
        if out.samples.size == 0:
            return None
        rows = np.asarray(out.samples, dtype=np.float64)
        spins = rows if compiled.kind is TargetKind.ISING else 2.0 * rows - 1.0
        return np.asarray(spins[int(np.argmin(sub.energies(spins)))])

    @staticmethod
    def _polish(bqm: dimod.BinaryQuadraticModel, state: np.ndarray, method: str, ms: int, seed: int,
                deadline: float | None) -> np.ndarray:
        if method == "none":
            return state
        from dwave.samplers import SimulatedAnnealingSampler, SteepestDescentSolver, TabuSampler

        init = dimod.SampleSet.from_samples((state[None, :].astype(np.int8), list(range(state.size))),
                                            dimod.SPIN, energy=[0.0])
        if method == "tabu":
            if deadline is not None:
                ms = max(1, min(ms, int(1000 * (deadline - time.perf_counter()))))
            ss = TabuSampler().sample(bqm, initial_states=init, timeout=ms, num_reads=1, seed=seed)
        elif method == "sa":
            ss = SimulatedAnnealingSampler().sample(bqm, initial_states=init, num_reads=1, seed=seed,
                                                    beta_range=[1.0, 10.0], initial_states_generator="none")
        else:
            ss = SteepestDescentSolver().sample(bqm, initial_states=init)
        best = ss.first.sample
        polished = np.array([best[i] for i in range(state.size)], dtype=np.float64)
        # a polisher may return a worse state (SA from a warm start): keep the better one
        e = bqm.energies((np.vstack([state, polished]), list(range(state.size))))
        return polished if e[1] <= e[0] else state
