"""``labelproof suggestions``: what annotators did with model pre-labels, and the edit rate."""

from __future__ import annotations

from typing import Annotated

import typer

from labelproof.cli._common import AsUser, DataDir, acting, domain_errors, echo_json, runtime
from labelproof.services import suggestions

suggestions_app = typer.Typer(
    help="Model suggestions (pre-labels): outcomes and edit rate.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(suggestions_app, name="suggestions")


@suggestions_app.command("figures")
@domain_errors
def figures(
    project_id: int,
    as_user: AsUser,
    task: Annotated[int | None, typer.Option(help="Only this task of the project.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Accepted, edited, deleted and pending suggestions with the edit, deletion and
    acceptance rates, overall, per annotator and per label (JSON)."""
    rt = runtime(data_dir)
    with rt.read() as db:
        echo_json(suggestions.figures(db, acting(db, as_user), project_id=project_id, task_id=task))
