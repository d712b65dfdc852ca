"""``labelproof deid IN --out OUT``: de-identify DICOM files and photos, file or folder."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from labelproof.errors import LabelproofError


def run_deid(
    source: Path,
    out: Path,
    *,
    report_path: Path | None,
    blur_faces: bool,
    blur_plates: bool,
    shift_dates: bool,
    secret_file: Path | None,
) -> tuple[dict[str, Any], int]:
    """Run the batch; returns the whole report and the number of files that failed."""
    import orjson

    from labelproof.privacy.batch import DeidOptions, deidentify_path, read_project_secret

    secret, ephemeral = read_project_secret(secret_file)
    options = DeidOptions(secret, blur_faces, blur_plates, shift_dates)
    files = deidentify_path(source, out, options)
    doc = {
        "tool": "labelproof deid",
        "uid_key": "ephemeral (UIDs agree within this run only)" if ephemeral else "project",
        "files": files,
    }
    if report_path is not None:
        report_path.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
    failed = sum(1 for f in files if "error" in f)
    return doc, failed


def register(app: typer.Typer) -> None:
    @app.command("deid")
    def deid(
        source: Path = typer.Argument(..., help="A DICOM file, a photo, or a folder of them."),
        out: Path = typer.Option(..., "--out", help="Output file or folder."),
        report: Path | None = typer.Option(None, "--report", help="Write the JSON report here."),
        blur_faces: bool = typer.Option(False, "--blur-faces", help="Blur detected faces."),
        blur_plates: bool = typer.Option(False, "--blur-plates", help="Blur licence plates."),
        shift_dates: bool = typer.Option(
            False, "--shift-dates", help="DICOM: shift dates per patient instead of removing."
        ),
        project_secret_file: Path | None = typer.Option(
            None,
            "--project-secret-file",
            help="Key for consistent DICOM UID remapping (>= 16 bytes); random if absent.",
        ),
    ) -> None:
        """De-identify DICOM (PS3.15 basic profile) and photos (metadata, faces, plates)."""
        try:
            doc, failed = run_deid(
                source,
                out,
                report_path=report,
                blur_faces=blur_faces,
                blur_plates=blur_plates,
                shift_dates=shift_dates,
                secret_file=project_secret_file,
            )
        except LabelproofError as exc:
            print(f"error: {exc.message}", file=sys.stderr)
            raise typer.Exit(2) from None
        files = doc["files"]
        done = sum(1 for f in files if "output" in f)
        skipped = sum(1 for f in files if "skipped" in f)
        for f in files:
            if "error" in f:
                print(f"error: {f['input']}: {f['error']}", file=sys.stderr)
            elif "output" in f:
                flags = f["report"].get("flags") or []
                regions = f["report"].get("regions") or []
                extra = f" ({len(regions)} region(s) blurred)" if regions else ""
                typer.echo(f"{f['input']} -> {f['output']}{extra}")
                for flag in flags:
                    typer.echo(f"  review: {flag}")
        typer.echo(f"{done} de-identified, {skipped} skipped, {failed} failed")
        if doc["uid_key"] != "project" and any(
            f.get("report", {}).get("kind") == "dicom" for f in files
        ):
            typer.echo("note: no --project-secret-file, so remapped UIDs agree only in this run")
        if failed:
            raise typer.Exit(2)
