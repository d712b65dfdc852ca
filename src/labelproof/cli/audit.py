"""``labelproof audit ...``: verify an exported audit log and single-event inclusion proofs.

Both commands need only the exported file and the installation's public key (PEM); they
print a JSON verdict and exit 0 when it holds, 1 when it does not, 2 on unreadable input.
``audit_app`` is the group other modules add server-side commands to.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from labelproof.errors import LabelproofError

audit_app = typer.Typer(
    name="audit", help="Verify the audit hash chain, checkpoints and proofs.", no_args_is_help=True
)


def echo_json(value: dict[str, Any]) -> None:
    import orjson

    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")


def _fail(exc: LabelproofError) -> None:
    print(f"error: {exc.message}", file=sys.stderr)
    raise typer.Exit(2) from None


@audit_app.command("verify-export")
def verify_export(
    file: Path = typer.Argument(..., help="An audit export (labelproof-audit-export JSON)."),
    public_key: Path = typer.Option(..., "--public-key", help="The signer's public key (PEM)."),
    allow_id_gaps: bool = typer.Option(
        False, "--allow-id-gaps", help="Accept id gaps whose chain links hold (PostgreSQL)."
    ),
) -> None:
    """Verify every entry and signed checkpoint of an exported audit log."""
    from labelproof.custody.chain import verify_log
    from labelproof.custody.keys import load_public_key
    from labelproof.custody.proofs import load_export

    try:
        key = load_public_key(public_key)
        entries, checkpoints = load_export(file)
        report = verify_log(entries, checkpoints, key, allow_id_gaps=allow_id_gaps)
    except LabelproofError as exc:
        _fail(exc)
        return
    echo_json(report.to_dict())
    if not report.ok:
        raise typer.Exit(1)


@audit_app.command("proof-verify")
def proof_verify(
    proof: Path = typer.Argument(..., help="An inclusion proof (labelproof-inclusion-proof)."),
    public_key: Path = typer.Option(..., "--public-key", help="The signer's public key (PEM)."),
) -> None:
    """Verify that one event is in the log a signed checkpoint vouches for."""
    from labelproof.custody.keys import load_public_key
    from labelproof.custody.proofs import verify_proof

    try:
        key = load_public_key(public_key)
        try:
            raw = proof.read_bytes()
        except OSError as exc:
            from labelproof.errors import InvalidFile

            raise InvalidFile(f"cannot read {proof}: {exc.strerror}", field="proof") from None
        result = verify_proof(raw, key)
    except LabelproofError as exc:
        _fail(exc)
        return
    echo_json(result.to_dict())
    if not result.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
