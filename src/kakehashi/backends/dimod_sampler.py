"""Any BQM-accepting kakehashi backend as a :class:`dimod.Sampler`.

``KakehashiSampler("sa").sample(bqm, time_limit=1.0, seed=3, num_reads=100)`` compiles the BQM
(binary or spin, any labels) into the backend's BQM target, solves it and returns a
:class:`dimod.SampleSet` in the BQM's own vartype, with energies computed on the BQM given.
``time_limit`` (seconds) and ``seed`` are the backend contract's arguments; every other keyword
is a backend parameter, checked against its capabilities (unknown ones are rejected).
"""

from __future__ import annotations

from typing import Any

import dimod
import numpy as np
from dimod.core.sampler import Sampler

from kakehashi.backends.base import Backend
from kakehashi.backends.registry import get_backend
from kakehashi.compile.inverter import Inverter
from kakehashi.compile.targets import Compiled, TargetKind
from kakehashi.exceptions import BackendRejected


class KakehashiSampler(Sampler):  # type: ignore[misc]
    """A dimod sampler backed by the kakehashi backend ``backend`` (a name or a Backend).

    Args:
        backend: a registered backend name (``"sa"``, ``"exact"``...) or a Backend object.
        time_limit: default time limit in seconds for :meth:`sample` (None: the backend's own).
    """

    def __init__(self, backend: str | Backend, time_limit: float | None = None) -> None:
        self.backend: Backend = get_backend(backend) if isinstance(backend, str) else backend
        caps = self.backend.capabilities()
        if TargetKind.BQM not in caps.targets:
            raise BackendRejected(
                f"{self.backend.name}: does not accept BQM targets, so it is no dimod sampler"
            )
        self.time_limit = time_limit
        self._parameters: dict[str, list[str]] = {name: [] for name in caps.params}
        self._parameters.update(time_limit=[], seed=[], vendor=[])
        self._properties: dict[str, Any] = {"backend": self.backend.name, "capabilities": caps.to_dict()}

    @property
    def parameters(self) -> dict[str, list[str]]:
        return self._parameters

    @property
    def properties(self) -> dict[str, Any]:
        return self._properties

    def __repr__(self) -> str:
        return f"KakehashiSampler({self.backend.name!r})"

    def sample(self, bqm: dimod.BinaryQuadraticModel, **parameters: Any) -> dimod.SampleSet:
        """Solve ``bqm`` on the backend; the SampleSet has ``bqm``'s vartype and variables.

        Keyword arguments ``time_limit`` (seconds) and ``seed`` go to the backend contract; the
        rest are backend parameters. ``info`` holds the backend's termination and details.
        """
        time_limit = parameters.pop("time_limit", self.time_limit)
        seed = parameters.pop("seed", None)
        binary = bqm.change_vartype(dimod.BINARY, inplace=False) if bqm.vartype is dimod.SPIN else bqm
        variables = tuple(bqm.variables)
        compiled: Compiled[Any] = Compiled(
            kind=TargetKind.BQM,
            target=dimod.BinaryQuadraticModel(binary),
            variables=variables,
            inverter=Inverter.identity(list(variables)),
        )
        out = self.backend.solve(compiled, time_limit=time_limit, seed=seed, params=parameters)
        raw = np.atleast_2d(np.asarray(out.samples))
        samples = np.round(raw).astype(np.int8).reshape(raw.shape[0], len(variables))
        if bqm.vartype is dimod.SPIN:
            samples = 2 * samples - 1
        info = {"termination": out.termination.value, "solve_seconds": out.solve_seconds, **out.info}
        sampleset: dimod.SampleSet = dimod.SampleSet.from_samples_bqm(
            (samples, list(variables)),
            bqm,
            info=info,
            num_occurrences=out.num_occurrences,
        )
        return sampleset
