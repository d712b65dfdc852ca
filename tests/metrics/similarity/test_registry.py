"""Every registered annotation type has a similarity; properties over the registry."""

from __future__ import annotations

import pytest

from labelproof.annotypes import get_type, type_names
from labelproof.errors import InvalidInput
from labelproof.metrics.similarity import similarity_for


@pytest.mark.parametrize("name", type_names())
def test_every_type_has_a_similarity(name: str) -> None:
    fn = similarity_for(name)
    t = get_type(name)
    g = t.validate(t.example(), skeleton=t.example_skeleton)
    one = fn([g], [g])
    assert one.shape == (1, 1)
    assert one.dtype.name == "float64"
    assert one[0, 0] == pytest.approx(1.0)
    assert fn([], [g, g]).shape == (0, 2)
    assert fn([g, g, g], []).shape == (3, 0)
    assert fn([g, g], [g]).shape == (2, 1)


def test_unknown_type() -> None:
    with pytest.raises(InvalidInput):
        similarity_for("hexagon")
