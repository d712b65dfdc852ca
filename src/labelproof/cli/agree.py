"""``labelproof agree RATINGS.csv``: agreement between raters from a ratings table.

The table's first row names the raters, its first column names the units; each other cell is
one rater's value for one unit, empty when missing. Values may be numbers or labels.
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from labelproof.errors import InvalidFile, InvalidInput, LabelproofError

if TYPE_CHECKING:
    from labelproof.metrics.agreement import AgreementResult


@dataclass(frozen=True)
class RatingsTable:
    """A parsed ratings CSV: ``cells[r][u]`` is rater r's value for unit u (None = empty)."""

    raters: list[str]
    units: list[str]
    cells: list[list[str | None]]
    rows: list[int]
    """1-based file row of each unit, for error messages."""


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidFile(f"{path}: cannot read ({exc.strerror})", field="ratings") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InvalidFile(
            f"{path}: not UTF-8 text (byte {exc.start}, row {line}); save the table as UTF-8",
            field="ratings",
        ) from None


def read_ratings(path: Path) -> RatingsTable:
    """Parse a ratings CSV, raising ``InvalidInput``/``InvalidFile`` naming file, row, column."""
    text = _read_text(path)
    records = [
        (i, row)
        for i, row in enumerate(csv.reader(io.StringIO(text, newline="")), start=1)
        if any(cell.strip() for cell in row)
    ]
    if not records:
        raise InvalidFile(f"{path}: the table is empty", field="ratings")
    header_row, header = records[0]
    raters = [name.strip() for name in header[1:]]
    if not raters:
        raise InvalidFile(
            f"{path}: row {header_row} names no rater (the first row lists the raters after "
            "the unit column)",
            field="ratings",
        )
    seen: dict[str, int] = {}
    for col, name in enumerate(raters, start=2):
        if not name:
            raise InvalidInput(
                f"{path}: row {header_row}, column {col}: empty rater name", field="ratings"
            )
        if name in seen:
            raise InvalidInput(
                f"{path}: row {header_row}, column {col}: rater {name!r} repeats column "
                f"{seen[name]}",
                field="ratings",
            )
        seen[name] = col
    if len(records) == 1:
        raise InvalidFile(f"{path}: the table has raters but no unit rows", field="ratings")
    units: list[str] = []
    rows: list[int] = []
    cells: list[list[str | None]] = [[] for _ in raters]
    unit_rows: dict[str, int] = {}
    for line, row in records[1:]:
        if len(row) != len(header):
            raise InvalidInput(
                f"{path}: row {line} has {len(row)} cells but the header (row {header_row}) "
                f"has {len(header)}",
                field="ratings",
            )
        unit = row[0].strip()
        if not unit:
            raise InvalidInput(f"{path}: row {line}, column 1: empty unit name", field="ratings")
        if unit in unit_rows:
            raise InvalidInput(
                f"{path}: row {line}, column 1: unit {unit!r} repeats row {unit_rows[unit]}",
                field="ratings",
            )
        unit_rows[unit] = line
        units.append(unit)
        rows.append(line)
        for r, cell in enumerate(row[1:]):
            cells[r].append(cell.strip() or None)
    return RatingsTable(raters=raters, units=units, cells=cells, rows=rows)


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def table_values(
    table: RatingsTable,
    path: Path,
    *,
    metric: str,
    level: str,
    categories: list[str] | None = None,
) -> list[list[object]]:
    """Rater rows of values: all numbers if every cell is a finite number, else labels.

    Raises ``InvalidInput`` naming row and column for a non-number at the interval or ratio
    level (or ordinal without categories), and for an empty cell with ``fleiss``.
    """
    filled = [
        (r, u, cell)
        for u in range(len(table.units))
        for r, column in enumerate(table.cells)
        if (cell := column[u]) is not None
    ]
    if categories is not None:
        allowed = set(categories)
        for r, u, cell in filled:
            if cell not in allowed:
                raise InvalidInput(
                    f"{path}: row {table.rows[u]}, column {r + 2} (rater "
                    f"{table.raters[r]!r}): {cell!r} is not one of --categories",
                    field="ratings",
                )
    numbers = {(r, u): _number(cell) for r, u, cell in filled}
    all_numeric = categories is None and all(v is not None for v in numbers.values())
    if metric == "fleiss":
        for u in range(len(table.units)):
            for r, column in enumerate(table.cells):
                if column[u] is None:
                    raise InvalidInput(
                        f"{path}: row {table.rows[u]}, column {r + 2} (rater "
                        f"{table.raters[r]!r}) is empty; Fleiss' kappa needs every rater to "
                        "rate every unit (use --metric alpha for missing data)",
                        field="ratings",
                    )
    if not all_numeric and categories is None and level != "nominal":
        r, u, cell = next((r, u, c) for r, u, c in filled if numbers[(r, u)] is None)
        raise InvalidInput(
            f"{path}: row {table.rows[u]}, column {r + 2} (rater {table.raters[r]!r}): "
            f"{cell!r} is not a number; level {level!r} needs numbers",
            field="ratings",
        )
    return [
        [
            None if cell is None else (numbers[(r, u)] if all_numeric else cell)
            for u, cell in enumerate(column)
        ]
        for r, column in enumerate(table.cells)
    ]


def _describe(result: AgreementResult) -> str:
    ci = result.ci
    interval = "no interval" if ci is None else f"95% CI [{ci[0]:.4f}, {ci[1]:.4f}]"
    return (
        f"{result.metric} ({result.level}): {result.value:.6f}  {interval}\n"
        f"units {result.n_units}, pairable values {result.n_pairable}, raters "
        f"{result.n_raters}\n{result.definition}"
    )


def run_agree(
    path: Path,
    *,
    metric: str,
    level: str,
    bootstrap: int,
    seed: int,
    as_json: bool,
    categories: list[str] | None = None,
) -> str:
    """Compute the statistic for the CSV at ``path`` and return the text to print."""
    from labelproof.metrics.agreement import AgreementAccumulator

    accumulator = AgreementAccumulator(
        metric, level, categories=categories, bootstrap=bootstrap, seed=seed
    )
    table = read_ratings(path)
    values = table_values(table, path, metric=metric, level=level, categories=categories)
    if metric == "cohen" and len(table.raters) != 2:
        raise InvalidInput(
            f"{path}: Cohen's kappa needs exactly 2 raters, the header names "
            f"{len(table.raters)} ({', '.join(table.raters)}); use --metric fleiss or alpha",
            field="ratings",
        )
    for r, column in enumerate(values):
        for u, value in enumerate(column):
            accumulator.update(table.units[u], table.raters[r], value)
    try:
        result = accumulator.compute()
    except LabelproofError as exc:
        raise type(exc)(f"{path}: {exc.message}", field=exc.field, **exc.details) from None
    return json.dumps(result.to_dict()) if as_json else _describe(result)


def register(app: typer.Typer) -> None:
    @app.command("agree")
    def agree(
        ratings: Path = typer.Argument(..., help="CSV: raters across, units down."),
        metric: str = typer.Option("alpha", help="alpha | fleiss | cohen | percent"),
        level: str = typer.Option("nominal", help="nominal | ordinal | interval | ratio"),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
        bootstrap: int = typer.Option(1000, help="Bootstrap resamples of units (0: none)."),
        seed: int = typer.Option(0, help="Seed of the bootstrap."),
        categories: str | None = typer.Option(
            None, help="Ordered labels, comma-separated (ordinal labels): low,mid,high"
        ),
    ) -> None:
        """Agreement between raters (Krippendorff's alpha, Fleiss', Cohen's, percent)."""
        try:
            typer.echo(
                run_agree(
                    ratings,
                    metric=metric,
                    level=level,
                    bootstrap=bootstrap,
                    seed=seed,
                    as_json=as_json,
                    categories=None
                    if categories is None
                    else [c.strip() for c in categories.split(",") if c.strip()],
                )
            )
        except LabelproofError as exc:
            print(f"error: {exc.message}", file=sys.stderr)
            raise typer.Exit(2) from None
