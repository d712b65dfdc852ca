"""Set-up commands: ``init``, ``user``, ``project``, ``asset``, ``task``, ``annotations``.

Every command acts as a named user (``--as EMAIL``) through the same services the API
uses, so the CLI cannot do what that user's role does not allow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer

from labelproof.cli._common import AsUser, DataDir, acting, domain_errors, echo_json, runtime
from labelproof.errors import InvalidInput
from labelproof.services import accounts, assets, projects, revisions, schemas
from labelproof.services.context import new_request_id
from labelproof.store.db import transaction

user_app = typer.Typer(help="Users of an organisation.", no_args_is_help=True)
project_app = typer.Typer(help="Projects, members and label schemas.", no_args_is_help=True)
asset_app = typer.Typer(help="Upload images into a project.", no_args_is_help=True)
task_app = typer.Typer(help="Make tasks from assets.", no_args_is_help=True)
ann_app = typer.Typer(help="Read and save a task's annotations.", no_args_is_help=True)


def _read_json(path: Path) -> object:
    try:
        return orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such file") from None
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"{path}: not valid JSON ({exc})") from None


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")
    app.add_typer(project_app, name="project")
    app.add_typer(asset_app, name="asset")
    app.add_typer(task_app, name="task")
    app.add_typer(ann_app, name="annotations")

    @app.command("init")
    @domain_errors
    def init(
        email: Annotated[str, typer.Option(help="The first admin's email.")],
        org: Annotated[str, typer.Option(help="Organisation name.")] = "My organisation",
        slug: Annotated[str, typer.Option(help="Organisation slug.")] = "default",
        data_dir: DataDir = None,
    ) -> None:
        """Create the first organisation and its admin; prints the password once."""
        rt = runtime(data_dir)
        password = accounts.generate_password()
        with transaction(rt.sessions) as db:
            accounts.bootstrap(
                db,
                org_name=org,
                org_slug=slug,
                email=email,
                password=password,
                request_id=new_request_id(),
            )
        typer.echo(f"created {email} (superuser); password, shown once: {password}")


@user_app.command("create")
@domain_errors
def user_create(
    email: str,
    as_user: AsUser,
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    org_admin: Annotated[bool, typer.Option(help="Make an organisation admin.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Create a user in your organisation; prints a generated password once."""
    rt = runtime(data_dir)
    password = accounts.generate_password()
    with transaction(rt.sessions) as db:
        actor = acting(db, as_user)
        user = accounts.create_user(
            db,
            actor,
            org_id=actor.org_id,
            email=email,
            display_name=name,
            password=password,
            is_org_admin=org_admin,
        )
    typer.echo(f"user {user.id} {user.email}; password, shown once: {password}")


@project_app.command("create")
@domain_errors
def project_create(
    name: str,
    as_user: AsUser,
    vertical: str = "general",
    classification: str = "internal",
    deid_photos: str | None = None,
    blur_faces: bool = False,
    blur_plates: bool = False,
    data_dir: DataDir = None,
) -> None:
    """Create a project; --deid-photos off|strip_metadata (default: by classification)."""
    policy = None
    if deid_photos is not None or blur_faces or blur_plates:
        policy = {
            "photos": deid_photos or "strip_metadata",
            "blur_faces": blur_faces,
            "blur_plates": blur_plates,
        }
    rt = runtime(data_dir)
    with transaction(rt.sessions) as db:
        project = projects.create_project(
            db,
            acting(db, as_user),
            name=name,
            vertical=vertical,
            classification=classification,
            deid_policy=policy,
        )
    typer.echo(f"project {project.id} {project.name}")


@project_app.command("member")
@domain_errors
def project_member(
    project_id: int, email: str, role: str, as_user: AsUser, data_dir: DataDir = None
) -> None:
    """Give a user a role in a project."""
    rt = runtime(data_dir)
    with transaction(rt.sessions) as db:
        actor = acting(db, as_user)
        member, _user = projects.set_member(
            db, actor, project_id=project_id, user_id=acting(db, email).user_id, role=role
        )
    typer.echo(f"{email} is {member.role} in project {project_id}")


@project_app.command("schema")
@domain_errors
def project_schema(
    project_id: int, definition: Path, as_user: AsUser, note: str = "", data_dir: DataDir = None
) -> None:
    """Publish a label schema version from a JSON file ({"classes": [...]})."""
    rt = runtime(data_dir)
    with transaction(rt.sessions) as db:
        version = schemas.create_version(
            db,
            acting(db, as_user),
            project_id=project_id,
            definition=_read_json(definition),
            note=note,
        )
    typer.echo(f"schema version {version.version} of project {project_id}")


@project_app.command("import")
@domain_errors
def project_import(
    project_id: int,
    source: Annotated[Path, typer.Argument(help="A dataset folder, file or zip.")],
    as_user: AsUser,
    fmt: Annotated[str, typer.Option("--from", help="A format name, or auto.")] = "auto",
    prelabels: Annotated[bool, typer.Option(help="Import as pre-labels to review.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Import a dataset into a project (images and annotations); all or nothing."""
    from labelproof.services import transfer

    rt = runtime(data_dir)
    with rt.read() as db:
        actor = acting(db, as_user)
    result = transfer.import_dataset(
        rt, actor, project_id=project_id, path=source, fmt=fmt, prelabels=prelabels
    )
    typer.echo(
        f"imported {result.images} images and {result.annotations} annotations "
        f"({result.format}, confidence {result.confidence:.2f}); {result.tasks_created} new tasks"
    )


@project_app.command("export")
@domain_errors
def project_export(
    project_id: int,
    as_user: AsUser,
    to: Annotated[str, typer.Option("--to", help="A format name (labelproof formats).")],
    out: Annotated[Path, typer.Option("--out", help="An absent or empty folder.")],
    scope: Annotated[str, typer.Option(help="all, or accepted (QA-accepted work only).")] = "all",
    batch: Annotated[int | None, typer.Option(help="Only this batch's tasks.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Export a project's annotations and images in a format."""
    from labelproof.services import transfer

    rt = runtime(data_dir)
    with rt.read() as db:
        actor = acting(db, as_user)
    result = transfer.export_project(
        rt, actor, project_id=project_id, fmt=to, out=out, scope=scope, batch_id=batch
    )
    typer.echo(
        f"exported {result.images} images and {result.annotations} annotations as {to} "
        f"(schema version {result.schema_version}) to {out}"
    )


@asset_app.command("add")
@domain_errors
def asset_add(
    project_id: int,
    files: list[Path],
    as_user: AsUser,
    tasks: Annotated[bool, typer.Option(help="Also make a task per image.")] = True,
    data_dir: DataDir = None,
) -> None:
    """Upload images or zips of images (each checked as a hostile file), a task for each."""
    rt = runtime(data_dir)
    with rt.read() as db:
        actor = acting(db, as_user)
    for path in files:
        with open(path, "rb") as fh:
            if path.suffix.lower() == ".zip":
                stored = assets.upload_archive(
                    rt,
                    actor,
                    project_id=project_id,
                    filename=path.name,
                    stream=fh,
                    make_tasks=tasks,
                )
            else:
                stored = [
                    assets.upload_asset(
                        rt,
                        actor,
                        project_id=project_id,
                        filename=path.name,
                        stream=fh,
                        make_task=tasks,
                    )
                ]
        for asset, task in stored:
            line = f"asset {asset.id} {asset.filename} {asset.width}x{asset.height}"
            typer.echo(line + (f" task {task.id}" if task else ""))


@task_app.command("list")
@domain_errors
def task_list(project_id: int, as_user: AsUser, data_dir: DataDir = None) -> None:
    """List a project's tasks."""
    rt = runtime(data_dir)
    with transaction(rt.sessions) as db:
        rows, _total = assets.list_tasks(db, acting(db, as_user), project_id=project_id, limit=1000)
        for t in rows:
            typer.echo(f"task {t.id} asset {t.asset_id} {t.mode}")


@ann_app.command("show")
@domain_errors
def annotations_show(task_id: int, as_user: AsUser, data_dir: DataDir = None) -> None:
    """Print a task's current revision as JSON."""
    rt = runtime(data_dir)
    with transaction(rt.sessions) as db:
        rev = revisions.get_current(db, acting(db, as_user), task_id=task_id)
        echo_json(revisions.revision_to_dict(rev) if rev else None)


@ann_app.command("save")
@domain_errors
def annotations_save(
    task_id: int,
    source: Annotated[Path, typer.Argument(help="JSON list of annotations.")],
    as_user: AsUser,
    base: Annotated[int, typer.Option(help="The revision this was made from.")] = -1,
    key: Annotated[str, typer.Option(help="Idempotency key.")] = "",
    data_dir: DataDir = None,
) -> None:
    """Save a new revision of a task's annotations (base defaults to the current one)."""
    rt = runtime(data_dir)
    items = _read_json(source)
    with transaction(rt.sessions) as db:
        actor = acting(db, as_user)
        if base < 0:
            current = revisions.get_current(db, actor, task_id=task_id)
            base = current.number if current else 0
        result = revisions.save(
            db,
            actor,
            task_id=task_id,
            base_revision=base,
            annotations=items,
            idempotency_key=key or new_request_id(),
        )
    typer.echo(
        f"task {task_id} revision {result.revision.number}"
        f"{'' if result.created else ' (already saved)'}"
    )
