"""dwave-samplers heuristics on BQM targets: simulated annealing, tabu search, steepest descent.

``dwave.samplers`` is imported inside :meth:`solve` only, so that loading the entry point never
fails. Samples come back in ``compiled.variables`` column order with their energies and
occurrence counts (identical reads are aggregated).

Time limits: tabu search takes a per-read timeout natively. Simulated annealing and steepest
descent do not, so they run in batches of reads, each batch seeded from the run's seed by a
``numpy.random.SeedSequence``; between reads an interrupt checks the clock. Batch ``i`` holds
``min(16 · 2^i, 4096)`` reads (steepest descent, which has no interrupt: ``2^i``) whatever the
clock says, so a run that is not cut short by the time limit is a deterministic function of the
seed. The deadline comes from :mod:`kakehashi.backends.budget` (it keeps back the time the façade
needs to evaluate the samples returned). dwave-samplers' tabu search builds an n × n matrix
before it starts (about 0.2-0.3 µs · n²: 0.8 s at 2,000 variables, 15 s at 7,000), so a tabu run
whose set-up alone would overrun the time limit is refused with the estimate.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar

import numpy as np

from kakehashi.backends import budget, progress
from kakehashi.backends.base import (
    Availability,
    BackendOutput,
    Capabilities,
    HardwareKind,
    Param,
    Termination,
    binary_bqm,
    check_params,
    check_target,
)
from kakehashi.compile.targets import Compiled, TargetKind
from kakehashi.exceptions import BackendRejected

INSTALL_HINT = "pip install 'dwave-samplers>=1.4'"
#: Reads of the first batch; later batches double up to MAX_BATCH.
FIRST_BATCH = 16
MAX_BATCH = 4096
#: Reads when neither num_reads nor a time limit is given.
DEFAULT_READS = 16
#: Distinct samples returned at most (the lowest-energy ones); reads beyond are counted in info.
MAX_RETURNED = 1000
#: Fraction of the time left handed to tabu's native timeout; the rest covers aggregation.
TIME_SHARE = 0.9
#: dwave-samplers' tabu set-up cost per n² (seconds; measured 2.1e-7 at 2,000, 3.2e-7 at 7,000).
TABU_SETUP_PER_N2 = 3e-7


def tabu_setup_seconds(num_variables: int) -> float:
    """Estimated seconds dwave-samplers' tabu search spends before its first move."""
    return TABU_SETUP_PER_N2 * float(num_variables) ** 2


def batch_sizes(total: int | None, first: int = FIRST_BATCH) -> Iterator[int]:
    """Batch sizes 16, 32, 64, ... (capped at 4096) adding up to ``total`` (forever if None)."""
    done, size = 0, first
    while total is None or done < total:
        step = size if total is None else min(size, total - done)
        yield step
        done += step
        size = min(2 * size, MAX_BATCH)


def _all_biases_zero(bqm: Any) -> bool:
    """Whether a BQM has no non-zero linear or quadratic bias (a flat energy landscape)."""
    ldata, (_, _, qdata), _ = bqm.to_numpy_vectors()
    return not (np.any(ldata) or np.any(qdata))


class _Reporter:
    """Sends a batch's best sample to :mod:`~kakehashi.backends.progress` when it improves."""

    def __init__(self, variables: tuple[Any, ...]) -> None:
        self.variables = variables
        self.listening = progress.listening()
        self.best = float("inf")
        self.columns: list[int] | None = None

    def offer(self, sampleset: Any) -> None:
        if not self.listening or len(sampleset) == 0:
            return
        record = sampleset.record
        k = int(np.argmin(record.energy))
        energy = float(record.energy[k])
        if energy < self.best - 1e-9:
            self.best = energy
            if self.columns is None:
                self.columns = [sampleset.variables.index(v) for v in self.variables]
            progress.report_incumbent(np.asarray(record.sample[k][self.columns], dtype=np.float64), energy)


class _DwaveBackend:
    """Shared plumbing: target checks, sampleset → BackendOutput in ``compiled.variables`` order."""

    name = ""
    params: ClassVar[dict[str, Param]] = {}
    honours_seed = True

    def capabilities(self) -> Capabilities:
        return Capabilities(
            targets=(TargetKind.BQM,),
            hardware=HardwareKind.CPU,
            proves_optimality=False,
            honours_time_limit=True,
            honours_seed=self.honours_seed,
            params=self.params,
        )

    def available(self) -> Availability:
        return Availability.of_modules("dwave.samplers", hint=INSTALL_HINT)

    def solve(
        self,
        compiled: Compiled[Any],
        *,
        time_limit: float | None,
        seed: int | None,
        params: Mapping[str, Any],
    ) -> BackendOutput:
        """Sample the BQM target; ``time_limit`` in seconds, ``seed`` any int (None: fresh entropy)."""

        caps = self.capabilities()
        check_target(self.name, caps, compiled)
        opts = check_params(self.name, caps, params)
        if time_limit is not None and time_limit <= 0:
            raise BackendRejected(f"{self.name}: time_limit must be positive, got {time_limit}")
        plan = budget.start(time_limit, num_variables=compiled.num_variables,
                            rows=max(1, budget.MAX_ENTRIES // max(1, compiled.num_variables)))
        start = plan.started
        bqm = binary_bqm(self.name, compiled)
        if bqm.num_variables == 0:  # a valid model: its one (empty) assignment, energy = offset
            return BackendOutput(
                samples=np.zeros((1, 0)),
                termination=Termination.COMPLETED,
                solve_seconds=0.0,
                energies=np.array([float(bqm.offset)]),
                num_occurrences=np.ones(1, dtype=np.int64),
                info={"num_reads": 0, "distinct_samples_returned": 1},
            )
        reporter = _Reporter(tuple(compiled.variables))
        try:
            sampleset, reads, cut_short = self._sample(bqm, opts, plan.deadline, time_limit, seed, reporter)
        except (ValueError, TypeError) as exc:
            raise BackendRejected(f"{self.name}: dwave-samplers refused the parameters: {exc}") from exc
        record = sampleset.record
        columns = [sampleset.variables.index(v) for v in compiled.variables]
        order = np.argsort(record.energy, kind="stable")
        order = order[budget.trim(record.sample[order], record.energy[order])]
        samples = np.asarray(record.sample[order][:, columns], dtype=np.float64)
        return BackendOutput(
            samples=samples,
            termination=Termination.TIME_LIMIT if cut_short else Termination.COMPLETED,
            solve_seconds=time.perf_counter() - start,
            energies=np.asarray(record.energy[order], dtype=np.float64),
            num_occurrences=np.asarray(record.num_occurrences[order], dtype=np.int64),
            info={"num_reads": reads, "distinct_samples_returned": len(order),
                  "distinct_samples_found": len(record)},
        )

    def _sample(
        self,
        bqm: Any,
        opts: Mapping[str, Any],
        deadline: float | None,
        time_limit: float | None,
        seed: int | None,
        reporter: _Reporter,
    ) -> tuple[Any, int, bool]:
        """Return (aggregated SampleSet, reads taken, whether the clock cut the reads short)."""
        raise NotImplementedError

    @staticmethod
    def _batched(
        run: Callable[[int, int, Callable[[], bool] | None], Any],
        num_reads: int | None,
        deadline: float | None,
        seed: int | None,
        reporter: _Reporter,
        first: int = FIRST_BATCH,
        interruptible: bool = True,
    ) -> tuple[Any, int, bool]:
        """Run batches of reads until ``num_reads`` are done or the deadline passes (one read at least).

        ``run(reads, batch_seed, interrupt)`` samples one batch. Without a deadline, ``num_reads``
        (default :data:`DEFAULT_READS`) reads are taken; with one and no ``num_reads``, batches
        continue until the time is spent. Identical samples are aggregated after each batch and
        only the :data:`MAX_RETURNED` lowest-energy distinct samples are kept.
        """
        import dimod

        if num_reads is not None and num_reads < 1:
            raise BackendRejected(f"num_reads must be at least 1, got {num_reads}")
        total = num_reads if (num_reads is not None or deadline is not None) else DEFAULT_READS
        seeds = np.random.SeedSequence(seed)

        # dwave-samplers calls the interrupt after every read: the gaps between calls are read
        # times, and a run stops when the next read would end past the deadline.
        clock = {"last": time.perf_counter(), "longest": 0.0}

        def interrupt() -> bool:
            if deadline is None:
                return False
            now = time.perf_counter()
            clock["longest"] = max(clock["longest"], now - clock["last"])
            clock["last"] = now
            return now + clock["longest"] >= deadline

        kept: Any = None
        done = 0
        batch_seconds = 0.0  # wall time of the whole (uninterruptible) batches so far
        for reads in batch_sizes(total, first):
            if kept is not None and deadline is not None:
                left = deadline - time.perf_counter()
                if interruptible:  # it stops after any read: one more read must fit
                    if left <= clock["longest"]:
                        break
                else:  # it runs whole: as many reads as fit at the mean read time so far (a
                    # single slow read, a GC pause say, must not end the run early)
                    per_read = batch_seconds / max(1, done)
                    fit = int(left / per_read) if per_read > 0 else reads
                    if fit < 1:
                        break
                    reads = min(reads, fit)
            batch_seed = int(seeds.spawn(1)[0].generate_state(1)[0]) >> 1  # SA wants seeds below 2^31
            began = clock["last"] = time.perf_counter()
            ss = run(reads, batch_seed, interrupt if deadline is not None else None)
            if not interruptible:
                batch_seconds += time.perf_counter() - began
            done += len(ss)
            reporter.offer(ss)
            merged = ss if kept is None else dimod.concatenate((kept, ss))
            kept = merged.aggregate().truncate(MAX_RETURNED, sorted_by="energy")
        cut_short = total is not None and done < total
        return kept, done, cut_short


class SimulatedAnnealingBackend(_DwaveBackend):
    """Simulated annealing (dwave-samplers); with a time limit it keeps annealing until it is spent."""

    name = "sa"
    params: ClassVar[dict[str, Param]] = {
        "num_reads": Param(
            (int, type(None)),
            None,
            "reads to take (None: as many as the time limit allows, or 16 without a time limit)",
        ),
        "num_sweeps": Param((int, type(None)), None, "sweeps per read (None: dwave-samplers' default, 1000)"),
        "beta_range": Param(
            (list, tuple, type(None)), None, "[hot, cold] inverse temperatures (None: from the BQM)"
        ),
        "beta_schedule_type": Param(str, "geometric", "'linear', 'geometric' or 'custom'"),
        "num_sweeps_per_beta": Param(int, 1, "sweeps at each inverse temperature"),
    }

    def _sample(
        self,
        bqm: Any,
        opts: Mapping[str, Any],
        deadline: float | None,
        time_limit: float | None,
        seed: int | None,
        reporter: _Reporter,
    ) -> tuple[Any, int, bool]:
        from dwave.samplers import SimulatedAnnealingSampler

        sampler = SimulatedAnnealingSampler()
        kwargs: dict[str, Any] = {
            "beta_schedule_type": opts["beta_schedule_type"],
            "num_sweeps_per_beta": opts["num_sweeps_per_beta"],
            **opts.get("vendor", {}),
        }
        if opts["num_sweeps"] is not None:
            kwargs["num_sweeps"] = opts["num_sweeps"]
        if opts["beta_range"] is not None:
            kwargs["beta_range"] = list(opts["beta_range"])
        elif _all_biases_zero(bqm):
            # Every state has the same energy; dwave-samplers would warn and pick this range itself.
            kwargs["beta_range"] = [0.1, 1.0]

        def run(reads: int, batch_seed: int, interrupt: Callable[[], bool] | None) -> Any:
            return sampler.sample(
                bqm, num_reads=reads, seed=batch_seed, interrupt_function=interrupt, **kwargs
            )

        return self._batched(run, opts["num_reads"], deadline, seed, reporter)


class SteepestDescentBackend(_DwaveBackend):
    """Steepest descent from random states (dwave-samplers); fast local minima."""

    name = "steepest"
    params: ClassVar[dict[str, Param]] = {
        "num_reads": Param(int, 16, "random starting states, each descended to a local minimum"),
    }

    def _sample(
        self,
        bqm: Any,
        opts: Mapping[str, Any],
        deadline: float | None,
        time_limit: float | None,
        seed: int | None,
        reporter: _Reporter,
    ) -> tuple[Any, int, bool]:
        from dwave.samplers import SteepestDescentSolver

        solver = SteepestDescentSolver()
        vendor = dict(opts.get("vendor", {}))

        def run(reads: int, batch_seed: int, interrupt: Callable[[], bool] | None) -> Any:
            return solver.sample(bqm, num_reads=reads, seed=batch_seed, **vendor)

        # No interrupt inside a read: small batches first, so the clock is checked often.
        return self._batched(run, int(opts["num_reads"]), deadline, seed, reporter,
                             first=1 if deadline is not None else FIRST_BATCH, interruptible=False)


class TabuBackend(_DwaveBackend):
    """Tabu search (dwave-samplers); the time limit is shared out as a per-read timeout.

    Tabu search stops on the clock, so two runs with the same seed may differ on hard
    instances: it does not promise reproducible samples.
    """

    name = "tabu"
    honours_seed = False
    params: ClassVar[dict[str, Param]] = {
        "num_reads": Param(int, 1, "independent tabu searches, run one after another"),
        "tenure": Param((int, type(None)), None, "tabu tenure (None: min(20, variables / 4))"),
        "timeout": Param(
            (int, type(None)),
            None,
            "per-read time in milliseconds (None: the time limit shared between reads, or 20 ms)",
        ),
    }

    def _sample(
        self,
        bqm: Any,
        opts: Mapping[str, Any],
        deadline: float | None,
        time_limit: float | None,
        seed: int | None,
        reporter: _Reporter,
    ) -> tuple[Any, int, bool]:
        from dwave.samplers import TabuSampler

        num_reads = int(opts["num_reads"])
        if num_reads < 1:
            raise BackendRejected(f"{self.name}: num_reads must be at least 1")
        timeout = opts["timeout"]
        setup = tabu_setup_seconds(bqm.num_variables)
        if deadline is not None:
            left = deadline - time.perf_counter()
            if time_limit is not None and setup > left + budget.slack(time_limit):
                raise BackendRejected(
                    f"{self.name}: dwave-samplers' tabu search needs about {setup:.1f} s to set up "
                    f"{bqm.num_variables} variables, more than the time limit of {time_limit:.2f} s; "
                    "use sa, anneal or sb, or a larger time limit")
            per_read = max(1, int(1000 * TIME_SHARE * (left - setup) / num_reads) - 5)
            timeout = per_read if timeout is None else min(int(timeout), per_read)
        elif timeout is None:
            timeout = 20
        kwargs: dict[str, Any] = {"timeout": int(timeout), **opts.get("vendor", {})}
        if opts["tenure"] is not None:
            kwargs["tenure"] = opts["tenure"]
        batch_seed = int(np.random.SeedSequence(seed).generate_state(1)[0]) >> 1
        if bqm.num_variables == 0:
            import dimod

            ss = dimod.SampleSet.from_samples_bqm((np.zeros((num_reads, 0)), []), bqm)
        else:
            ss = TabuSampler().sample(bqm, num_reads=num_reads, seed=batch_seed, **kwargs)
            reporter.offer(ss)
        return ss.aggregate().truncate(MAX_RETURNED, sorted_by="energy"), num_reads, False
