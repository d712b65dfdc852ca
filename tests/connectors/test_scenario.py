"""The connector end to end, on a real Label Studio ("live", skipped without the peer venv)
and on the in-memory stand-in ("fake", always run): push predictions, annotate as humans,
pull back, compare and measure agreement; figures checked against ``labelproof.metrics``
and the ``krippendorff`` package run directly."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from labelproof.connectors.labelstudio import (
    LabelStudioClient,
    agreement,
    compare,
    pull,
    pull_with_report,
)
from labelproof.formats.model import Dataset, Image
from labelproof.metrics import MatchAnnotation, match, matched_iou_agreement
from tests.connectors.conftest import LiveLabelStudio, png_bytes
from tests.connectors.fake_ls import FakeLabelStudio
from tests.connectors.scenario import (
    ADMIN_EMAIL,
    HUMAN,
    HUMAN2_EMAIL,
    MODEL,
    SIZES,
    Scenario,
    Shape,
    build,
)

REL, ABS = 1e-12, 1e-9


class Env:
    def __init__(self, client: LabelStudioClient, scenario: Scenario, live: Any) -> None:
        self.client, self.s, self.live = client, scenario, live


@pytest.fixture(scope="module", params=["fake", pytest.param("live", marks=pytest.mark.slow)])
def env(request: pytest.FixtureRequest) -> Iterator[Env]:
    if request.param == "fake":
        fake = FakeLabelStudio()
        client = LabelStudioClient("http://ls.test", fake.token, transport=fake.transport())
        with client:
            yield Env(client, build(client, lambda im: f"http://images.test/{im.file_name}"), None)
        return
    live: LiveLabelStudio = request.getfixturevalue("live_ls")
    base, folder = request.getfixturevalue("image_server")
    for shade, (name, (w, h)) in enumerate(SIZES.items()):
        (folder / name).write_bytes(png_bytes(w, h, 60 * shade))
    with LabelStudioClient(live.url, live.token, page_size=2) as client:  # 2: paginate
        yield Env(client, build(client, lambda im: f"{base}/{im.file_name}"), live)


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(a, b, rel_tol=REL, abs_tol=ABS)
    return bool(a == b)


def _key(t: tuple[Any, ...]) -> tuple[str, str, str]:
    """Sort key of (type, label, geometry, ...) robust to last-digit float noise."""

    def rounded(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: rounded(x) for k, x in sorted(v.items())}
        if isinstance(v, list | tuple):
            return [rounded(x) for x in v]
        return round(v, 6) if isinstance(v, float) else v

    return t[0], t[1], repr(rounded(t[2]))


def _shapes(ds: Dataset, image_id: int) -> list[tuple[str, str, dict[str, Any], float | None]]:
    cats = ds.category_by_id()
    out = []
    for a in ds.iter_annotations():
        if a.image_id == image_id:
            g = {k: v for k, v in a.geometry.items() if k != "holes"}
            out.append((a.type, cats[a.label].name, g, a.score))
    return sorted(out, key=_key)


def test_images_are_served_to_label_studio(env: Env) -> None:
    tasks = env.client.tasks(env.s.project_id, with_results=False)
    assert sorted(t["id"] for t in tasks) == sorted(env.s.task_ids.values())
    if env.live is not None:
        import httpx

        url = next(t["data"]["image"] for t in tasks if t["id"] == env.s.task_ids["b.png"])
        from PIL import Image as PILImage

        with PILImage.open(__import__("io").BytesIO(httpx.get(url).content)) as im:
            assert im.size == SIZES["b.png"]


def test_predictions_round_trip_to_float_precision(env: Env) -> None:
    assert env.s.created == 3  # c.png got an empty prediction
    ds, report = pull_with_report(env.client, env.s.project_id, include="predictions")
    by_name = {im.file_name: im for im in ds.images}
    sent = env.s.dataset
    for im in sent.images:
        got = by_name[im.file_name]
        if im.file_name == "c.png":
            assert _shapes(ds, got.id) == []
            continue
        assert got.id == env.s.task_ids[im.file_name]
        assert (got.width, got.height) == (im.width, im.height)
        want, have = _shapes(sent, im.id), _shapes(ds, got.id)
        assert len(want) == len(have)
        for w, h in zip(want, have, strict=True):
            assert w[:2] == h[:2] and w[3] == h[3], (w, h)
            assert _close(w[2], h[2]), (w, h)
    assert report.by_type == {"box": 3, "polygon": 1, "tag": 2}


def test_human_annotations_pull_back_in_pixels(env: Env) -> None:
    ds = pull(env.client, env.s.project_id, include="annotations")
    by_name = {im.file_name: im for im in ds.images}
    for name in SIZES:
        want = [(t, lab, g) for who in HUMAN.values() for t, lab, g in who.get(name, [])]
        have = [(t, lab, g) for t, lab, g, score in _shapes(ds, by_name[name].id)]
        assert all(score is None for *_, score in _shapes(ds, by_name[name].id))
        assert len(have) == len(want)
        for w, h in zip(sorted(want, key=_key), sorted(have, key=_key), strict=True):
            assert w[:2] == h[:2] and _close(w[2], h[2]), (w, h)


def _as_match(shapes: list[tuple[str, str, dict[str, Any]]], kind: str) -> list[MatchAnnotation]:
    return [MatchAnnotation(lab, g, t) for t, lab, g in shapes if t == kind]


def _pred_shapes(s: Scenario, name: str) -> list[tuple[str, str, dict[str, Any]]]:
    iid = next(im.id for im in s.dataset.images if im.file_name == name)
    return [(t, lab, g) for t, lab, g, _ in _shapes(s.dataset, iid)]


def _direct(
    ref: dict[str, list[Shape]], cand: dict[str, list[Any]], names: list[str]
) -> dict[str, dict[str, float]]:
    """Totals of labelproof.metrics.match run task by task."""
    out: dict[str, dict[str, float]] = {}
    for kind in ("box", "polygon", "tag"):
        tot = {"n_gt": 0, "n_pred": 0, "tp": 0, "confusions": 0, "sim": 0.0}
        for name in names:
            gt = _as_match(ref.get(name, []), kind)
            pr = _as_match(cand.get(name, []), kind)
            if not gt and not pr:
                continue
            r = match(gt, pr, type_name=kind, threshold=0.5)
            tot["n_gt"] += r.n_gt
            tot["n_pred"] += r.n_pred
            tot["tp"] += len(r.matches)
            tot["confusions"] += len(r.confusions)
            tot["sim"] += sum(m.similarity for m in r.matches)
        out[kind] = tot
    return out


def _check(summary: Any, want: dict[str, float]) -> None:
    o = summary.overall
    assert (o.n_gt, o.n_pred, o.tp, o.confusions) == (
        want["n_gt"],
        want["n_pred"],
        want["tp"],
        want["confusions"],
    )
    assert o.precision == pytest.approx(want["tp"] / want["n_pred"], rel=1e-12)
    assert o.recall == pytest.approx(want["tp"] / want["n_gt"], rel=1e-12)
    if want["tp"]:
        assert o.mean_similarity == pytest.approx(want["sim"] / want["tp"], rel=1e-9)


def test_compare_predictions_equals_metrics_match(env: Env) -> None:
    result = compare(env.client, env.s.project_id)  # annotations vs predictions
    preds = {n: _pred_shapes(env.s, n) for n in SIZES}
    want = _direct(HUMAN[ADMIN_EMAIL], preds, list(SIZES))
    assert result.n_evaluated == 3 and result.n_tasks == 3
    assert sorted(result.by_type) == ["box", "polygon", "tag"]
    for kind, summary in result.by_type.items():
        _check(summary, want[kind])
        assert list(summary.per_annotator) == [f"model {MODEL}"]
    box = result.by_type["box"]
    assert box.confusion == {("dog", "cat"): 1}  # b.png: a dog predicted as a cat
    assert box.per_class["cat"].n_gt == 2 and box.per_class["dog"].n_gt == 2
    as_dict = result.to_dict()
    assert as_dict["by_type"]["box"]["overall"]["tp"] == want["box"]["tp"]


def test_compare_annotator_against_admin(env: Env) -> None:
    result = compare(env.client, env.s.project_id, reference=ADMIN_EMAIL, candidate="annotators")
    want = _direct(HUMAN[ADMIN_EMAIL], HUMAN[HUMAN2_EMAIL], ["a.png", "b.png"])
    assert result.n_evaluated == 2 and result.skipped == {"no candidate": 1}
    for kind, summary in result.by_type.items():
        _check(summary, want[kind])
        assert list(summary.per_annotator) == [HUMAN2_EMAIL]
    by_id = compare(env.client, env.s.project_id, candidate=env.s.users[HUMAN2_EMAIL])
    assert by_id.by_type["box"].overall == result.by_type["box"].overall


def test_agreement_equals_reference_implementations(env: Env) -> None:
    import krippendorff

    result = agreement(env.client, env.s.project_id, bootstrap=0)
    assert result.annotators == (ADMIN_EMAIL, HUMAN2_EMAIL) and result.n_multi == 2
    # units a, b, c; the admin chose indoor, indoor, nothing; human2 indoor, outdoor, -
    data = np.array([[0, 0, np.nan], [0, 1, np.nan]])
    want = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    assert result.choices["scene"] is not None
    assert result.choices["scene"].value == pytest.approx(want, abs=1e-12)
    for kind in ("box", "polygon"):
        sims, unmatched = [], 0
        for name in ("a.png", "b.png"):
            a = _as_match(HUMAN[ADMIN_EMAIL][name], kind)
            b = _as_match(HUMAN[HUMAN2_EMAIL][name], kind)
            r = match(a, b, type_name=kind, threshold=1e-9, match_across_labels=False)
            sims += [m.similarity for m in r.matches]
            unmatched += r.n_gt + r.n_pred - 2 * len(r.matches)
        got = result.regions[kind]
        want_iou = matched_iou_agreement(sims, 0.5)
        assert got.summary.mean_iou == pytest.approx(want_iou.mean_iou, rel=1e-9)
        assert (got.summary.fraction_above, got.summary.n) == (want_iou.fraction_above, want_iou.n)
        assert (got.matched, got.unmatched) == (len(sims), unmatched)
    assert result.regions["box"].unmatched == 2  # the admin's dog on a, human2's cat on b


def test_cli_pull_and_compare(env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if env.live is None:
        pytest.skip("the CLI opens its own connection: live server only")
    import orjson
    from typer.testing import CliRunner

    from labelproof.cli import app

    monkeypatch.setenv("LS_TOKEN", env.live.token)
    common = ["--url", env.live.url, "--token-env", "LS_TOKEN", "--project", str(env.s.project_id)]
    runner = CliRunner()
    out = tmp_path / "coco"
    res = runner.invoke(app, ["labelstudio", "pull", *common, "--out", str(out), "--to", "coco"])
    assert res.exit_code == 0, res.output
    coco = out / "annotations" / "instances_default.json"
    assert (out / "labelproof-loss-report.json").is_file()
    doc = orjson.loads(coco.read_bytes())
    assert len(doc["images"]) == 3
    res = runner.invoke(app, ["labelstudio", "compare", *common, "--json"])
    assert res.exit_code == 0, res.output
    assert orjson.loads(res.stdout) == orjson.loads(
        orjson.dumps(compare(env.client, env.s.project_id).to_dict())
    )
    res = runner.invoke(app, ["labelstudio", "agreement", *common, "--bootstrap", "0"])
    assert res.exit_code == 0 and "Krippendorff's alpha" in res.output
    monkeypatch.setenv("LS_TOKEN", "wrong-token-0000")
    res = runner.invoke(app, ["labelstudio", "compare", *common])
    assert res.exit_code == 2 and "HTTP 401" in res.output and "Traceback" not in res.output


def test_personal_access_token(env: Env) -> None:
    if env.live is None:
        pytest.skip("personal access tokens: live server only")
    refresh = env.client.request("POST", "/api/token/")["token"]
    with LabelStudioClient(env.live.url, refresh) as pat:
        assert "personal access token" in repr(pat)
        assert any(p["id"] == env.s.project_id for p in pat.list_projects())
        pat._access = "eyJ.expired.token"  # an expired access token is refreshed once
        assert pat.get_project(env.s.project_id)["title"] == "labelproof scenario"


def test_images_without_a_task_are_reported(env: Env) -> None:
    from labelproof.connectors.labelstudio import push
    from labelproof.errors import InvalidInput

    stray = Dataset(images=[Image(99, "nowhere.png", 10, 10)])
    with pytest.raises(InvalidInput, match="no image of the dataset matches a task"):
        push(env.client, env.s.project_id, stray)
