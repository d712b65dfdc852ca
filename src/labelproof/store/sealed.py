"""Sealed fields: attributes whose column holds AES-256-GCM ciphertext, never plaintext.

A model declares the ciphertext column (``LargeBinary``, mapped under a ``sealed_<name>``
attribute) and a :class:`Sealed` descriptor under the plain name::

    sealed_annotations: Mapped[bytes] = mapped_column("annotations", LargeBinary, ...)
    annotations = Sealed[list[Any]]("sealed_annotations", project_via=("tasks", "task_id"))

The descriptor keeps the plaintext in the instance's ``__dict__``; assigning it puts the
placeholder ``b""`` in the ciphertext column, which tells the session hooks of
``labelproof.services.custody.fields`` to seal it at the next flush (and to open it when a
row is loaded). Only those hooks know keys; this module holds no secret and no global state
beyond the class-level registry of declared fields.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar, overload

from labelproof.errors import ConfigurationError

__all__ = ["PENDING", "Sealed", "sealed_fields"]

T = TypeVar("T")

#: What the ciphertext column holds between an assignment and the flush that seals it.
PENDING = b""

_NO_DEFAULT: Any = object()
_REGISTRY: dict[type[Any], list[Sealed[Any]]] = {}


class Sealed(Generic[T]):
    """A plaintext view over a sealed column (see the module docstring).

    ``project_via`` names how the row's project is found when the table has no
    ``project_id`` column: ``(parent table, foreign key attribute)``.
    """

    def __init__(
        self,
        column_attr: str,
        *,
        project_via: tuple[str, str] | None = None,
        default: Any = _NO_DEFAULT,
    ) -> None:
        self.column_attr = column_attr
        self.project_via = project_via
        self.default = default
        self.name = ""
        self.plain_key = ""

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self.name = name
        self.plain_key = f"_lp_plain_{name}"
        _REGISTRY.setdefault(owner, []).append(self)

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> Sealed[T]: ...

    @overload
    def __get__(self, obj: object, owner: type[Any]) -> T: ...

    def __get__(self, obj: object | None, owner: type[Any]) -> Sealed[T] | T:
        if obj is None:
            return self
        try:
            value: T = obj.__dict__[self.plain_key]
        except KeyError:
            raise ConfigurationError(
                f"{type(obj).__name__}.{self.name} is sealed and was loaded without the"
                " installation's keys (use a session of the runtime)",
                field=self.name,
            ) from None
        return value

    def __set__(self, obj: object, value: T) -> None:
        obj.__dict__[self.plain_key] = value
        setattr(obj, self.column_attr, PENDING)

    def has_plain(self, obj: object) -> bool:
        return self.plain_key in obj.__dict__

    def set_opened(self, obj: object, value: Any) -> None:
        """Give a loaded row its plaintext (without marking the row changed)."""
        obj.__dict__[self.plain_key] = value

    def fill_default(self, obj: object) -> None:
        """A new row that never set this field gets the declared default, if any."""
        if not self.has_plain(obj) and self.default is not _NO_DEFAULT:
            self.__set__(obj, self.default)

    def open_null(self, obj: object) -> None:
        """A loaded row whose column is NULL reads as the declared default (if there is one)."""
        if self.default is not _NO_DEFAULT:
            obj.__dict__[self.plain_key] = self.default

    def is_pending(self, obj: object) -> bool:
        """Assigned since the last seal (its column still holds the placeholder)."""
        return self.has_plain(obj) and obj.__dict__.get(self.column_attr) == PENDING


def sealed_fields(cls: type[Any]) -> list[Sealed[Any]]:
    """The sealed fields declared on ``cls`` (empty for other models)."""
    return _REGISTRY.get(cls, [])
