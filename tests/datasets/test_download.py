"""Dataset downloads against a local HTTP server serving the shared data (and a corrupted copy)."""

from __future__ import annotations

import gzip
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from kakehashi.datasets import DownloadError, download, get_dataset, registry
from kakehashi.datasets.cli import app
from kakehashi.datasets.registry import sha256_of
from kakehashi.exceptions import KakehashiError

pytestmark = pytest.mark.network


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve ``directory`` on 127.0.0.1 (ephemeral port) in a thread; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_registry_checksums_match_the_shared_data(data_dir: Path) -> None:
    for ds in registry().values():
        for f in ds.files:
            path = data_dir / f.path
            assert path.is_file(), f.path
            assert path.stat().st_size == f.size and sha256_of(path) == f.sha256, f.path
    present = {p.relative_to(data_dir).as_posix() for p in data_dir.rglob("*") if p.is_file()}
    listed = {f.path for ds in registry().values() for f in ds.files}
    assert listed == present - {"README.md"}


def test_download_from_a_mirror_then_skip_when_present(data_dir: Path, tmp_path: Path) -> None:
    with serve(data_dir) as url:
        report = download("portfolio", dest=tmp_path, base_url=url)
        assert report.count("downloaded") == len(get_dataset("portfolio").files) == 7
        for f in get_dataset("portfolio").files:
            assert (tmp_path / f.path).read_bytes() == (data_dir / f.path).read_bytes()
        again = download("portfolio", dest=tmp_path, base_url=url)
        assert again.count("present") == 7 and again.count("downloaded") == 0
        # a damaged local copy is fetched again
        (tmp_path / "portfolio" / "port1.txt").write_text("damaged")
        third = download("portfolio", dest=tmp_path, base_url=url + "/")
        assert third.outcomes["portfolio/port1.txt"] == "downloaded"
    assert not list(tmp_path.rglob("*.part"))


def test_checksum_mismatch_writes_nothing(data_dir: Path, tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    shutil.copytree(data_dir / "portfolio", mirror / "portfolio")
    port3 = mirror / "portfolio" / "port3.txt"
    port3.write_text(port3.read_text().replace(".", ",", 1))
    dest = tmp_path / "dest"
    with (
        serve(mirror) as url,
        pytest.raises(DownloadError, match=r"checksum mismatch for portfolio/port3\.txt"),
    ):
        download("portfolio", dest=dest, base_url=url)
    assert not (dest / "portfolio" / "port3.txt").exists()
    assert not list(dest.rglob("*.part"))
    assert isinstance(DownloadError("x"), KakehashiError)


def test_http_failure_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with serve(tmp_path / "empty") as url, pytest.raises(DownloadError, match="HTTP 404"):
        download("portfolio", dest=tmp_path / "dest", base_url=url)
    with pytest.raises(KakehashiError, match="unknown dataset 'nope'; expected one of"):
        download("nope", dest=tmp_path)


def test_original_urls_gzip_and_unpublished_files(data_dir: Path, tmp_path: Path) -> None:
    """Without a mirror: each file's own URL; TSPLIB originals are .gz; tables are skipped."""
    by_url = {f.url: f for f in get_dataset("tsplib").files if f.url}

    def handler(request: httpx.Request) -> httpx.Response:
        entry = by_url.get(str(request.url))
        if entry is None:
            return httpx.Response(404)
        return httpx.Response(200, content=gzip.compress((data_dir / entry.path).read_bytes()))

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        report = download("tsplib", dest=tmp_path, client=client)
    assert report.count("downloaded") == len(by_url) == 27
    assert set(report.notes) == {
        "tsplib/optima.csv",
        "tsplib/bestSolutions.txt",
        "tsplib/LICENSE.TSPLib.Net.txt",
    }
    assert (tmp_path / "tsplib" / "berlin52.tsp").read_bytes() == (
        data_dir / "tsplib" / "berlin52.tsp"
    ).read_bytes()
    gset_urls = [f.url for f in get_dataset("gset").files if f.path == "gset/G1.txt"]
    assert gset_urls == ["https://web.stanford.edu/~yyye/yyye/Gset/G1"]


def test_cli_list_and_download(data_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    listing = runner.invoke(app, ["list"])
    assert listing.exit_code == 0 and "gset" in listing.output and "cvrplib" in listing.output
    with serve(data_dir) as url:
        result = runner.invoke(app, ["download", "tsplib", "--dest", str(tmp_path), "--base-url", url])
    assert result.exit_code == 0, result.output
    assert "30 downloaded" in result.output
    assert (tmp_path / "tsplib" / "optima.csv").read_bytes() == (
        data_dir / "tsplib" / "optima.csv"
    ).read_bytes()
