"""``labelproof version``."""

from __future__ import annotations

import typer

from labelproof import __version__


def register(app: typer.Typer) -> None:
    @app.command("version")
    def version() -> None:
        """Print the installed labelproof version."""
        typer.echo(__version__)
