"""The conformance kit over every registered backend (unavailable ones: a reason, then skips)."""

from __future__ import annotations

import pytest

from kakehashi.backends.registry import backend_names
from kakehashi.testing import BackendConformance


class TestEveryBackend(BackendConformance):
    @pytest.fixture(params=backend_names())
    def conformance_backend_name(self, request: pytest.FixtureRequest) -> str:
        name: str = request.param
        return name
