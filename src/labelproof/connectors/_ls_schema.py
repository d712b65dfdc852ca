"""A Label Studio project's labeling configuration: its controls, labels and image field.

Only the parts labelproof maps are kept: ``RectangleLabels``, ``PolygonLabels``,
``KeyPointLabels``, ``BrushLabels`` and ``Choices`` controls bound to an ``Image`` object.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import quoteattr

from labelproof.errors import InvalidInput
from labelproof.formats.model import Dataset

CONTROL_KINDS = {
    "RectangleLabels": "rectanglelabels",
    "PolygonLabels": "polygonlabels",
    "KeyPointLabels": "keypointlabels",
    "BrushLabels": "brushlabels",
    "Choices": "choices",
}
"""Label Studio control tag -> the ``type`` of the results it makes."""

_LABEL_TAGS = ("Label", "Choice")


@dataclass(frozen=True)
class Control:
    """One control tag: its ``name`` (a result's ``from_name``), the result ``kind``, the
    object it labels (``to_name``) and its label values (empty: any label)."""

    name: str
    kind: str
    to_name: str
    labels: tuple[str, ...]


@dataclass(frozen=True)
class ProjectSchema:
    """The controls of a labeling configuration and the data field holding the image."""

    controls: tuple[Control, ...]
    image_key: str
    """The task ``data`` key of the image (``$image`` in ``<Image value="$image"/>``)."""

    @property
    def labels(self) -> tuple[str, ...]:
        """Every label value, in order of first appearance."""
        return tuple(dict.fromkeys(v for c in self.controls for v in c.labels))

    def control_for(self, kind: str, label: str) -> Control | None:
        """The control of result type ``kind`` that allows ``label`` (the first one listing
        it, else the first with no fixed labels); None when the project has none."""
        same = [c for c in self.controls if c.kind == kind]
        return next((c for c in same if label in c.labels), None) or next(
            (c for c in same if not c.labels), None
        )

    @classmethod
    def parse(cls, label_config: str) -> ProjectSchema:
        """Read a labeling configuration XML; InvalidInput naming the problem otherwise."""
        from defusedxml import ElementTree
        from defusedxml.common import DefusedXmlException

        try:
            root = ElementTree.fromstring(label_config)
        except (ElementTree.ParseError, DefusedXmlException, TypeError) as exc:
            raise InvalidInput(
                f"label_config: not a readable labeling configuration ({exc})",
                field="label_config",
            ) from None
        images: dict[str, str] = {}
        controls: list[Control] = []
        for el in root.iter():
            tag = str(el.tag)
            if tag == "Image" and el.get("name"):
                images[el.get("name")] = str(el.get("value") or "").lstrip("$")
            elif tag in CONTROL_KINDS and el.get("name"):
                labels = tuple(
                    str(ch.get("value") or ch.get("alias") or "")
                    for ch in el.iter()
                    if ch.tag in _LABEL_TAGS and (ch.get("value") or ch.get("alias"))
                )
                to_name = str(el.get("toName") or "").split(",")[0]
                controls.append(Control(el.get("name"), CONTROL_KINDS[tag], to_name, labels))
        if not images:
            raise InvalidInput(
                "label_config: the project has no <Image> object; labelproof connects image "
                "projects only",
                field="label_config",
            )
        bound = tuple(c for c in controls if c.to_name in images)
        first = next(iter(images))
        key = images[bound[0].to_name] if bound else images[first]
        return cls(controls=bound, image_key=key or "image")


def project_schema(project: dict[str, Any]) -> ProjectSchema:
    """The schema of a project object as ``GET /api/projects/{id}/`` returns it."""
    config = project.get("label_config")
    if not isinstance(config, str):
        raise InvalidInput(
            f"project {project.get('id')}: no label_config in the answer", field="label_config"
        )
    return ProjectSchema.parse(config)


def _labels(values: Iterable[str]) -> str:
    return "".join(f"\n    <Label value={quoteattr(v)}/>" for v in values)


def label_config_for(dataset: Dataset) -> str:
    """A labeling configuration XML for ``dataset``: one control per annotation kind the
    dataset holds, each listing the classes used with it (all classes for rectangles when the
    dataset has no annotations). Controls are named ``box``, ``polygon``, ``keypoints``,
    ``brush`` and ``choice``, on an ``<Image name="image" value="$image"/>``."""
    used: dict[str, dict[str, None]] = {}
    cats = dataset.category_by_id()
    kind_of = {
        "box": "box",
        "rotated_box": "box",
        "polygon": "polygon",
        "mask": "brush",
        "tag": "choice",
        "keypoints": "keypoints",
    }
    for a in dataset.iter_annotations():
        kind = kind_of.get(a.type)
        cat = cats.get(a.label)
        if kind is None or cat is None:
            continue
        names = used.setdefault(kind, {})
        if kind == "keypoints" and cat.skeleton is not None:
            names.update(dict.fromkeys(cat.skeleton.keypoints))
        else:
            names[cat.name] = None
    if not used:
        used["box"] = dict.fromkeys(c.name for c in dataset.categories)
    parts = ['<View>\n  <Image name="image" value="$image" zoom="true"/>']
    tags = {
        "box": "RectangleLabels",
        "polygon": "PolygonLabels",
        "brush": "BrushLabels",
        "keypoints": "KeyPointLabels",
    }
    for kind in ("box", "polygon", "brush", "keypoints"):
        if kind in used:
            tag = tags[kind]
            parts.append(f'  <{tag} name="{kind}" toName="image">{_labels(used[kind])}\n  </{tag}>')
    if "choice" in used:
        choices = "".join(f"\n    <Choice value={quoteattr(v)}/>" for v in used["choice"])
        parts.append(
            f'  <Choices name="choice" toName="image" choice="multiple">{choices}\n  </Choices>'
        )
    parts.append("</View>")
    return "\n".join(parts)


__all__ = ["CONTROL_KINDS", "Control", "ProjectSchema", "label_config_for", "project_schema"]
