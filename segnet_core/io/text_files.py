"""Text files the project reads (label sets, list files): UTF-8, a byte-order mark dropped,
every failure an error naming the file."""

from __future__ import annotations

from pathlib import Path

from segnet_core.errors import FileFormatError


def read_text(path: Path, error: type[FileFormatError], what: str) -> str:
    """The text of `path`, `what` it is (e.g. "list file") naming it in the `error` raised
    when it is missing, unreadable or not UTF-8."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise error(path, f"{what} not found") from None
    except UnicodeDecodeError as exc:
        raise error(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise error(path, f"cannot read {what}: {exc.strerror or exc}") from None
