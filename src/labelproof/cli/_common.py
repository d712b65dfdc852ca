"""Shared pieces of the CLI commands: options, the runtime, the acting user, errors."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from labelproof.config import load_settings
from labelproof.errors import LabelproofError, NotFound
from labelproof.services.accounts import actor_for
from labelproof.services.context import Actor, Runtime, open_runtime
from labelproof.store.models import User

P = ParamSpec("P")
R = TypeVar("R")

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", envvar="LABELPROOF_DATA_DIR", help="The data directory."),
]
AsUser = Annotated[
    str,
    typer.Option(
        "--as",
        envvar="LABELPROOF_USER",
        help="Act as this user (email); the services check their permissions.",
    ),
]


def runtime(data_dir: Path | None) -> Runtime:
    return open_runtime(load_settings(data_dir))


def acting(db: Session, email: str) -> Actor:
    user = db.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFound(f"no user {email!r} in this installation")
    return actor_for(user)


def fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def domain_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn labelproof errors into a message on stderr and exit code 2, no traceback."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except LabelproofError as exc:
            typer.echo(f"error: {exc.message}", err=True)
            raise typer.Exit(2) from None

    return wrapper


def echo_json(value: Any) -> None:
    import orjson

    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")
