"""A live connector to a running Label Studio server.

* :class:`LabelStudioClient` — the REST API over ``httpx`` (projects, tasks, predictions,
  annotations, users), with clear errors naming the URL and the HTTP status.
* :func:`pull` — a project's tasks with their annotations and predictions as a labelproof
  :class:`~labelproof.formats.Dataset`, read by the Label Studio codec
  (``labelproof.formats.labelstudio``): image id = task id, human annotations with
  ``score=None``, predictions with their score.
* :func:`push` — a dataset's annotations into a project's existing tasks, as predictions
  (pre-labels, with a model version) or as annotations.
* :func:`import_images` and :func:`label_config_for` — set up a project from a dataset.
* :func:`compare` and :func:`agreement` — quality figures by ``labelproof.metrics``.

Label Studio itself never runs inside labelproof: it is a separate server (see
``docs/connectors.md``). This module needs ``httpx``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from labelproof.connectors._ls_http import (
    DEFAULT_PAGE_SIZE,
    DEFAULT_TIMEOUT_S,
    LabelStudioClient,
    RemoteError,
)
from labelproof.connectors._ls_qa import (
    Agreement,
    Comparison,
    RegionAgreement,
    agreement,
    compare,
)
from labelproof.connectors._ls_schema import (
    Control,
    ProjectSchema,
    label_config_for,
    project_schema,
)
from labelproof.connectors._ls_tasks import image_name, read_tasks, results_for
from labelproof.errors import InvalidInput
from labelproof.formats.model import Dataset, Image
from labelproof.formats.report import LossReport, where

Include = Literal["all", "annotations", "predictions"]
MatchBy = Literal["file_name", "id"]


def pull_with_report(
    client: LabelStudioClient, project_id: int, *, include: Include = "all"
) -> tuple[Dataset, LossReport]:
    """:func:`pull` and the codec's loss report (tasks it could not place, e.g. a task
    with neither a sized region nor ``data.labelproof_size``, are listed there)."""
    if include not in ("all", "annotations", "predictions"):
        raise InvalidInput(
            f"include: one of all, annotations, predictions; got {include!r}", field="include"
        )
    project = client.get_project(project_id)
    schema = project_schema(project)
    tasks = client.tasks(project_id)
    title = str(project.get("title") or f"project-{project_id}")
    return read_tasks(tasks, schema, include=include, name=title)


def pull(client: LabelStudioClient, project_id: int, *, include: Include = "all") -> Dataset:
    """A project's tasks as a Dataset (see the module docstring). ``include`` keeps
    annotations, predictions or both; several annotations of a task all land on its image.
    Tasks come page by page from ``/api/tasks/?fields=all`` (Label Studio's one-shot JSON
    export is deprecated and gave no prediction regions when tried)."""
    return pull_with_report(client, project_id, include=include)[0]


@dataclass(frozen=True)
class PushOutcome:
    """What :func:`push` did: ``created`` predictions or annotations holding ``regions``
    regions; images with no matching task; the write losses (regions no control takes)."""

    project_id: int
    as_predictions: bool
    model_version: str | None
    created: int
    regions: int
    task_ids: Mapping[int, int]
    """image id -> the Label Studio task id it was pushed to."""
    unmatched_images: tuple[str, ...]
    report: LossReport

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.project_id,
            "as": "predictions" if self.as_predictions else "annotations",
            "model_version": self.model_version,
            "created": self.created,
            "regions": self.regions,
            "unmatched_images": list(self.unmatched_images),
            "report": self.report.to_dict(),
        }


def _task_ids(
    client: LabelStudioClient, project_id: int, schema: ProjectSchema, dataset: Dataset, by: MatchBy
) -> tuple[dict[int, int], list[str]]:
    tasks = client.tasks(project_id, with_results=False)
    mapping: dict[int, int] = {}
    missing: list[str] = []
    if by == "id":
        ids = {int(t["id"]) for t in tasks}
        for im in dataset.images:
            if im.id in ids:
                mapping[im.id] = im.id
            else:
                missing.append(f"{im.file_name} (id {im.id})")
        return mapping, missing
    by_name: dict[str, list[int]] = {}
    for t in tasks:
        by_name.setdefault(image_name(t, schema.image_key), []).append(int(t["id"]))
    for im in dataset.images:
        found = by_name.get(im.file_name, [])
        if len(found) > 1:
            raise InvalidInput(
                f"{im.file_name}: {len(found)} tasks of project {project_id} show an image of "
                f"this name (tasks {found[:5]}); push with match_by='id' or task_ids",
                field="match_by",
            )
        if found:
            mapping[im.id] = found[0]
        else:
            missing.append(im.file_name)
    return mapping, missing


def push(
    client: LabelStudioClient,
    project_id: int,
    dataset: Dataset,
    *,
    as_predictions: bool = True,
    model_version: str | None = "labelproof",
    match_by: MatchBy = "file_name",
    task_ids: Mapping[int, int] | None = None,
    include_empty: bool = True,
) -> PushOutcome:
    """Add the annotations of ``dataset`` to the existing tasks of a project.

    Each image becomes one prediction (``as_predictions``, with ``model_version`` and the
    mean region score) or one annotation (by the token's user) on its task. Images are
    matched to tasks by ``task_ids`` (image id -> task id) when given, else by ``match_by``:
    the image file name against the last part of the task's image URL, or the image id
    against the task id. Regions are bound to the project's controls by result type and
    label; a region no control accepts is dropped and counted in ``report``. With
    ``include_empty`` an image without annotations gets an empty prediction/annotation
    ("nothing here"). Raises InvalidInput when no image matches a task.
    """
    if match_by not in ("file_name", "id"):
        raise InvalidInput(f"match_by: file_name or id, got {match_by!r}", field="match_by")
    schema = project_schema(client.get_project(project_id))
    report = LossReport("labelstudio", "write")
    if task_ids is not None:
        known = {im.id for im in dataset.images}
        mapping = {int(k): int(v) for k, v in task_ids.items() if int(k) in known}
        missing = [im.file_name for im in dataset.images if im.id not in mapping]
    else:
        mapping, missing = _task_ids(client, project_id, schema, dataset, match_by)
    if dataset.images and not mapping:
        raise InvalidInput(
            f"no image of the dataset matches a task of project {project_id} by {match_by} "
            f"(first image: {missing[0]})",
            field="match_by",
        )
    for name in missing:
        report.drop("image with no task in the project", name)
    results = results_for(dataset, schema, report, as_predictions=as_predictions)
    created = regions = 0
    images = dataset.image_by_id()
    for iid, tid in mapping.items():
        found = results.regions.get(iid, [])
        if not found and not include_empty:
            continue
        if as_predictions:
            client.create_prediction(
                tid, found, score=results.scores.get(iid), model_version=model_version
            )
        else:
            client.create_annotation(tid, found)
        created += 1
        regions += len(found)
        if not found:
            report.notes.append(f"{where(iid, images[iid].file_name)}: pushed with no regions")
    return PushOutcome(
        project_id=project_id,
        as_predictions=as_predictions,
        model_version=model_version if as_predictions else None,
        created=created,
        regions=regions,
        task_ids=dict(mapping),
        unmatched_images=tuple(missing),
        report=report,
    )


def import_images(
    client: LabelStudioClient,
    project_id: int,
    dataset: Dataset,
    *,
    url_for: Callable[[Image], str],
) -> dict[int, int]:
    """Create one task per image of ``dataset`` (``data[<image field>] = url_for(image)``,
    ``data.labelproof_size = [width, height]``); returns image id -> new task id."""
    schema = project_schema(client.get_project(project_id))
    tasks = [
        {"data": {schema.image_key: url_for(im), "labelproof_size": [im.width, im.height]}}
        for im in dataset.images
    ]
    ids = client.import_tasks(project_id, tasks)
    return {im.id: tid for im, tid in zip(dataset.images, ids, strict=True)}


__all__ = [
    "DEFAULT_PAGE_SIZE",
    "DEFAULT_TIMEOUT_S",
    "Agreement",
    "Comparison",
    "Control",
    "Include",
    "LabelStudioClient",
    "MatchBy",
    "ProjectSchema",
    "PushOutcome",
    "RegionAgreement",
    "RemoteError",
    "agreement",
    "compare",
    "import_images",
    "label_config_for",
    "project_schema",
    "pull",
    "pull_with_report",
    "push",
]
