"""``labelproof labelstudio ...``: pull from, push to and measure a running Label Studio.

The API token is read from an environment variable (``--token-env``, default
``LABEL_STUDIO_API_KEY``), never from the command line, so it stays out of shell history
and process lists.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar

import typer

from labelproof.errors import ConfigurationError, LabelproofError

if TYPE_CHECKING:
    from labelproof.connectors.labelstudio import Agreement, Comparison, LabelStudioClient

P = ParamSpec("P")
R = TypeVar("R")
DEFAULT_TOKEN_ENV = "LABEL_STUDIO_API_KEY"

Url = Annotated[
    str,
    typer.Option(
        "--url", envvar="LABEL_STUDIO_URL", help="Label Studio address, http(s)://host:port"
    ),
]
TokenEnv = Annotated[
    str,
    typer.Option("--token-env", help="Environment variable holding the API token."),
]
Project = Annotated[int, typer.Option("--project", help="Label Studio project id.")]
Timeout = Annotated[float, typer.Option("--timeout", help="Seconds allowed per request.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the full result as JSON.")]


def _errors(fn: Callable[P, R]) -> Callable[P, R]:
    """labelproof errors -> message on stderr and exit code 2, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except LabelproofError as exc:
            typer.echo(f"error: {exc.message}", err=True)
            raise typer.Exit(2) from None
        except ImportError as exc:
            typer.echo(f"error: the Label Studio connector needs httpx ({exc})", err=True)
            raise typer.Exit(2) from None

    return wrapper


def _client(url: str, token_env: str, timeout: float) -> LabelStudioClient:
    from labelproof.connectors.labelstudio import LabelStudioClient

    token = os.environ.get(token_env, "")
    if not token.strip():
        raise ConfigurationError(
            f"environment variable {token_env} is not set; put the Label Studio API token "
            "there (Account & Settings > Access Token)",
            field="token_env",
        )
    return LabelStudioClient(url, token, timeout=timeout)


def _echo_json(value: Any) -> None:
    import orjson

    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


def _num(v: float | None) -> str:
    return "-" if v is None else f"{v:.3f}"


def _print_comparison(c: Comparison) -> None:
    typer.echo(
        f"project {c.project_id}: {c.candidate} vs {c.reference}, threshold {c.threshold:g}; "
        f"{c.n_evaluated} evaluated of {c.n_tasks} tasks"
        + "".join(f", {n} {why}" for why, n in sorted(c.skipped.items()))
    )
    for type_name, s in c.by_type.items():
        o = s.overall
        typer.echo(
            f"{type_name}: P {_pct(o.precision)}  R {_pct(o.recall)}  F1 {_pct(o.f1)}  "
            f"mean similarity {_num(o.mean_similarity)}  (gt {o.n_gt}, pred {o.n_pred}, "
            f"tp {o.tp}, confusions {o.confusions})"
        )
        for title, table in (("class", s.per_class), ("annotator", s.per_annotator)):
            for name, st in table.items():
                typer.echo(
                    f"  {title} {name}: P {_pct(st.precision)}  R {_pct(st.recall)}  "
                    f"F1 {_pct(st.f1)}  mean similarity {_num(st.mean_similarity)}"
                )


def _print_agreement(a: Agreement) -> None:
    typer.echo(
        f"project {a.project_id}: {a.n_multi} of {a.n_tasks} tasks annotated more than once; "
        f"annotators: {', '.join(a.annotators) or '-'}"
    )
    for control, res in a.choices.items():
        if res is None:
            typer.echo(f"choices {control}: alpha undefined ({a.undefined[control]})")
        else:
            ci = f" [{res.ci[0]:.3f}, {res.ci[1]:.3f}]" if res.ci else ""
            typer.echo(
                f"choices {control}: Krippendorff's alpha {res.value:.3f}{ci} "
                f"({res.n_pairable} pairable tasks)"
            )
    for type_name, r in a.regions.items():
        s = r.summary
        typer.echo(
            f"{type_name}: mean matched similarity {_num(s.mean_iou)}, "
            f"{_pct(s.fraction_above)} >= {s.threshold:g}; {r.matched} pairs, "
            f"{r.unmatched} unmatched shapes"
        )


labelstudio_app = typer.Typer(
    name="labelstudio",
    help="Pull from, push to and measure a running Label Studio server.",
    no_args_is_help=True,
)


@labelstudio_app.command("projects")
@_errors
def projects(url: Url, token_env: TokenEnv = DEFAULT_TOKEN_ENV, timeout: Timeout = 30.0) -> None:
    """List the projects the token can see."""
    with _client(url, token_env, timeout) as client:
        for p in client.list_projects():
            typer.echo(f"{p.get('id')}\t{p.get('title')}\t{p.get('task_number', '?')} tasks")


@labelstudio_app.command("pull")
@_errors
def pull(
    url: Url,
    project: Project,
    out: Annotated[Path, typer.Option("--out", help="Output folder (absent or empty).")],
    to: Annotated[str, typer.Option("--to", help="Output format (see `labelproof formats`).")],
    token_env: TokenEnv = DEFAULT_TOKEN_ENV,
    include: Annotated[
        str, typer.Option("--include", help="all, annotations or predictions.")
    ] = "all",
    timeout: Timeout = 30.0,
) -> None:
    """Download a project's tasks and write them in any format, with a loss report."""
    import orjson

    from labelproof.connectors.labelstudio import pull_with_report
    from labelproof.formats import REPORT_NAME, get_codec
    from labelproof.formats._io import atomic_output

    codec = get_codec(to)
    with _client(url, token_env, timeout) as client:
        ds, read = pull_with_report(client, project, include=include)  # type: ignore[arg-type]
    with atomic_output(out) as tmp:
        write = codec.write(ds, tmp)
        report = {
            "from": f"labelstudio project {project} at {client.base_url}",
            "to": to,
            "read": read.to_dict(),
            "write": write.to_dict(),
        }
        (tmp / REPORT_NAME).write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    typer.echo(f"pulled {len(ds.images)} images, {len(ds)} annotations from project {project}")
    for line in read.summary_lines() + write.summary_lines():
        typer.echo(line)
    typer.echo(f"loss report: {out / REPORT_NAME}")


@labelstudio_app.command("push")
@_errors
def push(
    url: Url,
    project: Project,
    src: Annotated[Path, typer.Option("--src", help="Dataset folder, file or zip.")],
    token_env: TokenEnv = DEFAULT_TOKEN_ENV,
    source_format: Annotated[
        str, typer.Option("--from", help="Input format, or 'auto' to detect it.")
    ] = "auto",
    as_: Annotated[
        str, typer.Option("--as", help="predictions (pre-labels) or annotations.")
    ] = "predictions",
    model_version: Annotated[
        str, typer.Option("--model-version", help="Model version of the predictions.")
    ] = "labelproof",
    match_by: Annotated[
        str, typer.Option("--match-by", help="file_name or id: how images find their task.")
    ] = "file_name",
    empty: Annotated[
        bool, typer.Option("--empty/--no-empty", help="Push images without annotations too.")
    ] = True,
    as_json: AsJson = False,
    timeout: Timeout = 30.0,
) -> None:
    """Add a dataset's annotations to a project's tasks, as predictions or annotations."""
    from labelproof.connectors.labelstudio import push as do_push
    from labelproof.formats import read_dataset

    if as_ not in ("predictions", "annotations"):
        raise typer.BadParameter(f"--as must be predictions or annotations, got {as_!r}")
    ds, _, _, _ = read_dataset(src, source_format)
    with _client(url, token_env, timeout) as client:
        outcome = do_push(
            client,
            project,
            ds,
            as_predictions=as_ == "predictions",
            model_version=model_version,
            match_by=match_by,  # type: ignore[arg-type]
            include_empty=empty,
        )
    if as_json:
        _echo_json(outcome.to_dict())
        return
    typer.echo(
        f"created {outcome.created} {as_} with {outcome.regions} regions in project {project}"
    )
    if outcome.unmatched_images:
        typer.echo(f"{len(outcome.unmatched_images)} images matched no task")
    for line in outcome.report.summary_lines():
        typer.echo(line)


@labelstudio_app.command("compare")
@_errors
def compare(
    url: Url,
    project: Project,
    token_env: TokenEnv = DEFAULT_TOKEN_ENV,
    reference: Annotated[
        str,
        typer.Option(
            "--reference",
            help="annotations, ground_truth, predictions, or an annotator (id or e-mail).",
        ),
    ] = "annotations",
    candidate: Annotated[
        str,
        typer.Option(
            "--candidate", help="predictions, annotators, or an annotator (id or e-mail)."
        ),
    ] = "predictions",
    threshold: Annotated[float, typer.Option("--threshold", help="Match threshold.")] = 0.5,
    as_json: AsJson = False,
    timeout: Timeout = 30.0,
) -> None:
    """Match predictions or annotators against a reference: per class and per annotator."""
    from labelproof.connectors.labelstudio import compare as do_compare

    with _client(url, token_env, timeout) as client:
        result = do_compare(
            client, project, reference=reference, candidate=candidate, threshold=threshold
        )
    if as_json:
        _echo_json(result.to_dict())
    else:
        _print_comparison(result)


@labelstudio_app.command("agreement")
@_errors
def agreement(
    url: Url,
    project: Project,
    token_env: TokenEnv = DEFAULT_TOKEN_ENV,
    iou_threshold: Annotated[
        float, typer.Option("--iou-threshold", help="Similarity counted as agreeing.")
    ] = 0.5,
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", help="Bootstrap resamples for alpha (0 = none).")
    ] = 1000,
    as_json: AsJson = False,
    timeout: Timeout = 30.0,
) -> None:
    """Agreement between annotators: Krippendorff's alpha on choices, matched IoU on regions."""
    from labelproof.connectors.labelstudio import agreement as do_agreement

    with _client(url, token_env, timeout) as client:
        result = do_agreement(client, project, iou_threshold=iou_threshold, bootstrap=bootstrap)
    if as_json:
        _echo_json(result.to_dict())
    else:
        _print_agreement(result)


def register(app: typer.Typer) -> None:
    app.add_typer(labelstudio_app, name="labelstudio")
