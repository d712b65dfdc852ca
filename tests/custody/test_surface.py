"""custody and privacy stay infrastructure: no web or database imports; explicit surfaces."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

FORBIDDEN = (
    "fastapi",
    "starlette",
    "sqlalchemy",
    "uvicorn",
    "labelproof.store",
    "labelproof.services",
    "labelproof.api",
)


@pytest.mark.parametrize("module", ["labelproof.custody", "labelproof.privacy"])
def test_no_web_or_database_imports(module: str) -> None:
    code = (
        f"import sys, importlib; importlib.import_module({module!r}); "
        f"print('\\n'.join(sorted(m for m in sys.modules if m.startswith({FORBIDDEN!r}))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == [], f"{module} pulls in {out}"


def test_privacy_defers_heavy_imports() -> None:
    code = (
        "import sys, labelproof.privacy; "
        "print(sorted(m for m in ('pydicom', 'cv2', 'PIL') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("module", ["labelproof.custody", "labelproof.privacy"])
def test_public_surface_is_explicit(module: str) -> None:
    mod = importlib.import_module(module)
    names = mod.__all__
    assert sorted(names) == sorted(set(names))
    for name in names:
        assert hasattr(mod, name), name
