"""`Choice`: the base of the library's lists of choices (balance modes, stop reasons...)."""

from __future__ import annotations

import enum

from segnet_core.errors import SegNetError


class Choice(str, enum.Enum):
    """A str-valued enum member: it equals, prints, formats and JSON-encodes as its value, so
    logs, messages and argparse stay plain text. Records that are pickled into checkpoints
    store `.value` (a plain str), never the member."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)

    @classmethod
    def values(cls) -> tuple[str, ...]:
        """Every value, in declaration order (argparse `choices`, error messages)."""
        return tuple(member.value for member in cls)

    @classmethod
    def parse(cls, value: object, what: str):
        """The member whose value is `value`; SegNetError naming the choices otherwise."""
        try:
            return cls(value)
        except ValueError:
            raise SegNetError(f"{what} must be one of {', '.join(cls.values())}, "
                              f"not {value!r}") from None
