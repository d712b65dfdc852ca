"""``labelproof qa``: the QA workflow's set-up and figures from the command line.

Every command acts as a named user (``--as EMAIL``) through the same services as the API.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from labelproof.cli._common import AsUser, DataDir, acting, domain_errors, echo_json, runtime
from labelproof.errors import InvalidInput
from labelproof.services.qa import batches, calibration, figures, policy, qualify, queue

qa_app = typer.Typer(
    help="Quality workflow: policy, SOP, batches, calibration, figures.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(qa_app, name="qa")


def _json_file(path: Path) -> Any:
    try:
        return orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such file") from None
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"{path}: not valid JSON ({exc})") from None


def _setting(text: str) -> tuple[str, Any]:
    key, sep, raw = text.partition("=")
    if not sep:
        raise InvalidInput(f"--set {text!r}: expected KEY=VALUE", field="set")
    try:
        return key, orjson.loads(raw)
    except orjson.JSONDecodeError:
        return key, raw


@qa_app.command("policy")
@domain_errors
def qa_policy(
    project_id: int,
    as_user: AsUser,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="KEY=VALUE (JSON value), repeatable.")
    ] = None,
    note: str = "",
    data_dir: DataDir = None,
) -> None:
    """Show the quality policy, or append a version with --set KEY=VALUE."""
    rt = runtime(data_dir)
    if not set_:
        with rt.read() as db:
            p = policy.get_policy(db, acting(db, as_user), project_id=project_id)
        echo_json({"version": p.version, "settings": p.settings})
        return
    settings = dict(_setting(s) for s in set_)
    with rt.write() as db:
        row = policy.set_policy(
            db, acting(db, as_user), project_id=project_id, settings=settings, note=note
        )
    echo_json({"version": row.version, "settings": row.settings})


@qa_app.command("sop")
@domain_errors
def qa_sop(
    project_id: int,
    guidelines: Path,
    as_user: AsUser,
    item: Annotated[list[str] | None, typer.Option(help="A self-check item, repeatable.")] = None,
    changelog: str = "",
    data_dir: DataDir = None,
) -> None:
    """Publish an SOP version from a guidelines text file."""
    try:
        text = guidelines.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"{guidelines}: no such file") from None
    rt = runtime(data_dir)
    with rt.write() as db:
        sop = policy.publish_sop(
            db,
            acting(db, as_user),
            project_id=project_id,
            guidelines=text,
            checklist=item or [],
            changelog=changelog,
        )
    typer.echo(f"SOP version {sop.version} with {len(sop.checklist)} self-check items")


@qa_app.command("batch")
@domain_errors
def qa_batch(
    project_id: int,
    name: str,
    kind: str,
    as_user: AsUser,
    asset: Annotated[list[int] | None, typer.Option(help="An asset id, repeatable.")] = None,
    mode: str = "single",
    data_dir: DataDir = None,
) -> None:
    """Create a batch (calibration | production | gold) with one task per --asset."""
    rt = runtime(data_dir)
    with rt.write() as db:
        actor = acting(db, as_user)
        batch = batches.create_batch(db, actor, project_id=project_id, name=name, kind=kind)
        rows = (
            batches.add_tasks(db, actor, batch_id=batch.id, asset_ids=asset, mode=mode)
            if asset
            else []
        )
    echo_json({"batch_id": batch.id, "kind": kind, "task_ids": [r.task_id for r in rows]})


@qa_app.command("answer")
@domain_errors
def qa_answer(task_id: int, annotations: Path, as_user: AsUser, data_dir: DataDir = None) -> None:
    """Set the known answer of a gold or calibration task from a JSON list."""
    rt = runtime(data_dir)
    items = _json_file(annotations)
    with rt.write() as db:
        answer = batches.set_answer(db, acting(db, as_user), task_id=task_id, annotations=items)
    typer.echo(f"answer of task {task_id}: {len(answer.annotations)} annotations")


@qa_app.command("evaluate")
@domain_errors
def qa_evaluate(batch_id: int, as_user: AsUser, data_dir: DataDir = None) -> None:
    """Score a calibration batch and record who qualifies (prints the evidence)."""
    rt = runtime(data_dir)
    with rt.write() as db:
        report = calibration.evaluate(db, acting(db, as_user), batch_id=batch_id)
    echo_json(report)


@qa_app.command("qualify")
@domain_errors
def qa_qualify(
    project_id: int,
    email: str,
    status: str,
    as_user: AsUser,
    reason: Annotated[str, typer.Option(help="Why (required).")] = "",
    data_dir: DataDir = None,
) -> None:
    """Set a member's qualification by hand (qualified, more_review, paused, ...)."""
    rt = runtime(data_dir)
    with rt.write() as db:
        row = qualify.set_status(
            db,
            acting(db, as_user),
            project_id=project_id,
            user_id=acting(db, email).user_id,
            status=status,
            reason=reason,
        )
    typer.echo(f"{email}: {row.status}")


@qa_app.command("expire")
@domain_errors
def qa_expire(project_id: int, as_user: AsUser, data_dir: DataDir = None) -> None:
    """Return claims whose time ran out to the queue (claims also do this)."""
    from labelproof.services.permissions import Action, authorize

    rt = runtime(data_dir)
    with rt.write() as db:
        authorize(db, acting(db, as_user), project_id, Action.BATCH_MANAGE)
        n = queue.expire_claims(db, project_id)
    typer.echo(f"{n} claims expired")


@qa_app.command("figures")
@domain_errors
def qa_figures(project_id: int, as_user: AsUser, data_dir: DataDir = None) -> None:
    """Quality figures with their definitions and n, from the event log."""
    rt = runtime(data_dir)
    with rt.read() as db:
        echo_json(figures.figures(db, acting(db, as_user), project_id=project_id))
