"""``tag``: a classification or tag of the whole image; the geometry is ``{}``."""

from __future__ import annotations

from typing import Any, ClassVar

from labelproof.annotypes import _checks as c
from labelproof.annotypes._base import AnnotationType, ImageSize, Skeleton


class TagType(AnnotationType):
    name: ClassVar[str] = "tag"
    title: ClassVar[str] = "Classification / tag"

    def validate(
        self,
        geometry: Any,
        *,
        image: ImageSize | None = None,
        skeleton: Skeleton | None = None,
        field: str = "geometry",
    ) -> dict[str, Any]:
        c.mapping(geometry, field, required=())
        return {}

    def bounds(self, geometry: Any) -> None:
        self.validate(geometry)
        return None

    def area(self, geometry: Any) -> float:
        self.validate(geometry)
        return 0.0

    def example(self) -> dict[str, Any]:
        return {}


ANNOTATION_TYPE = TagType()
