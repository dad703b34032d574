"""``kakehashi convert`` and reader warnings on stderr, driven through the real command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.model.readers.conformance import highs_outcome, our_outcome, same

from kakehashi.model.readers import read

SCRIPT = [sys.executable, "-m", "kakehashi"]
FIXTURES = Path(__file__).parents[1] / "model" / "readers" / "fixtures"
#: a free row (dropped) and text after ENDATA (ignored): two warnings
WARNED = (
    "NAME w\nROWS\n N obj\n G c\n N spare\nCOLUMNS\n x obj 1 c 1\n x spare 2\nRHS\n r c 3\nENDATA\ntrailer\n"
)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SCRIPT, *args], capture_output=True, text=True, timeout=120, env=dict(os.environ))


def test_convert_mps_to_lp_and_back_keeps_the_optimum(tmp_path: Path) -> None:
    lp, mps = tmp_path / "mixed.lp", tmp_path / "again.mps"
    proc = run("convert", str(FIXTURES / "mixed.lp"), str(mps))
    assert proc.returncode == 0, proc.stderr
    assert f"wrote {mps}" in proc.stderr
    assert run("convert", str(mps), str(lp)).returncode == 0
    reference = highs_outcome(FIXTURES / "mixed.lp")
    assert reference.status == "optimal"
    for path in (mps, lp):
        assert same(highs_outcome(path), reference) and same(our_outcome(read(path)), reference)


def test_convert_prints_reader_warnings_and_renames(tmp_path: Path) -> None:
    source = tmp_path / "warned.mps"
    source.write_text(WARNED)
    proc = run("convert", str(source), str(tmp_path / "out.lp"))
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("warning: ")]
    assert sorted(lines) == [
        f"warning: {source}:12: text after ENDATA is ignored: 'trailer'",
        f"warning: {source}:5: the free row 'spare' (type N, not the objective) is dropped",
    ]


def test_convert_errors_are_one_line_with_file_and_line(tmp_path: Path) -> None:
    source = tmp_path / "semi.lp"
    source.write_text("min\n obj: x\nst\n c: x >= 1\nsemi-continuous\n x\nend\n")
    proc = run("convert", str(source), str(tmp_path / "out.mps"))
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"error: {source}:6: semi-continuous variables are not supported yet (section on line 5, first entry 'x')"
    )
    assert not (tmp_path / "out.mps").exists()
    proc = run("convert", str(FIXTURES / "mixed.lp"), str(tmp_path / "out.txt"))
    assert proc.returncode == 2 and "cannot tell the format" in proc.stderr


def test_solve_prints_reader_warnings_and_the_result_carries_them(tmp_path: Path) -> None:
    source = tmp_path / "warned.mps"
    source.write_text(WARNED)
    proc = run("solve", str(source), "--backend", "highs", "--json")
    assert proc.returncode == 0, proc.stderr
    assert f"warning: {source}:5: the free row 'spare'" in proc.stderr
    data = json.loads(proc.stdout[proc.stdout.index("{") :])  # highspy 1.16 prints a banner on stdout
    assert data["objective"] == 3 and data["status"] == "OPTIMAL"
    assert any("text after ENDATA" in w for w in data["report"]["warnings"])
