"""Benchmark instance data: Gset, TSPLIB, CVRPLIB and OR-Library portfolio loaders, and downloads.

::

    from kakehashi.datasets import gset, tsplib, cvrplib, orlib
    problem = gset.load("G1")                     # a MaxCut Problem, known_optimum 11624
    inst = tsplib.load("berlin52"); d = inst.distance_matrix()
    vrp = cvrplib.load("A-n32-k5"); vrp.cost(cvrplib.load_solution("A-n32-k5").routes)
    port = orlib.load(1); port.covariance

Files are read from :func:`data_dir` (``$KAKEHASHI_DATA_DIR``, else ``../shared/data`` beside a
checkout, else the download cache); :func:`download` fetches a dataset with checksums.
"""

from __future__ import annotations

from kakehashi.datasets import cvrplib, gset, orlib, tsplib
from kakehashi.datasets.download import DownloadReport, download
from kakehashi.datasets.location import cache_dir, data_dir
from kakehashi.datasets.registry import Dataset, DatasetFile, get_dataset, registry
from kakehashi.exceptions import DownloadError

__all__ = [
    "Dataset",
    "DatasetFile",
    "DownloadError",
    "DownloadReport",
    "cache_dir",
    "cvrplib",
    "data_dir",
    "download",
    "get_dataset",
    "gset",
    "orlib",
    "registry",
    "tsplib",
]
