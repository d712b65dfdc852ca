"""``labelproof suggestions figures`` as a user runs it (a real subprocess)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_cli import run
from tests.world import png_bytes


def test_suggestion_figures_from_the_command_line(tmp_path: Path) -> None:
    d = tmp_path / "data"
    run("init", "--email", "boss@x.test", "--org", "X", "--slug", "x", data_dir=d)
    run("user", "create", "ann@x.test", "--as", "boss@x.test", data_dir=d)
    run("project", "create", "Roads", "--as", "boss@x.test", data_dir=d)
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps({"classes": [{"name": "car", "types": ["box"]}]}))
    run("project", "schema", "1", str(schema), "--as", "boss@x.test", data_dir=d)
    run("project", "member", "1", "ann@x.test", "annotator", "--as", "boss@x.test", data_dir=d)
    img = tmp_path / "road.png"
    img.write_bytes(png_bytes(40, 30))
    run("asset", "add", "1", str(img), "--as", "boss@x.test", data_dir=d)

    def items(*boxes: tuple[str, float, str]) -> Path:
        path = tmp_path / f"items{len(list(tmp_path.iterdir()))}.json"
        path.write_text(
            json.dumps(
                [
                    {
                        "id": i,
                        "type": "box",
                        "label": "car",
                        "geometry": {"x": x, "y": 2, "w": 3, "h": 4},
                        "source": src,
                        **({"confidence": 0.8} if src == "model" else {}),
                    }
                    for i, x, src in boxes
                ]
            )
        )
        return path

    first = items(("a", 1, "model"), ("b", 5, "model"), ("c", 9, "model"))
    run("annotations", "save", "1", str(first), "--as", "boss@x.test", "--key", "k1", data_dir=d)
    second = items(("a", 1, "human"), ("b", 6, "human"))
    run(
        "annotations",
        "save",
        "1",
        str(second),
        "--as",
        "ann@x.test",
        "--key",
        "k2",
        "--base",
        "1",
        data_dir=d,
    )
    out = json.loads(run("suggestions", "figures", "1", "--as", "boss@x.test", data_dir=d).stdout)
    assert out["overall"]["suggestions"] == 3
    assert (out["overall"]["accepted"], out["overall"]["edited"], out["overall"]["deleted"]) == (
        1,
        1,
        1,
    )
    assert out["overall"]["edit_rate"] == 1 / 3
    assert [row["user_id"] for row in out["by_annotator"]] == [2]
    # annotators do not read QA figures
    proc = run("suggestions", "figures", "1", "--as", "ann@x.test", data_dir=d, ok=False)
    assert proc.returncode == 2 and "may not qa.read" in proc.stderr
