"""PyTorch kernels for simulated bifurcation (the GPU path; extra ``gpu``).

torch is imported lazily, inside these functions, so the engine loads without it. On a machine
with CUDA the matrices live on the GPU; on CPU the same code runs (CI uses it to check that the
torch path gives the same energies as numpy).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from kakehashi.ising.arrays import IsingArrays


def torch_available() -> bool:
    """torch can be imported here."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def default_device() -> str:
    """"cuda" when a CUDA device is visible to torch, else "cpu"."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class TorchOps:
    """Same operations as :class:`~kakehashi.ising.ops.NumpyOps`, in torch float32."""

    def __init__(self, arrays: IsingArrays, device: str | None = None, dense: bool | None = None) -> None:
        import torch

        self._torch = torch
        self.device = torch.device(device or default_device())
        use_dense = arrays.is_dense if dense is None else dense
        self.kernel = "torch-dense" if use_dense else "torch-sparse"
        if use_dense:
            self._J: Any = torch.from_numpy(arrays.dense(np.float32)).to(self.device)
        else:
            csr = arrays.Js.astype(np.float32)
            with warnings.catch_warnings():  # torch flags sparse CSR as beta; the product is stable
                warnings.simplefilter("ignore", UserWarning)
                self._J = torch.sparse_csr_tensor(
                    torch.from_numpy(csr.indptr.astype(np.int64)),
                    torch.from_numpy(csr.indices.astype(np.int64)),
                    torch.from_numpy(csr.data),
                    size=csr.shape,
                    device=self.device,
                )
        self._h = torch.from_numpy(arrays.h.astype(np.float32)[:, None]).to(self.device)
        self._has_h = bool(np.any(arrays.h != 0))

    def zeros(self, n: int, agents: int) -> Any:
        return self._torch.zeros((n, agents), dtype=self._torch.float32, device=self.device)

    def uniform(self, n: int, agents: int, seed: int, scale: float) -> Any:
        # Drawn with numpy so that numpy and torch runs with one seed start from the same state.
        rng = np.random.default_rng(seed)
        x = rng.uniform(-scale, scale, size=(n, agents)).astype(np.float32)
        return self._torch.from_numpy(x).to(self.device)

    def force(self, x: Any) -> Any:
        out = self._J @ x
        if self._has_h:
            out = out + self._h
        return out

    def sign(self, x: Any) -> Any:
        one = self._torch.ones((), dtype=x.dtype, device=x.device)
        return self._torch.where(x >= 0, one, -one)

    def walls(self, x: Any, y: Any) -> None:
        out = x.abs() > 1.0
        x.clamp_(-1.0, 1.0)
        y.masked_fill_(out, 0.0)

    def to_numpy(self, x: Any) -> np.ndarray:
        return np.asarray(x.detach().cpu().numpy())

    def energies(self, s: Any) -> np.ndarray:
        F = self.force(s)
        e = ((F + self._h) * s).to(self._torch.float64).sum(dim=0) / 2.0
        return np.asarray(e.cpu().numpy())
