"""The pure core stays pure, and the public surfaces are explicit."""

from __future__ import annotations

import subprocess
import sys

import pytest

PURE = ["labelproof.metrics", "labelproof.annotypes", "labelproof.geometry"]
FORBIDDEN = (
    "fastapi",
    "starlette",
    "sqlalchemy",
    "uvicorn",
    "labelproof.store",
    "labelproof.services",
    "labelproof.api",
)


@pytest.mark.parametrize("module", PURE)
def test_pure_core_imports_no_web_or_database(module: str) -> None:
    code = (
        f"import sys, importlib; importlib.import_module({module!r}); "
        f"print('\\n'.join(sorted(m for m in sys.modules if m.startswith({FORBIDDEN!r}))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == [], f"{module} pulls in {out}"


def test_metrics_public_surface_is_explicit() -> None:
    import labelproof.metrics as metrics

    assert sorted(metrics.__all__) == sorted(set(metrics.__all__))
    for name in metrics.__all__:
        assert hasattr(metrics, name), name
    public = {n for n in dir(metrics) if not n.startswith("_")}
    submodules = {"agreement", "coco", "consensus", "matching", "similarity", "suggestions"}
    assert public - submodules == set(metrics.__all__)


def test_errors_tree_is_documented() -> None:
    import labelproof.errors as errors

    doc = errors.__doc__ or ""
    for name in errors.__all__:
        assert name in doc, f"{name} is missing from the tree in labelproof.errors' docstring"


def test_every_data_file_is_packaged() -> None:
    """Files the package reads at run time (not .py) are listed in the package data, so a
    `pip install .` (not only an editable install) carries them."""
    import fnmatch
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    patterns = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["labelproof"]
    src = root / "src" / "labelproof"
    for path in src.rglob("*"):
        rel = path.relative_to(src).as_posix()
        if (
            path.is_dir()
            or path.suffix in (".py", ".pyc")
            or "__pycache__" in rel
            or rel.startswith("web/dist/")
        ):
            continue
        assert any(fnmatch.fnmatch(rel, p) for p in patterns), f"{rel} is not in package-data"
