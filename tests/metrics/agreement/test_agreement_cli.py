"""``labelproof agree``: output and errors (exit 2, no traceback, file/row/column named)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from labelproof.cli import app
from labelproof.metrics.agreement import fleiss_kappa, krippendorff_alpha

from .test_agreement_alpha import KRIPPENDORFF_2011

runner = CliRunner()


def write_table(tmp_path: Path, matrix: np.ndarray, name: str = "ratings.csv") -> Path:
    lines = ["unit," + ",".join(f"coder{r}" for r in range(matrix.shape[0]))]
    for u in range(matrix.shape[1]):
        cells = ["" if np.isnan(v) else f"{v:g}" for v in matrix[:, u]]
        lines.append(f"u{u}," + ",".join(cells))
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("level", ["nominal", "interval"])
def test_alpha_json(tmp_path: Path, level: str) -> None:
    path = write_table(tmp_path, KRIPPENDORFF_2011)
    out = runner.invoke(app, ["agree", str(path), "--level", level, "--json", "--bootstrap", "50"])
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    expected = krippendorff_alpha(KRIPPENDORFF_2011, level=level, bootstrap=50, seed=0)  # type: ignore[arg-type]
    assert result["value"] == pytest.approx(expected.value, abs=1e-12)
    assert result["ci"] == pytest.approx(list(expected.ci or ()))
    assert (result["n_units"], result["n_pairable"], result["n_raters"]) == (15, 26, 3)


def test_text_output_and_labels(tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    path.write_text("item,ann,bob\nimg1,cat,cat\nimg2,dog,cat\nimg3,dog,dog\nimg4,cat,\n")
    out = runner.invoke(app, ["agree", str(path), "--metric", "cohen", "--bootstrap", "0"])
    assert out.exit_code == 0, out.output
    assert out.stdout.startswith("cohen (nominal): ")
    assert "no interval" in out.stdout and "Cohen's kappa = " in out.stdout


def test_ordinal_labels_with_categories(tmp_path: Path) -> None:
    path = tmp_path / "ord.csv"
    path.write_text("u,a,b\n1,low,mid\n2,high,high\n3,low,low\n")
    args = ["agree", str(path), "--level", "ordinal", "--json", "--bootstrap", "0"]
    out = runner.invoke(app, [*args, "--categories", "low,mid,high"])
    assert out.exit_code == 0, out.output
    expected = krippendorff_alpha([[0, 2, 0], [1, 2, 0]], level="ordinal", bootstrap=0)
    assert json.loads(out.stdout)["value"] == pytest.approx(expected.value)
    out = runner.invoke(app, args)
    assert out.exit_code == 2
    assert "row 2, column 2 (rater 'a'): 'low' is not a number" in out.stderr


def test_fleiss_from_table(tmp_path: Path) -> None:
    labels = np.array([[0, 1, 1], [2, 2, 2], [0, 0, 1], [1, 1, 1]], dtype=float).T
    path = write_table(tmp_path, labels)
    out = runner.invoke(
        app, ["agree", str(path), "--metric", "fleiss", "--json", "--bootstrap", "0"]
    )
    assert out.exit_code == 0, out.output
    counts = [[int((labels[:, u] == k).sum()) for k in range(3)] for u in range(4)]
    assert json.loads(out.stdout)["value"] == pytest.approx(fleiss_kappa(counts).value)


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("u,a,b\n1,x,y\n2,x\n", [], "row 3 has 2 cells but the header (row 1) has 3"),
        ("u,a,b\n1,x,y\n1,x,x\n", [], "row 3, column 1: unit '1' repeats row 2"),
        ("u,a,a\n1,x,y\n", [], "row 1, column 3: rater 'a' repeats column 2"),
        ("u,a,b\n1,2,y\n", ["--level", "interval"], "row 2, column 3 (rater 'b'): 'y' is not"),
        ("u,a,b,c\n1,x,y,x\n", ["--metric", "cohen"], "needs exactly 2 raters"),
        ("u,a,b\n1,x,\n2,x,y\n", ["--metric", "fleiss"], "row 2, column 3 (rater 'b') is empty"),
        ("", [], "the table is empty"),
        ("u,a,b\n", [], "no unit rows"),
        ("u,a,b\n1,x,x\n2,x,x\n", [], "no variation"),
        ("u,a,b\n1,x,\n2,,y\n", [], "no unit has ratings from at least two raters"),
        ("u,a,b\n1,1,2\n", ["--level", "weird"], "unknown level 'weird'"),
        ("u,a,b\n1,1,2\n", ["--metric", "kappa"], "unknown metric 'kappa'"),
    ],
)
def test_errors_exit_2_with_location(
    tmp_path: Path, content: str, args: list[str], message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    out = runner.invoke(app, ["agree", str(path), "--bootstrap", "0", *args])
    assert out.exit_code == 2, out.output
    assert message in out.stderr
    assert "Traceback" not in out.output
    assert "bad.csv" in out.stderr or "unknown" in out.stderr


def test_non_utf8_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("u,a,b\n1,caf\u00e9,x\n".encode("latin-1"))
    out = runner.invoke(app, ["agree", str(path)])
    assert out.exit_code == 2
    assert "latin1.csv: not UTF-8 text" in out.stderr and "row 2" in out.stderr
    out = runner.invoke(app, ["agree", str(tmp_path / "absent.csv")])
    assert out.exit_code == 2
    assert "absent.csv: cannot read" in out.stderr
