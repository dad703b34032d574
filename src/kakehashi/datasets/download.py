"""``download(name)``: fetch a dataset into a directory, verifying every file's SHA-256.

Files already present with the right checksum are skipped; others are fetched (from the
original site, or from ``base_url`` + the file's relative path when a mirror is given),
decompressed when the original is gzip-compressed, verified, and written atomically (a temporary
file in the same directory, then :func:`os.replace`), so an interrupted or failed download
never leaves a partial or unverified file behind.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import httpx

from kakehashi.datasets.location import cache_dir
from kakehashi.datasets.registry import DatasetFile, get_dataset, sha256_of
from kakehashi.exceptions import DownloadError

Outcome = Literal["present", "downloaded", "skipped"]



@dataclass
class DownloadReport:
    """What happened to each file of a dataset download."""

    dataset: str
    dest: Path
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for o in self.outcomes.values() if o == outcome)


def _is_valid(path: Path, entry: DatasetFile) -> bool:
    return path.is_file() and path.stat().st_size == entry.size and sha256_of(path) == entry.sha256


def _fetch(client: httpx.Client, url: str) -> bytes:
    try:
        response = client.get(url)
    except httpx.HTTPError as exc:
        raise DownloadError(f"GET {url} failed: {exc}") from exc
    if response.status_code != 200:
        raise DownloadError(f"GET {url} failed: HTTP {response.status_code} {response.reason_phrase}")
    return response.content


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def download(
    name: str,
    dest: str | Path | None = None,
    base_url: str | None = None,
    *,
    timeout: float = 60.0,
    client: httpx.Client | None = None,
) -> DownloadReport:
    """Download dataset ``name`` into ``dest/<name>/...`` (``dest`` defaults to :func:`cache_dir`).

    Args:
        name: a registered dataset (``kakehashi datasets list``).
        dest: the data directory to fill; point ``KAKEHASHI_DATA_DIR`` at it afterwards (the
            default cache is searched automatically).
        base_url: a mirror laid out like the data directory (``<base_url>/gset/G1.txt``);
            without it each file's original URL is used and files not published there are
            skipped.
        timeout: per-request timeout in seconds.
        client: an ``httpx.Client`` to use (tests, proxies); one is created otherwise.
    Raises:
        DownloadError: HTTP failure, a corrupt gzip stream or a checksum mismatch (nothing is
            written for that file).
    """
    dataset = get_dataset(name)
    root = Path(dest).expanduser() if dest is not None else cache_dir()
    report = DownloadReport(dataset=name, dest=root)
    own = client is None
    http = client or httpx.Client(timeout=timeout, follow_redirects=True)
    try:
        for entry in dataset.files:
            target = root / entry.path
            if _is_valid(target, entry):
                report.outcomes[entry.path] = "present"
                continue
            if base_url is not None:
                url, compression = f"{base_url.rstrip('/')}/{entry.path}", None
            elif entry.url is not None:
                url, compression = entry.url, entry.compression
            else:
                report.outcomes[entry.path] = "skipped"
                report.notes[entry.path] = "not published at the original site; use --base-url with a mirror"
                continue
            data = _fetch(http, url)
            if compression == "gzip":
                try:
                    data = gzip.decompress(data)
                except (OSError, EOFError) as exc:
                    raise DownloadError(f"{url}: not a valid gzip stream ({exc})") from exc
            digest = hashlib.sha256(data).hexdigest()
            if digest != entry.sha256:
                raise DownloadError(
                    f"checksum mismatch for {entry.path} from {url}: expected sha256 {entry.sha256}, "
                    f"got {digest}; the file was not written"
                )
            _write_atomic(target, data)
            report.outcomes[entry.path] = "downloaded"
    finally:
        if own:
            http.close()
    return report
