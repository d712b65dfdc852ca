"""The ``labelproof`` command.

Each module in this package that defines ``register(app: typer.Typer) -> None`` adds its
commands; a new command is a new module. Modules are imported in name order.
"""

from __future__ import annotations

import importlib
import pkgutil

import typer

app = typer.Typer(
    name="labelproof",
    help="Image annotation programs whose quality and data custody can be proven.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Image annotation programs whose quality and data custody can be proven."""


def _register_all() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if callable(register):
            register(app)


_register_all()


def main() -> None:
    """Entry point of the ``labelproof`` console script."""
    app()
