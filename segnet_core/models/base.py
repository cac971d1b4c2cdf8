"""What every network of the SegNet family is: encoder -> decoder -> classifier, with the
configuration it was built from."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from segnet_core.errors import ModelError
from segnet_core.models.blocks import check_input


@dataclass(frozen=True)
class ModelConfig:
    """What a model was built from: its registered name, K and its options.

    Checkpoints store it as `to_dict()` ({"name", "num_classes", "options"}), the form
    `build_model(name, num_classes, **options)` takes back.
    """

    name: str
    num_classes: int
    in_channels: int = 3

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "num_classes": self.num_classes,
                "options": {"in_channels": self.in_channels}}


class SegmentationModel(nn.Module):
    """A network mapping (N, in_channels, H, W) images to (N, K, H, W) logits.

    Subclasses set three submodules: `encoder` (takes the image), `decoder` (takes what
    the encoder returns) and `classifier` (maps the decoder's output to the K logits; None
    when the decoder itself ends on K channels), and may set `stem`, a fixed transform of
    the image before the encoder (the identity by default; no learned weights).
    """

    encoder: nn.Module
    decoder: nn.Module
    classifier: nn.Module | None

    #: (pattern, replacement) pairs renaming the state-dict keys of earlier versions of the
    #: class to its own, applied in order by `upgrade_state_dict`.
    LEGACY_KEYS: tuple[tuple[str, str], ...] = ()

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self._encoder_frozen = False
        self.stem: nn.Module = nn.Identity()

    @property
    def architecture(self) -> dict[str, Any]:
        """`config.to_dict()`: the form checkpoints store."""
        return self.config.to_dict()

    @property
    def encoder_frozen(self) -> bool:
        return self._encoder_frozen

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.config.in_channels)
        x = self.decoder(self.encoder(self.stem(x)))
        return x if self.classifier is None else self.classifier(x)

    def freeze_encoder(self, frozen: bool = True) -> None:
        """Stop (or, with False, resume) training the encoder: its parameters get no
        gradients and its BatchNorm layers keep their running statistics, in train mode
        too (what fine-tuning on a few frames wants)."""
        self.encoder.requires_grad_(not frozen)
        self._encoder_frozen = frozen
        self.train(self.training)

    def train(self, mode: bool = True) -> SegmentationModel:
        super().train(mode)
        if self._encoder_frozen:
            self.encoder.eval()
        return self

    def load_encoder_weights(self, path: str | Path) -> None:
        """Initialise the encoder from a pretrained weight file (see the registry's
        `encoder_weights` for the format an architecture takes)."""
        raise ModelError(f"{self.config.name!r} takes no pretrained encoder weights")

    @classmethod
    def upgrade_state_dict(cls, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """`state` with the keys of earlier versions of this class renamed (`LEGACY_KEYS`);
        a state dict of this version comes back as it is."""
        if not cls.LEGACY_KEYS:
            return state
        upgraded = {}
        for key, value in state.items():
            for pattern, replacement in cls.LEGACY_KEYS:
                key = re.sub(pattern, replacement, key)
            upgraded[key] = value
        return upgraded
