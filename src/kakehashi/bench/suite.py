"""Benchmark suites as data: a TOML file naming instances by content hash, and the protocol.

A suite file has three tables (the full schema is in ``docs/benchmarking.md``)::

    [suite]      name, description, problem_class, sense ("min"/"max")
    [protocol]   budgets (seconds per run), seeds, stop rule, epsilon, default backends
    [tuning]     policy, the declared training instances, parameters per backend and,
                 only where a policy allows it, parameters per instance
    [[instance]] id, path (under the data directory), sha256, format (gset, lp, qs,
                 tsplib for TSPLIB .tsp / CVRPLIB .vrp files, or one of the application
                 formats of :mod:`kakehashi.bench.appcases`), source,
                 best_known, best_known_source, best_known_proven

An instance is identified by the SHA-256 of its file: :func:`load_problem` refuses a file whose
hash differs from the suite's, so two results computed on "G27" are computed on the same bytes.
A run that used instance-specific parameters is marked ``instance_specific`` in every output.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from kakehashi.datasets.location import data_dir
from kakehashi.datasets.registry import sha256_of
from kakehashi.exceptions import ModelError
from kakehashi.model.problem import Problem

#: Instance file formats a suite may name.
FORMATS = ("gset", "lp", "qs", "tsplib", "orlib-portfolio", "unit-commitment", "molecule")
#: Stop rules the runner implements: each run stops at its time budget.
STOP_RULES = ("time_limit",)


@dataclass(frozen=True)
class Instance:
    """One instance of a suite; ``best_known`` is in the problem's own sense."""

    id: str
    path: str
    sha256: str
    format: str
    source: str
    best_known: float | None = None
    best_known_source: str = ""
    best_known_proven: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Protocol:
    """How runs are made: budgets (seconds), seeds, stop rule and success threshold ε."""

    budgets: tuple[float, ...] = (1.0,)
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    stop: str = "time_limit"
    epsilon: float = 0.0
    backends: tuple[str, ...] = ("auto",)


@dataclass(frozen=True)
class Tuning:
    """Tuning policy: ``defaults`` (no tuning) or ``train`` (parameters fixed on ``training``).

    ``params`` apply to every instance (``{backend: {param: value}}``); ``instance_params``
    (``{instance: {backend: {...}}}``) are instance-specific and mark the runs using them.
    """

    policy: str = "defaults"
    training: tuple[str, ...] = ()
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    instance_params: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    def params_for(self, instance: str, backend: str) -> tuple[dict[str, Any], bool]:
        """Parameters for ``backend`` on ``instance`` and whether they are instance-specific."""
        specific = self.instance_params.get(instance, {}).get(backend)
        if specific is not None:
            return {**self.params.get(backend, {}), **specific}, True
        return dict(self.params.get(backend, {})), False


@dataclass(frozen=True)
class Suite:
    """A parsed suite file."""

    name: str
    description: str
    problem_class: str
    sense: str
    protocol: Protocol
    tuning: Tuning
    instances: tuple[Instance, ...]
    path: str = ""

    def instance(self, ident: str) -> Instance:
        for inst in self.instances:
            if inst.id == ident:
                return inst
        raise ModelError(f"suite {self.name!r} has no instance {ident!r}; it has "
                         f"{', '.join(i.id for i in self.instances)}", field="instances")

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible form (stored in every result file)."""
        return {
            "name": self.name,
            "description": self.description,
            "problem_class": self.problem_class,
            "sense": self.sense,
            "path": self.path,
            "protocol": {
                "budgets": list(self.protocol.budgets),
                "seeds": list(self.protocol.seeds),
                "stop": self.protocol.stop,
                "epsilon": self.protocol.epsilon,
                "backends": list(self.protocol.backends),
            },
            "tuning": {
                "policy": self.tuning.policy,
                "training": list(self.tuning.training),
                "params": self.tuning.params,
                "instance_params": self.tuning.instance_params,
            },
            "instances": [
                {
                    "id": i.id, "path": i.path, "sha256": i.sha256, "format": i.format,
                    "source": i.source, "best_known": i.best_known,
                    "best_known_source": i.best_known_source,
                    "best_known_proven": i.best_known_proven, **({"extra": i.extra} if i.extra else {}),
                }
                for i in self.instances
            ],
        }


def instance_from_dict(d: dict[str, Any]) -> Instance:
    """The :class:`Instance` of one entry of :meth:`Suite.to_dict` (as stored in result files)."""
    return Instance(id=d["id"], path=d["path"], sha256=d["sha256"], format=d["format"], source=d["source"],
                    best_known=d.get("best_known"), best_known_source=d.get("best_known_source", ""),
                    best_known_proven=bool(d.get("best_known_proven", False)), extra=dict(d.get("extra", {})))


def builtin_suites() -> list[str]:
    """Names of the suites shipped with kakehashi."""
    folder = resources.files("kakehashi.bench") / "suites"
    return sorted(p.name[: -len(".toml")] for p in folder.iterdir() if p.name.endswith(".toml"))


def _expect(table: dict[str, Any], key: str, kind: type | tuple[type, ...], source: str) -> Any:
    if key not in table:
        raise ModelError(f"missing required key {key!r}", source=source, field=key)
    value = table[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ModelError(f"{key!r}: expected {kind}, got {type(value).__name__}", source=source, field=key)
    return value


def parse_suite(text: str, *, source: str = "<suite>") -> Suite:
    """Parse suite TOML; every mistake is a :class:`ModelError` naming the file and the key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ModelError(f"invalid TOML: {exc}", source=source) from exc
    head = data.get("suite")
    if not isinstance(head, dict):
        raise ModelError("missing the [suite] table", source=source)
    sense = head.get("sense", "min")
    if sense not in ("min", "max"):
        raise ModelError(f"sense: expected 'min' or 'max', got {sense!r}", source=source, field="sense")
    proto = data.get("protocol", {})
    budgets = tuple(float(b) for b in proto.get("budgets", [1.0]))
    if not budgets or any(b <= 0 for b in budgets):
        raise ModelError("budgets: expected positive seconds", source=source, field="budgets")
    stop = proto.get("stop", "time_limit")
    if stop not in STOP_RULES:
        raise ModelError(f"stop: expected one of {STOP_RULES}, got {stop!r}", source=source, field="stop")
    epsilon = float(proto.get("epsilon", 0.0))
    if not 0.0 <= epsilon < 1.0:
        raise ModelError("epsilon: expected 0 <= epsilon < 1", source=source, field="epsilon")
    protocol = Protocol(
        budgets=budgets,
        seeds=tuple(int(s) for s in proto.get("seeds", [0, 1, 2, 3, 4])),
        stop=stop,
        epsilon=epsilon,
        backends=tuple(str(b) for b in proto.get("backends", ["auto"])),
    )
    tun = data.get("tuning", {})
    policy = tun.get("policy", "defaults")
    if policy not in ("defaults", "train"):
        raise ModelError(f"tuning.policy: expected 'defaults' or 'train', got {policy!r}",
                         source=source, field="policy")
    tuning = Tuning(
        policy=policy,
        training=tuple(str(t) for t in tun.get("training", [])),
        params={str(k): dict(v) for k, v in tun.get("params", {}).items()},
        instance_params={str(k): {str(b): dict(p) for b, p in v.items()}
                         for k, v in tun.get("instance_params", {}).items()},
    )
    if policy == "train" and not tuning.training:
        raise ModelError("tuning.policy 'train' needs the declared training instances",
                         source=source, field="training")
    instances = []
    seen: set[str] = set()
    for k, row in enumerate(data.get("instance", []), start=1):
        where = f"{source} [[instance]] #{k}"
        ident = _expect(row, "id", str, where)
        if ident in seen:
            raise ModelError(f"duplicate instance id {ident!r}", source=source, field="id")
        seen.add(ident)
        fmt = _expect(row, "format", str, where)
        if fmt not in FORMATS:
            raise ModelError(f"format: expected one of {FORMATS}, got {fmt!r}", source=where, field="format")
        best = row.get("best_known")
        instances.append(Instance(
            id=ident,
            path=_expect(row, "path", str, where),
            sha256=_expect(row, "sha256", str, where).lower(),
            format=fmt,
            source=_expect(row, "source", str, where),
            best_known=None if best is None else float(best),
            best_known_source=str(row.get("best_known_source", "")),
            best_known_proven=bool(row.get("best_known_proven", False)),
            extra=dict(row.get("extra", {})),
        ))
    if not instances:
        raise ModelError("a suite needs at least one [[instance]]", source=source)
    overlap = set(tuning.training) & seen
    if overlap and policy == "train":
        raise ModelError(f"training instances also in the suite: {sorted(overlap)}", source=source,
                         field="training")
    return Suite(
        name=_expect(head, "name", str, source),
        description=str(head.get("description", "")),
        problem_class=str(head.get("problem_class", "")),
        sense=sense,
        protocol=protocol,
        tuning=tuning,
        instances=tuple(instances),
        path=source,
    )


def load_suite(name_or_path: str | Path) -> Suite:
    """A built-in suite by name (``maxcut-gset-test``) or a suite file by path."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.is_file():
        if not path.is_file():
            raise ModelError("suite file not found", source=str(path))
        return parse_suite(path.read_text(encoding="utf-8"), source=str(path))
    name = str(name_or_path)
    if name not in builtin_suites():
        raise ModelError(f"unknown suite {name!r}; built-in suites: {', '.join(builtin_suites())} "
                         "(or give a path to a .toml file)", field="suite")
    text = (resources.files("kakehashi.bench") / "suites" / f"{name}.toml").read_text(encoding="utf-8")
    return parse_suite(text, source=f"kakehashi:bench/suites/{name}.toml")


def instance_path(inst: Instance, *, root: Path | None = None) -> Path:
    """The file of ``inst`` under the data directory; ModelError with a hint when missing."""
    base = root if root is not None else data_dir()
    path = base / inst.path
    if not path.is_file():
        raise ModelError(f"instance {inst.id} not found (looked in {base}); set KAKEHASHI_DATA_DIR "
                         f"or run 'kakehashi datasets download {inst.path.split('/')[0]}'", source=str(path))
    return path


def load_problem(inst: Instance, *, root: Path | None = None, verify: bool = True) -> Problem:
    """Read ``inst`` into a :class:`Problem` after checking its SHA-256 against the suite.

    ``known_optimum`` is set from the suite's best-known value, so results carry their gap.
    """
    path = instance_path(inst, root=root)
    if verify:
        actual = sha256_of(path)
        if actual != inst.sha256:
            raise ModelError(f"instance {inst.id}: sha256 {actual[:12]}… differs from the suite's "
                             f"{inst.sha256[:12]}… (a different file under the same name)", source=str(path))
    if inst.format == "gset":
        from kakehashi.model.readers import gset

        problem = gset.read(path)
    elif inst.format == "qs":
        from kakehashi.bench import qs

        problem = qs.read(path, name=inst.id)
    elif inst.format == "tsplib":
        from kakehashi.apps.routing.formulation import to_problem
        from kakehashi.apps.routing.reader import read_routing

        problem = to_problem(read_routing(path))
    else:
        from kakehashi.bench.qs import open_text
        from kakehashi.model.readers import reads

        problem = reads(open_text(path), format="lp", source=str(path), name=inst.id)
    problem.name = inst.id
    problem.known_optimum = inst.best_known
    problem.metadata["sha256"] = inst.sha256
    return problem
