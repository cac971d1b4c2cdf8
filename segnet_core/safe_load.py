"""Reading weight files without trusting them: checkpoints and VGG16-BN state dicts.

`load_weights_file` refuses, before unpickling anything, what is not the uncompressed zip
archive `torch.save` writes or declares more bytes than the file holds, then unpickles with
`torch.load(weights_only=True)`, which builds only tensors and plain containers: a file
whose pickle would run code is refused before anything runs. `check_dtypes` refuses
weights that would load as garbage. Every refusal is a CheckpointError naming the file.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import torch

from segnet_core.errors import CheckpointError

ZIP_MAGIC = b"PK\x03\x04"


def load_weights_file(path: Path, *, what: str = "checkpoint",
                      legacy_format: bool = False) -> Any:
    """The unpickled content of `path`: tensors and plain containers only.

    what: how a refusal names the file's kind ("checkpoint", "PyTorch state dict").
    legacy_format: also accept the plain pickle `torch.save` wrote before PyTorch 1.6
        (torchvision's 2017 weight files); a zip archive is always checked first.
    """
    if not path.is_file():
        raise CheckpointError(path, "file not found")
    try:
        with open(path, "rb") as handle:
            zipped = handle.read(len(ZIP_MAGIC)) == ZIP_MAGIC
    except OSError as error:
        raise CheckpointError(path, f"cannot read it ({error.strerror or error})") from None
    if zipped or not legacy_format:
        check_archive(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # truncated, foreign or hostile pickles all land here
        reason = _first_line(error)
        if "weights_only" in str(error) or "Unsupported global" in str(error):
            reason = ("refused: the file's pickle asks to build objects other than tensors "
                      "and plain containers, so it could run code")
        raise CheckpointError(path, f"not a readable {what} ({reason})") from None


def check_archive(path: Path) -> None:
    """Refuse, before unpickling anything, a file that is not the uncompressed zip archive
    `torch.save` writes, or whose members declare more bytes than the file holds (a
    compressed member could expand to any size: memory stays bounded by the file size)."""
    try:
        size = path.stat().st_size
        if size == 0:
            raise CheckpointError(path, "empty file (0 bytes)")
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError,
            UnicodeDecodeError, IndexError, KeyError, OverflowError) as error:
        raise CheckpointError(path, f"not a readable checkpoint (not a PyTorch zip archive: "
                                    f"{_first_line(error)})") from None
    declared = 0
    for member in members:
        if member.compress_type != zipfile.ZIP_STORED:
            raise CheckpointError(path, f"refused: archive member {member.filename!r} is "
                                        "compressed (torch.save never compresses; it could "
                                        "expand to any size)")
        declared += member.file_size
        if member.file_size > size or declared > size:
            raise CheckpointError(path, f"refused: archive member {member.filename!r} "
                                        f"declares {member.file_size} bytes, more than the "
                                        f"file's {size}")


def check_dtypes(expected: dict[str, torch.Tensor], found: dict[str, torch.Tensor],
                 path: Path) -> None:
    """Refuse weights that would load as garbage: an integer or boolean tensor where the
    model holds floating-point values (or the reverse), or values that are not finite.
    Other floating types (float64, float16, bfloat16) are converted by `load_state_dict`."""
    problems = []
    for key, target in expected.items():
        tensor = found.get(key)
        if not isinstance(tensor, torch.Tensor):
            continue  # missing keys are reported by load_state_dict, naming them
        if target.is_floating_point() != tensor.is_floating_point() or tensor.is_complex():
            problems.append(f"{key} is {str(tensor.dtype).replace('torch.', '')}, "
                            f"expected {str(target.dtype).replace('torch.', '')}")
        elif tensor.is_floating_point() and tensor.numel() and \
                not bool(torch.isfinite(tensor).all()):
            problems.append(f"{key} holds NaN or infinite values")
    if problems:
        raise CheckpointError(path, f"weights of the wrong type: {summarize(problems)}")


def summarize(problems: list[str], shown: int = 5) -> str:
    """The first `shown` problems joined, and how many more there are."""
    text = "; ".join(problems[:shown])
    if len(problems) > shown:
        text += f"; and {len(problems) - shown} more"
    return text


def _first_line(error: BaseException) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__
