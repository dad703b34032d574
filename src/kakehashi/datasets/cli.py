"""``kakehashi datasets``: list the registered datasets and download them (a Typer sub-app)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(no_args_is_help=True, help="Benchmark datasets: list and download.")


@app.command("list")
def list_datasets() -> None:
    """List the registered datasets, their size and where they are looked for."""
    from kakehashi.datasets.location import data_dir
    from kakehashi.datasets.registry import registry

    root = data_dir()
    width = max((len(name) for name in registry()), default=10)
    for ds in registry().values():
        present = sum(1 for f in ds.files if (root / f.path).is_file())
        typer.echo(
            f"{ds.name:<{width}} {len(ds.files):>5} files {ds.size / 1e6:7.2f} MB  "
            f"{present:>5} present  {ds.description}"
        )
    typer.echo(f"data directory: {root}")


@app.command("download")
def download_dataset(
    name: Annotated[str, typer.Argument(help="Dataset name (see 'kakehashi datasets list').")],
    dest: Annotated[
        Path | None, typer.Option("--dest", help="Directory to fill (default: the download cache).")
    ] = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="A mirror laid out like the data directory.")
    ] = None,
) -> None:
    """Download a dataset, verifying every file's SHA-256 checksum."""
    from kakehashi.datasets.download import download

    report = download(name, dest=dest, base_url=base_url)
    typer.echo(
        f"{name}: {report.count('downloaded')} downloaded, {report.count('present')} already present, "
        f"{report.count('skipped')} skipped -> {report.dest / name}"
    )
    for path, note in report.notes.items():
        typer.echo(f"  skipped {path}: {note}")
