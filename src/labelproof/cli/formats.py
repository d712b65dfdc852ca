"""``labelproof convert`` and ``labelproof formats``: dataset format conversion."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from labelproof.errors import LabelproofError


def register(app: typer.Typer) -> None:
    @app.command("convert")
    def convert(
        src: Annotated[Path, typer.Argument(help="Input folder, file or zip.")],
        to: Annotated[str, typer.Option("--to", help="Output format (see `labelproof formats`).")],
        out: Annotated[Path, typer.Option("--out", help="Output folder (absent or empty).")],
        source_format: Annotated[
            str, typer.Option("--from", help="Input format, or 'auto' to detect it.")
        ] = "auto",
    ) -> None:
        """Convert an annotation dataset; prints and saves what was dropped or approximated."""
        from labelproof.formats import REPORT_NAME
        from labelproof.formats import convert as do_convert

        try:
            result = do_convert(src, out, to=to, source_format=source_format)
        except LabelproofError as exc:
            typer.echo(f"error: {exc.message}", err=True)
            raise typer.Exit(2) from None
        if source_format == "auto":
            typer.echo(f"detected {result.source_format} (confidence {result.confidence:.2f})")
        for line in result.read.summary_lines() + result.write.summary_lines():
            typer.echo(line)
        typer.echo(f"loss report: {out / REPORT_NAME}")

    @app.command("formats")
    def formats() -> None:
        """List the format codecs and the annotation types each reads and writes."""
        from labelproof.formats import DEFAULT_REGISTRY

        try:
            codecs = DEFAULT_REGISTRY.codecs()
        except LabelproofError as exc:
            typer.echo(f"error: {exc.message}", err=True)
            raise typer.Exit(2) from None
        for c in codecs:
            typer.echo(f"{c.name:12} {c.title}")
            typer.echo(f"{'':12} reads:  {', '.join(sorted(c.reads)) or '-'}")
            typer.echo(f"{'':12} writes: {', '.join(sorted(c.writes)) or '-'}")
            typer.echo(f"{'':12} keeps:  {', '.join(sorted(c.carries)) or '-'}")
