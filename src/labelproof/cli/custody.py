"""Custody commands: ``project destroy | close | reopen``, ``user clearance``,
``certificate verify``, ``keys rotate-master | rotate-project``, ``custody run-due |
approve``.

``project destroy P --as ADMIN --approved-by SECOND_ADMIN`` files the request as the first
admin and approves it as the second, through the same services (and checks) as the API.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from labelproof.cli._common import AsUser, DataDir, acting, domain_errors, echo_json, runtime
from labelproof.errors import InvalidFile, InvalidInput, LabelproofError

certificate_app = typer.Typer(help="Certificates of destruction.", no_args_is_help=True)
keys_app = typer.Typer(help="Master key and data key rotation.", no_args_is_help=True)


@keys_app.command("rotate-master")
def keys_rotate_master(
    data_dir: DataDir = None,
    new_key_file: Annotated[
        Path | None,
        typer.Option(
            "--new-key-file",
            help="A prepared new master key (one base64 key, mode 0600); default: random.",
        ),
    ] = None,
) -> None:
    """Rewrap every data key under a new master key while servers keep running.

    The key file becomes NEW+OLD, every wrapped key is rewrapped in one transaction, then the
    file holds NEW alone. Run it again to finish an interrupted rotation.
    """
    from labelproof.services.custody.rotation import load_new_master_key, rotate_master

    try:
        new_key = load_new_master_key(new_key_file) if new_key_file is not None else None
        report = rotate_master(runtime(data_dir), new_key=new_key)
    except LabelproofError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        raise typer.Exit(2) from None
    echo_json(report.to_dict())
    typer.echo(
        f"master key rotated to {report.to_key_id}: {report.project_keys} project key(s),"
        f" {report.previous_keys} previous key(s), {report.totp_secrets} TOTP secret(s)",
        err=True,
    )


@certificate_app.command("verify")
def certificate_verify(
    file: Annotated[Path, typer.Argument(help="A certificate of destruction (JSON).")],
    public_key: Annotated[
        Path | None, typer.Option("--public-key", help="The signer's public key (PEM).")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Check a certificate's signature and audit checkpoint; exit 0 valid, 1 not, 2 unreadable.

    The key is ``--public-key``, else the audit key of ``--data-dir``.
    """
    import orjson

    from labelproof.custody.keys import load_public_key
    from labelproof.services.custody.certificate import verify_certificate

    try:
        if public_key is not None:
            key = load_public_key(public_key)
        else:
            key = runtime(data_dir).custody.signing_key().public_key()
        try:
            document = orjson.loads(file.read_bytes())
        except OSError as exc:
            raise InvalidFile(f"cannot read {file}: {exc.strerror}", field="file") from None
        except orjson.JSONDecodeError as exc:
            raise InvalidFile(f"{file} is not JSON: {exc}", field="file") from None
        check = verify_certificate(document, key)
    except LabelproofError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        raise typer.Exit(2) from None
    echo_json(check.to_dict())
    if not check.ok:
        raise typer.Exit(1)


def _destroy(
    project_id: int,
    as_user: AsUser,
    approved_by: Annotated[
        str, typer.Option("--approved-by", help="The second admin (email) who approves.")
    ],
    reason: Annotated[str, typer.Option(help="Why the project is destroyed.")] = (
        "end of engagement"
    ),
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Destroy a project (data key, blobs, rows) and print its signed certificate."""
    from labelproof.services.custody.destruction import approve_destruction, request_destruction

    if not yes:
        typer.confirm(f"Destroy project {project_id} and all its data for good?", abort=True)
    rt = runtime(data_dir)
    with rt.write() as db:
        requester = acting(db, as_user)
        req = request_destruction(db, requester, project_id=project_id, reason=reason)
    with rt.read() as db:
        approver = acting(db, approved_by)
    document = approve_destruction(rt, approver, request_id=req.id)
    echo_json(document)
    path = rt.settings.certificate_dir / f"{document['certificate_id']}.json"
    typer.echo(f"project {project_id} destroyed; certificate {path}", err=True)


def _clearance(
    email: str,
    as_user: AsUser,
    clearance: Annotated[
        list[str] | None, typer.Option("--clearance", help="pii, phi or cui (repeat).")
    ] = None,
    baa_signed: Annotated[bool, typer.Option(help="A business associate agreement is signed.")] = (
        False
    ),
    training_done: Annotated[bool, typer.Option(help="CUI training is completed.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Set a user's data-classification clearance (replaces the previous one)."""
    from labelproof.services.custody.clearance import set_clearance

    rt = runtime(data_dir)
    with rt.write() as db:
        actor = acting(db, as_user)
        user = set_clearance(
            db,
            actor,
            user_id=acting(db, email).user_id,
            clearance={
                "clearances": list(clearance or []),
                "baa_signed": baa_signed,
                "training_done": training_done,
            },
        )
        echo_json({"user_id": user.id, "email": user.email, "clearance": user.clearance})


@keys_app.command("rotate-project")
def keys_rotate_project(
    project_id: int,
    data_dir: DataDir = None,
    reencrypt: Annotated[
        bool,
        typer.Option(
            "--reencrypt",
            help="Instead of rotating: move ciphertexts still under a previous key to the"
            " current one (resumable, bounded batches).",
        ),
    ] = False,
    batch: Annotated[int, typer.Option(help="Rows per write transaction.", min=1)] = 200,
    max_batches: Annotated[
        int | None, typer.Option(help="Stop after this many batches (run again to go on).")
    ] = None,
    retire: Annotated[
        bool,
        typer.Option("--retire", help="With --reencrypt: delete the previous keys when done."),
    ] = False,
) -> None:
    """Make a new data key current for a project (old ciphertexts stay readable); then
    ``--reencrypt [--retire]`` moves everything to it and deletes the old key."""
    from labelproof.services.custody import data_key_rotation as dkr

    try:
        rt = runtime(data_dir)
        if not reencrypt:
            if retire:
                raise InvalidInput("--retire goes with --reencrypt", field="retire")
            echo_json(dkr.rotate_project(rt, project_id))
            return
        report = dkr.reencrypt_project(rt, project_id, batch=batch, max_batches=max_batches)
        out = report.to_dict()
        if retire and report.complete:
            out["retired_key_ids"] = dkr.retire_previous_keys(rt, project_id)
    except LabelproofError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        raise typer.Exit(2) from None
    echo_json(out)
    if not report.complete:
        print("re-encryption not finished: run the command again", file=sys.stderr)
        raise typer.Exit(1)


custody_app = typer.Typer(help="Scheduled destructions (retention).", no_args_is_help=True)


def _close(
    project_id: int,
    as_user: AsUser,
    retention_days: Annotated[
        int | None,
        typer.Option(help="Days until destruction falls due (default LABELPROOF_RETENTION_DAYS)."),
    ] = None,
    schedule: Annotated[
        bool, typer.Option("--schedule/--no-schedule", help="Schedule the destruction.")
    ] = True,
    data_dir: DataDir = None,
) -> None:
    """Close a project; its destruction is scheduled after the retention period (a second
    person approves it with ``custody approve`` before it is due)."""
    from labelproof.services.custody.retention import close_project

    rt = runtime(data_dir)
    with rt.write() as db:
        done = close_project(
            db,
            acting(db, as_user),
            project_id=project_id,
            retention_days=retention_days,
            default_days=rt.settings.retention_days,
            schedule_destruction=schedule,
        )
        req = done.request
        echo_json(
            {
                "project_id": done.project_id,
                "closed_at": done.closed_at.isoformat(),
                "retention_days": done.retention_days,
                "destruction_request": None
                if req is None
                else {
                    "id": req.id,
                    "status": req.status,
                    "due_at": req.due_at.isoformat() if req.due_at else None,
                },
            }
        )


def _reopen(project_id: int, as_user: AsUser, data_dir: DataDir = None) -> None:
    """Reopen a closed project; its scheduled destruction is cancelled."""
    from labelproof.services.custody.retention import reopen_project

    rt = runtime(data_dir)
    with rt.write() as db:
        ids = reopen_project(db, acting(db, as_user), project_id=project_id)
    echo_json({"project_id": project_id, "cancelled_requests": ids})


@custody_app.command("approve")
def custody_approve(request_id: int, as_user: AsUser, data_dir: DataDir = None) -> None:
    """Approve a scheduled destruction as the second person (carried out when due)."""
    from labelproof.services.custody.destruction import approve_destruction

    try:
        rt = runtime(data_dir)
        with rt.read() as db:
            approver = acting(db, as_user)
        echo_json(approve_destruction(rt, approver, request_id=request_id))
    except LabelproofError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        raise typer.Exit(2) from None


@custody_app.command("run-due")
def custody_run_due(
    data_dir: DataDir = None,
    now: Annotated[
        str | None, typer.Option(help="Act as if it were this ISO 8601 time (UTC if bare).")
    ] = None,
) -> None:
    """Carry out approved destructions whose deadline passed; list (and audit) due ones that
    still wait for approval. Exit 0, or 1 when one is waiting or failed."""
    from datetime import UTC, datetime

    from labelproof.services.custody.retention import run_due

    try:
        at = None
        if now is not None:
            try:
                at = datetime.fromisoformat(now)
            except ValueError:
                raise InvalidInput(f"--now {now!r} is not an ISO 8601 time", field="now") from None
            at = at if at.tzinfo else at.replace(tzinfo=UTC)
        report = run_due(runtime(data_dir), now=at)
    except LabelproofError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        raise typer.Exit(2) from None
    echo_json(report.to_dict())
    for item in report.awaiting_approval:
        print(
            f"waiting: destruction request {item['request_id']} of project"
            f" {item['project_id']} was due {item['due_at']} and has no second-person approval",
            file=sys.stderr,
        )
    for item in report.failed:
        print(f"failed: request {item['request_id']}: {item['error']}", file=sys.stderr)
    if report.awaiting_approval or report.failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    from labelproof.cli.admin import project_app, user_app

    app.add_typer(certificate_app, name="certificate")
    app.add_typer(keys_app, name="keys")
    project_app.command("destroy")(domain_errors(_destroy))
    project_app.command("close")(domain_errors(_close))
    project_app.command("reopen")(domain_errors(_reopen))
    app.add_typer(custody_app, name="custody")
    user_app.command("clearance")(domain_errors(_clearance))
