"""Shared fixtures: E. coli core (COBRApy's bundled ``textbook``), aerobic and anaerobic."""

from __future__ import annotations

import pytest

pytest.importorskip("cobra", reason="the bio tests need COBRApy: pip install 'kakehashi[bio]'")
pytest.importorskip("sklearn", reason="the bio tests need scikit-learn: pip install 'kakehashi[bio]'")

from kakehashi.apps.bio.network import MetabolicNetwork, read_model


@pytest.fixture(scope="session")
def core() -> MetabolicNetwork:
    return read_model("textbook")


@pytest.fixture(scope="session")
def anaerobic(core: MetabolicNetwork) -> MetabolicNetwork:
    return core.anaerobic()
