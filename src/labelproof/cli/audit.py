"""``labelproof audit ...``: verify the audit log, exported logs and inclusion proofs.

``verify --data-dir D`` reads an installation's stored events and signed checkpoints;
``verify-export`` and ``proof-verify`` need only the file and the public key (PEM). Each
prints a JSON verdict and exits 0 when it holds, 1 when it does not, 2 on unreadable input.
``checkpoint`` signs a checkpoint now; ``public-key`` prints the key auditors verify with.
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


@audit_app.command("verify")
def verify_installation(
    data_dir: Path | None = typer.Option(
        None, "--data-dir", envvar="LABELPROOF_DATA_DIR", help="The data directory."
    ),
    public_key: Path | None = typer.Option(
        None, "--public-key", help="Verify against this public key (default: the installation's)."
    ),
) -> None:
    """Verify every stored audit event and signed checkpoint; name the first bad entry."""
    from labelproof.cli._common import runtime
    from labelproof.custody.keys import load_public_key
    from labelproof.services.custody.evidence import verify_stored_log

    try:
        rt = runtime(data_dir)
        if public_key is not None:
            key = load_public_key(public_key)
        else:
            key = rt.custody.signing_key().public_key()
        with rt.read() as db:
            report = verify_stored_log(db, key)
    except LabelproofError as exc:
        _fail(exc)
        return
    echo_json(report.to_dict())
    if not report.ok:
        failure = report.failure
        assert failure is not None
        where = f" at entry id {failure.entry_id}" if failure.entry_id is not None else ""
        print(f"audit log FAILED: {failure.kind}{where}: {failure.message}", file=sys.stderr)
        raise typer.Exit(1)


@audit_app.command("checkpoint")
def checkpoint(
    data_dir: Path | None = typer.Option(
        None, "--data-dir", envvar="LABELPROOF_DATA_DIR", help="The data directory."
    ),
) -> None:
    """Sign a checkpoint of the audit log as it stands now."""
    from labelproof.cli._common import runtime
    from labelproof.services.custody.evidence import checkpoint_now

    try:
        cp = checkpoint_now(runtime(data_dir))
    except LabelproofError as exc:
        _fail(exc)
        return
    echo_json(cp.to_dict())


@audit_app.command("public-key")
def public_key_cmd(
    data_dir: Path | None = typer.Option(
        None, "--data-dir", envvar="LABELPROOF_DATA_DIR", help="The data directory."
    ),
) -> None:
    """Print the installation's audit public key (PEM) for auditors."""
    from labelproof.cli._common import runtime

    try:
        pem = runtime(data_dir).custody.public_key_pem()
    except LabelproofError as exc:
        _fail(exc)
        return
    sys.stdout.write(pem.decode())


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
