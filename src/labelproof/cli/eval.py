"""``labelproof eval``: COCO evaluation of a results file against a ground-truth file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

from labelproof.errors import InvalidInput, LabelproofError

if TYPE_CHECKING:
    from labelproof.metrics.coco.params import IouType


def _ints(text: str | None, name: str) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(v) for v in text.replace(" ", "").split(",") if v]
    except ValueError:
        raise typer.BadParameter(f"{name} must be comma-separated integers: {text!r}") from None


def _floats(text: str | None, name: str) -> list[float] | None:
    if text is None:
        return None
    try:
        return [float(v) for v in text.replace(" ", "").split(",") if v]
    except ValueError:
        raise typer.BadParameter(f"{name} must be comma-separated numbers: {text!r}") from None


def register(app: typer.Typer) -> None:
    @app.command("eval")
    def eval_coco(
        gt: Annotated[Path, typer.Option("--gt", help="COCO ground-truth JSON")],
        pred: Annotated[Path, typer.Option("--pred", help="COCO results JSON (a list)")],
        iou_type: Annotated[
            str, typer.Option("--iou-type", help="bbox, segm or keypoints")
        ] = "bbox",
        as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
        max_dets: Annotated[str | None, typer.Option("--max-dets", help="e.g. 1,10,100")] = None,
        iou_thrs: Annotated[str | None, typer.Option("--iou-thrs", help="e.g. 0.5,0.75")] = None,
        no_cats: Annotated[
            bool, typer.Option("--no-cats", help="class-agnostic (useCats=0)")
        ] = False,
        cat_ids: Annotated[str | None, typer.Option("--cat-ids", help="e.g. 1,3")] = None,
        img_ids: Annotated[str | None, typer.Option("--img-ids", help="e.g. 42,43")] = None,
        kpt_sigmas: Annotated[
            str | None, typer.Option("--kpt-sigmas", help="one OKS sigma per keypoint")
        ] = None,
    ) -> None:
        """Evaluate detections like pycocotools COCOeval (same 12/10 summary numbers)."""
        from rich.console import Console

        from labelproof.metrics.coco import evaluate_coco_files

        err = Console(stderr=True)
        params: dict[str, Any] = {"use_cats": not no_cats}
        for key, val in (
            ("max_dets", _ints(max_dets, "--max-dets")),
            ("iou_thrs", _floats(iou_thrs, "--iou-thrs")),
            ("cat_ids", _ints(cat_ids, "--cat-ids")),
            ("img_ids", _ints(img_ids, "--img-ids")),
            ("kpt_sigmas", _floats(kpt_sigmas, "--kpt-sigmas")),
        ):
            if val is not None:
                params[key] = val
        try:
            if iou_type not in ("bbox", "segm", "keypoints"):
                raise InvalidInput(
                    f"--iou-type must be bbox, segm or keypoints, got {iou_type!r}",
                    field="iou_type",
                )
            with err.status("evaluating", spinner="dots") as status:

                def stage(name: str) -> None:
                    status.update(name)

                kind = cast("IouType", iou_type)
                result = evaluate_coco_files(gt, pred, kind, stage=stage, **params)
        except LabelproofError as exc:
            err.print(f"error: {exc.message}", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(code=2) from None
        if as_json:
            import orjson

            sys.stdout.write(orjson.dumps(result.to_dict()).decode() + "\n")
            return
        _print_table(result)


def _print_table(result: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    out = Console()
    table = Table(title=f"COCO {result.params.iou_type} evaluation")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in zip(result.stat_names, result.stats, strict=True):
        table.add_row(name, f"{value:.3f}")
    out.print(table)
    cats = Table(title="AP@[.50:.95] per category")
    cats.add_column("category", justify="right")
    cats.add_column("AP", justify="right")
    for cid, ap in result.per_category_ap.items():
        cats.add_row("all" if cid == -1 else str(cid), "-" if ap < 0 else f"{ap:.3f}")
    out.print(cats)
    out.print(f"{result.n_images} images, {result.n_gt} ground truths, {result.n_dt} detections")
