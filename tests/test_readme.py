"""The README's Python example runs as written and gives the results it shows."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from kakehashi.examples import path as example

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    block = re.search(r"```python\n(.*?)```", README.read_text(), re.S)
    assert block is not None
    shutil.copy(example("knapsack50.lp"), tmp_path / "model.lp")
    monkeypatch.chdir(tmp_path)
    scope: dict[str, object] = {}
    exec(compile(block.group(1), str(README), "exec"), scope)
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("OPTIMAL 9.0")
    assert scope["problem"].name == "model"  # type: ignore[attr-defined]  # named after the file


def test_readme_names_both_setup_commands() -> None:
    text = README.read_text()
    assert "make run" in text and "make test" in text
