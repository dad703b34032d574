"""Peer sites: other kakehashi services whose machines this site offers as machines of its own pool.

A peer is registered by the admin (``kakehashi admin peer add``, table ``peers``) or declared in
the pool file (``[[peers]]``, :class:`~kakehashi.pool.config.PeerSpec`; the admin's record wins
for the same name). Each of its *offers* (:class:`~kakehashi.pool.config.PeerOffer`: some of the
peer's backends, a kind, slots, the local price and the agreed price) becomes one machine of the
local pool with ``Machine.peer`` set, named ``<peer>-<kind>`` unless the offer names it. The
scheduler places jobs on it as on any machine (cheapest usable first), except jobs whose project
keeps its data on this site and races of several legs (:meth:`JobRequest.may_use`).

Live state: :func:`refresh` reads each peer's ``GET /v1/pool`` with the peer token (at most every
``max_age`` seconds, timeout :data:`PROBE_TIMEOUT_SECONDS`) and stores what it saw in
``peer_states``. A peer not reachable (refused, timeout, 5xx, a body that is not its pool) is
*down* for the scheduler, as a machine the admin marked down, until a probe reaches it again; so
is an offer none of whose machines is up at the peer.

Tokens are never in clear in the database or the logs: ``token_env`` names an environment
variable of this service, or ``token_cipher`` holds the token encrypted with ``peer_key``
(:mod:`kakehashi.service.peer_secrets`).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kakehashi.exceptions import AuthError, JobError, ModelError
from kakehashi.pool.config import Machine, PeerOffer, PoolConfig
from kakehashi.service import peer_secrets
from kakehashi.service.store.db import Database
from kakehashi.service.store.models import Peer, PeerState

#: Seconds one probe of a peer's ``/v1/pool`` may take.
PROBE_TIMEOUT_SECONDS = 2.0

_OFFERS = TypeAdapter(tuple[PeerOffer, ...])
_WITH_PEERS: dict[tuple[int, tuple[str, ...]], tuple[PoolConfig, PoolConfig]] = {}


class PeerNotFoundError(JobError):
    """No peer of this name (admin commands: exit code 8)."""


@dataclass(frozen=True)
class PeerRecord:
    """A peer site as this site knows it (from the database or the pool file)."""

    name: str
    url: str
    offers: tuple[PeerOffer, ...]
    token_env: str | None = None
    token_cipher: str | None = None
    source: str = "admin"

    def token(self, peer_key: str | None) -> str:
        """The bearer token for the peer; :class:`AuthError` naming what is missing."""
        if self.token_env:
            value = os.environ.get(self.token_env, "")
            if not value:
                raise AuthError(f"peer {self.name}: environment variable {self.token_env} is not set")
            return value
        if self.token_cipher:
            return peer_secrets.decrypt(self.token_cipher, peer_key)
        raise AuthError(f"peer {self.name} has no token")

    def machines(self) -> tuple[Machine, ...]:
        """One local machine per offer, marked with this peer."""
        return tuple(
            Machine(
                name=o.machine_name(self.name),
                kind=o.kind,
                slots=o.slots,
                backends=o.backends,
                price_yen_per_second=o.price_yen_per_second,
                peer=self.name,
            )
            for o in self.offers
        )

    def offer_of(self, machine: str) -> PeerOffer | None:
        return next((o for o in self.offers if o.machine_name(self.name) == machine), None)

    def describe(self) -> dict[str, Any]:
        """What the admin sees (never the token)."""
        return {
            "name": self.name,
            "url": self.url,
            "source": self.source,
            "token": f"env {self.token_env}" if self.token_env else "encrypted" if self.token_cipher else "none",
            "offers": [o.model_dump(mode="json") for o in self.offers],
        }


def parse_offers(data: Any, source: str = "offers") -> tuple[PeerOffer, ...]:
    """Validate offers (a list of mappings); :class:`ModelError` naming the field."""
    try:
        offers = _OFFERS.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in first["loc"]).replace(".[", "[")
        raise ModelError(first["msg"], source=source, field=f"offers{where if where.startswith('[') else '.' + where}") from exc
    if not offers:
        raise ModelError("a peer needs at least one offer", source=source, field="offers")
    return offers


def _record(row: Peer) -> PeerRecord:
    return PeerRecord(
        name=row.name,
        url=row.url,
        offers=parse_offers(json.loads(row.offers_json), f"peer {row.name}"),
        token_env=row.token_env,
        token_cipher=row.token_cipher,
    )


def records(s: Session, base: PoolConfig) -> list[PeerRecord]:
    """Every peer: the admin's records, then the pool file's peers of other names."""
    out = {row.name: _record(row) for row in s.scalars(select(Peer).order_by(Peer.name))}
    for spec in base.peers:
        out.setdefault(
            spec.name,
            PeerRecord(spec.name, spec.url, spec.offers, token_env=spec.token_env, source="pool file"),
        )
    return list(out.values())


def with_peers(base: PoolConfig, peers: Sequence[PeerRecord]) -> PoolConfig:
    """``base`` with one machine per peer offer appended (cached per base and peers)."""
    if not peers:
        return base
    key = (id(base), tuple(json.dumps(p.describe(), sort_keys=True) for p in peers))
    hit = _WITH_PEERS.get(key)
    if hit is not None and hit[0] is base:
        return hit[1]
    if len(_WITH_PEERS) > 64:
        _WITH_PEERS.clear()
    own = {m.name for m in base.machines}
    extra = [m for p in peers for m in p.machines() if m.name not in own]
    cfg = base.model_copy(update={"machines": (*base.machines, *extra)})
    _WITH_PEERS[key] = (base, cfg)
    return cfg


def add_peer(
    db: Database,
    name: str,
    url: str,
    offers: Iterable[PeerOffer],
    *,
    token_env: str | None = None,
    token: str | None = None,
    peer_key: str | None = None,
) -> PeerRecord:
    """Register (or replace) peer ``name`` at ``url``; the token by ``token_env`` or encrypted."""
    from kakehashi.pool.config import PeerSpec

    offers = tuple(offers)
    if (token_env is None) == (token is None):
        raise ModelError("give the peer's token either by --token-env VAR or encrypted (--token-stdin)", field="token")
    try:  # the same rules as a pool file's [[peers]] entry
        PeerSpec(name=name, url=url, token_env=token_env or "X", offers=offers)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ModelError(first["msg"], field=".".join(str(p) for p in first["loc"])) from exc
    cipher = peer_secrets.encrypt(token, peer_key) if token is not None else None
    now = time.time()
    with db.write() as s:
        s.merge(
            Peer(
                name=name,
                url=url.rstrip("/"),
                token_env=token_env,
                token_cipher=cipher,
                offers_json=json.dumps([o.model_dump(mode="json") for o in offers]),
                created_at=now,
                updated_at=now,
            )
        )
        s.execute(delete(PeerState).where(PeerState.name == name))
    return PeerRecord(name, url.rstrip("/"), offers, token_env, cipher)


def remove_peer(db: Database, name: str) -> None:
    with db.write() as s:
        done = s.execute(delete(Peer).where(Peer.name == name))
        s.execute(delete(PeerState).where(PeerState.name == name))
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise PeerNotFoundError(f"no peer {name!r} registered by the admin")


def find(peers: Sequence[PeerRecord], name: str) -> PeerRecord:
    for p in peers:
        if p.name == name:
            return p
    raise PeerNotFoundError(f"no peer {name!r}; peers: {', '.join(p.name for p in peers) or 'none'}")


# ------------------------------------------------------------------------- live state
def _matching(remote: dict[str, Any], offer: PeerOffer) -> list[dict[str, Any]]:
    """The peer's machines (from its ``/v1/pool``) that run one of the offer's backends."""
    wanted = set(offer.backends)
    return [
        m
        for m in remote.get("machines", [])
        if isinstance(m, dict) and wanted & set(m.get("backends") or ())
    ]


def remote_view(peer: PeerRecord, offer: PeerOffer, state: PeerState | None) -> dict[str, Any]:
    """The live state of one offer as ``GET /v1/pool`` shows it (under ``remote``)."""
    if state is None:
        return {"peer": peer.name, "url": peer.url, "reachable": None, "checked_at": None, "machines": []}
    remote = json.loads(state.remote_json or "{}")
    return {
        "peer": peer.name,
        "url": peer.url,
        "reachable": state.reachable,
        "error": state.error or None,
        "checked_at": state.checked_at,
        "machines": [
            {k: m.get(k) for k in ("name", "kind", "state", "slots", "busy", "free", "queued")}
            for m in _matching(remote, offer)
        ],
    }


def states(s: Session) -> dict[str, PeerState]:
    return {st.name: st for st in s.scalars(select(PeerState))}


def down_machines(s: Session, config: PoolConfig, peers: Sequence[PeerRecord]) -> dict[str, str]:
    """Peer machines the scheduler must treat as down, with the reason."""
    if not peers:
        return {}
    seen = states(s)
    out: dict[str, str] = {}
    for peer in peers:
        st = seen.get(peer.name)
        if st is None:
            continue  # never probed yet: placed, and a failure to reach it marks it down
        for offer in peer.offers:
            name = offer.machine_name(peer.name)
            if not st.reachable:
                out[name] = f"peer {peer.name} unreachable: {st.error}"
                continue
            remote = _matching(json.loads(st.remote_json or "{}"), offer)
            if not any(m.get("state") == "up" for m in remote):
                out[name] = f"no machine up at peer {peer.name} for {', '.join(offer.backends)}"
    return out


def set_state(db: Database, name: str, reachable: bool, error: str = "", remote: dict[str, Any] | None = None) -> None:
    """Record what this site saw of peer ``name`` now (the last remote pool is kept when unreachable)."""
    now = time.time()
    with db.write() as s:
        row = s.get(PeerState, name)
        if row is None:
            s.add(
                PeerState(
                    name=name,
                    reachable=reachable,
                    error=error[:500],
                    remote_json=json.dumps(remote or {}),
                    checked_at=now,
                )
            )
            return
        row.reachable = reachable
        row.error = error[:500]
        row.checked_at = now
        if remote is not None:
            row.remote_json = json.dumps(remote)


def probe(peer: PeerRecord, token: str, timeout: float = PROBE_TIMEOUT_SECONDS) -> dict[str, Any]:
    """The peer's ``GET /v1/pool``; :class:`PeerUnreachable` when it cannot be had."""
    try:
        r = httpx.get(peer.url + "/v1/pool", headers={"Authorization": f"Bearer {token}"}, timeout=timeout)
    except httpx.HTTPError as exc:
        raise PeerUnreachable(f"{type(exc).__name__}: {exc}") from exc
    if r.status_code != 200:
        raise PeerUnreachable(f"GET /v1/pool answered {r.status_code}")
    try:
        body = r.json()
    except ValueError as exc:
        raise PeerUnreachable("GET /v1/pool did not answer JSON") from exc
    if not isinstance(body, dict) or not isinstance(body.get("machines"), list):
        raise PeerUnreachable("GET /v1/pool did not answer a pool")
    return body


class PeerUnreachable(Exception):
    """The peer could not be reached or did not answer as a kakehashi service does."""


def refresh(db: Database, peers: Sequence[PeerRecord], peer_key: str | None, *, max_age: float) -> None:
    """Probe every peer last checked more than ``max_age`` seconds ago and record its state."""
    if not peers:
        return
    with db.read() as s:
        seen = {name: st.checked_at for name, st in states(s).items()}
    now = time.time()
    for peer in peers:
        if now - seen.get(peer.name, 0.0) < max_age:
            continue
        try:
            remote = probe(peer, peer.token(peer_key))
        except (PeerUnreachable, AuthError) as exc:
            set_state(db, peer.name, False, str(exc))
            continue
        set_state(db, peer.name, True, "", remote)
