"""What ``nn.fit`` records (:class:`History`) and when it stops early (:class:`EarlyStopping`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .checks import non_negative, positive_int

__all__ = ["EarlyStopping", "History"]


@dataclass
class EarlyStopping:
    """Stop when the validation loss has not improved by more than ``min_delta`` for ``patience`` epochs.

    The weights of the best epoch are restored when training ends.

    Args:
        patience: epochs without improvement to wait (>= 1).
        min_delta: smallest decrease that counts as an improvement (>= 0).
    """

    patience: int = 5
    min_delta: float = 0.0

    def __post_init__(self) -> None:
        self.patience = positive_int("EarlyStopping patience", self.patience)
        self.min_delta = non_negative("EarlyStopping min_delta", self.min_delta)


@dataclass
class History:
    """What :func:`nn.train.fit` measured, one entry per epoch run.

    Accuracy entries are None for regression losses (``mse``, ``l1``) and custom
    losses; validation entries are empty without validation data.
    """

    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float | None] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float | None] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    #: True when early stopping ended the run (patience ran out).
    stopped_early: bool = False
    #: True when a callback ended the run (returned True or raised nn.StopTraining).
    stopped_by_callback: bool = False
    #: The first epoch (0-based, as best_epoch) whose training loss was nan or inf, or None.
    diverged_epoch: int | None = None
    #: True when the compiled (traced, batched) path ran, False for the eager one.
    compiled: bool = False
    #: Why the eager path ran (None when compiled), e.g. "the model contains Dropout(p=0.5) ...".
    eager_reason: str | None = None

    @property
    def epochs(self) -> int:
        """Number of epochs run."""
        return len(self.train_loss)

    def as_dict(self) -> dict[str, Any]:
        """Every field as plain Python data (JSON-able)."""
        return {
            "train_loss": list(self.train_loss),
            "train_accuracy": list(self.train_accuracy),
            "val_loss": list(self.val_loss),
            "val_accuracy": list(self.val_accuracy),
            "lr": list(self.lr),
            "best_epoch": self.best_epoch,
            "stopped_early": self.stopped_early,
            "stopped_by_callback": self.stopped_by_callback,
            "diverged_epoch": self.diverged_epoch,
            "compiled": self.compiled,
            "eager_reason": self.eager_reason,
        }
