"""The ``labelproof`` command as a user runs it: a real subprocess on a fresh data dir."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.world import png_bytes


def run(*args: str, data_dir: Path, ok: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LABELPROOF_DATA_DIR": str(data_dir)}
    env.pop("LABELPROOF_DATABASE_URL", None)
    proc = subprocess.run(
        [sys.executable, "-m", "labelproof", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if ok:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_init_user_project_upload_save_show(tmp_path: Path) -> None:
    d = tmp_path / "data"
    out = run("init", "--email", "boss@x.test", "--org", "X", "--slug", "x", data_dir=d).stdout
    assert "password, shown once:" in out
    out = run("user", "create", "ann@x.test", "--as", "boss@x.test", data_dir=d).stdout
    assert out.startswith("user 2 ann@x.test")
    assert run("project", "create", "Roads", "--as", "boss@x.test", data_dir=d).stdout.startswith(
        "project 1 Roads"
    )
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps({"classes": [{"name": "car", "types": ["box"]}]}))
    run("project", "schema", "1", str(schema), "--as", "boss@x.test", data_dir=d)
    run("project", "member", "1", "ann@x.test", "annotator", "--as", "boss@x.test", data_dir=d)
    img = tmp_path / "road.png"
    img.write_bytes(png_bytes(40, 30))
    out = run("asset", "add", "1", str(img), "--as", "boss@x.test", data_dir=d).stdout
    assert out.strip() == "asset 1 road.png 40x30 task 1"
    items = tmp_path / "items.json"
    items.write_text(
        json.dumps(
            [
                {
                    "id": "c1",
                    "type": "box",
                    "label": "car",
                    "geometry": {"x": 1, "y": 2, "w": 3, "h": 4},
                }
            ]
        )
    )
    out = run(
        "annotations", "save", "1", str(items), "--as", "ann@x.test", "--key", "k1", data_dir=d
    ).stdout
    assert out.strip() == "task 1 revision 1"
    again = run(
        "annotations",
        "save",
        "1",
        str(items),
        "--as",
        "ann@x.test",
        "--key",
        "k1",
        "--base",
        "0",
        data_dir=d,
    ).stdout
    assert again.strip() == "task 1 revision 1 (already saved)"
    shown = json.loads(run("annotations", "show", "1", "--as", "ann@x.test", data_dir=d).stdout)
    assert shown["annotations"][0]["geometry"] == {"x": 1.0, "y": 2.0, "w": 3.0, "h": 4.0}


def test_cli_refuses_what_the_role_does_not_allow(tmp_path: Path) -> None:
    d = tmp_path / "data"
    run("init", "--email", "boss@x.test", data_dir=d)
    run("user", "create", "ann@x.test", "--as", "boss@x.test", data_dir=d)
    proc = run("project", "create", "Mine", "--as", "ann@x.test", data_dir=d, ok=False)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: only an organization admin may do this"
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("annotations", "show", "1", "--as", "ghost@x.test"), "no user 'ghost@x.test'"),
        (
            ("project", "create", "P", "--as", "boss@x.test", "--vertical", "space"),
            "vertical must be one of",
        ),
    ],
)
def test_cli_errors_are_one_line_exit_2(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    d = tmp_path / "data"
    run("init", "--email", "boss@x.test", data_dir=d)
    proc = run(*args, data_dir=d, ok=False)
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr


def test_demo_seeds_every_type_once(tmp_path: Path) -> None:
    d = tmp_path / "data"
    out = run("demo", data_dir=d).stdout
    assert out.count("@demo.labelproof.test") == 6
    second = run("demo", data_dir=d).stdout
    assert "already present" in second
    shown = json.loads(
        run("annotations", "show", "1", "--as", "auditor@demo.labelproof.test", data_dir=d).stdout
    )
    types = {a["type"] for a in shown["annotations"]}
    shown2 = json.loads(
        run("annotations", "show", "2", "--as", "auditor@demo.labelproof.test", data_dir=d).stdout
    )
    types |= {a["type"] for a in shown2["annotations"]}
    assert types == {
        "tag",
        "box",
        "rotated_box",
        "polygon",
        "polyline",
        "mask",
        "keypoints",
        "cuboid",
    }
