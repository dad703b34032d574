"""Peer tokens at rest: encrypted with the service's ``peer_key`` (Fernet: AES-128-CBC + HMAC-SHA256).

``cryptography``'s Fernet is used rather than anything hand-written: authenticated encryption with
a versioned token format. The key is the operator's (``peer_key`` in the config TOML or
``KAKEHASHI_PEER_KEY``); :func:`new_key` makes one. Without a key, peer tokens can only be given by
reference to an environment variable (``--token-env``).
"""

from __future__ import annotations

from kakehashi.exceptions import AuthError, KakehashiError


def _fernet(key: str | None) -> object:
    if not key:
        raise KakehashiError(
            "no peer_key configured: set KAKEHASHI_PEER_KEY (make one with "
            "'kakehashi admin peer key') or give the token by --token-env VAR"
        )
    try:
        from cryptography.fernet import Fernet
    except ImportError as exc:  # pragma: no cover - a dependency of the service extra
        raise KakehashiError("encrypted peer tokens need cryptography: pip install 'kakehashi[service]'") from exc
    try:
        return Fernet(key.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise KakehashiError("peer_key is not a Fernet key (32 url-safe base64-encoded bytes)") from exc


def new_key() -> str:
    """A fresh Fernet key (url-safe base64 text)."""
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode("ascii")


def encrypt(token: str, key: str | None) -> str:
    """``token`` encrypted with ``key`` (text safe to store)."""
    f = _fernet(key)
    return f.encrypt(token.encode("utf-8")).decode("ascii")  # type: ignore[attr-defined,no-any-return]


def decrypt(cipher: str, key: str | None) -> str:
    """The token in ``cipher``; :class:`AuthError` when ``key`` is not the one it was stored with."""
    from cryptography.fernet import InvalidToken

    f = _fernet(key)
    try:
        return f.decrypt(cipher.encode("ascii")).decode("utf-8")  # type: ignore[attr-defined,no-any-return]
    except InvalidToken as exc:
        raise AuthError("the stored peer token cannot be decrypted with this peer_key") from exc
