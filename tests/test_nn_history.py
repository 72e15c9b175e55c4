"""Tests of nn.history: EarlyStopping checks its settings; History reports what fit recorded."""

from __future__ import annotations

from typing import Any

import pytest

import nn
from nn.history import EarlyStopping, History


@pytest.mark.parametrize(
    ("call", "exc", "message"),
    [
        (lambda: nn.EarlyStopping(patience=1.5), TypeError, "EarlyStopping patience must be a positive int"),  # type: ignore[arg-type]
        (lambda: nn.EarlyStopping(patience=0), ValueError, "EarlyStopping patience must be a positive int"),
        (lambda: nn.EarlyStopping(min_delta="a"), TypeError, "EarlyStopping min_delta"),  # type: ignore[arg-type]
    ],
)
def test_early_stopping_bad_settings_raise_the_right_type_naming_the_setting(
    call: Any, exc: type, message: str
) -> None:
    with pytest.raises(exc, match=message):
        call()


def test_history_epochs_and_as_dict_report_the_recorded_lists() -> None:
    h = History(train_loss=[1.0, 0.5], lr=[0.1, 0.1], best_epoch=1)
    assert h.epochs == 2
    d = h.as_dict()
    assert d["train_loss"] == [1.0, 0.5] and d["best_epoch"] == 1 and d["compiled"] is False
    d["train_loss"].append(9.0)
    assert h.train_loss == [1.0, 0.5]  # a copy
    assert nn.History is History and nn.EarlyStopping is EarlyStopping
