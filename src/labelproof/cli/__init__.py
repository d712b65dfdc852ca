"""The ``labelproof`` command.

Each module in this package that defines ``register(app: typer.Typer) -> None`` adds its
commands; a new command is a new module, named in :data:`COMMANDS` under each top-level
command it adds to (tests/test_cli_registry.py checks the table against the modules).

The console script imports only the modules of the command it runs, so ``labelproof
convert`` never loads the database, the services or the web stack (about 0.9 s of start-up
otherwise). ``labelproof --help`` and an unknown command load every module. Importing
``app`` from this package gives the Typer app with every command registered.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import typer

#: Top-level command -> the modules that add to it (several add to ``project``/``user``).
COMMANDS: dict[str, tuple[str, ...]] = {
    "agree": ("agree",),
    "annotations": ("admin",),
    "asset": ("admin",),
    "audit": ("audit",),
    "certificate": ("custody",),
    "convert": ("formats",),
    "custody": ("custody",),
    "deid": ("deid",),
    "demo": ("demo",),
    "eval": ("eval",),
    "formats": ("formats",),
    "init": ("admin",),
    "keys": ("custody",),
    "labelstudio": ("connect",),
    "project": ("admin", "custody"),
    "qa": ("qa",),
    "serve": ("serve",),
    "suggestions": ("suggestions",),
    "task": ("admin",),
    "user": ("admin", "custody"),
    "version": ("version",),
}

_app = typer.Typer(
    name="labelproof",
    help="Image annotation programs whose quality and data custody can be proven.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
_registered: set[str] = set()


@_app.callback()
def _root() -> None:
    """Image annotation programs whose quality and data custody can be proven."""


def all_modules() -> list[str]:
    """Every command module of this package, in name order."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def register(modules: list[str] | tuple[str, ...] | None = None) -> typer.Typer:
    """Register ``modules`` (all when None), each once, and return the app."""
    for name in sorted(all_modules() if modules is None else modules):
        if name in _registered:
            continue
        module = importlib.import_module(f"{__name__}.{name}")
        hook = getattr(module, "register", None)
        if callable(hook):
            hook(_app)
        _registered.add(name)
    return _app


def __getattr__(name: str) -> typer.Typer:
    if name == "app":
        return register()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _command_of(argv: list[str]) -> str | None:
    """The top-level command named on the command line (None for options only)."""
    for arg in argv:
        if not arg.startswith("-"):
            return arg
    return None


def main() -> None:
    """Entry point of the ``labelproof`` console script."""
    modules = COMMANDS.get(_command_of(sys.argv[1:]) or "")
    register(modules)
    _app()
