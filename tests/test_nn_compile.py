"""nn.fit's compiled path (issue 6): the same History and weights as the eager path, and clear refusals."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest

import nn
from autograd_core import Value
from nn import data, optim

LOSSES_AND_OUTPUTS = [("hinge", 1), ("bce_with_logits", 1), ("mse", 1), ("cross_entropy", 3)]


def _problem(loss: str) -> tuple[np.ndarray, np.ndarray]:
    if loss == "cross_entropy":
        return data.make_blobs(48, noise=0.3, seed=1)
    return data.make_moons(48, noise=0.2, seed=1)


def _train(loss: str, nout: int, opt_name: str, compile: bool | None, l1: float = 0.0) -> tuple[nn.History, np.ndarray]:
    X, y = _problem(loss)
    # batch_size 9 (odd): with hinge's +-1 targets an even batch can cancel a
    # bias gradient to exactly 0 on one path and to 1e-17 on the other, and
    # Adam divides by its tiny second moment, which blows that rounding up.
    model = nn.MLP(2, [6, nout], "tanh", rng=random.Random(3))
    params = model.parameters()
    opt: optim.Optimizer
    if opt_name == "sgd":
        opt = optim.SGD(params, lr=0.2, momentum=0.9, nesterov=True, weight_decay=1e-3)
    else:
        opt = optim.Adam(params, lr=0.05)
    hist = nn.fit(
        model, X, y, loss=loss, optimizer=opt, epochs=12, batch_size=9, val_split=0.25,
        l1=l1, l2=1e-3, early_stopping=2, progress=False, seed=5, compile=compile,
    )  # fmt: skip
    return hist, np.array([p.data for p in params])


@pytest.mark.parametrize("opt_name", ["sgd", "adam"])
@pytest.mark.parametrize(("loss", "nout"), LOSSES_AND_OUTPUTS)
def test_fit_compiled_and_eager_give_the_same_history_and_weights(loss: str, nout: int, opt_name: str) -> None:
    eager, w_eager = _train(loss, nout, opt_name, compile=False)
    comp, w_comp = _train(loss, nout, opt_name, compile=True)
    assert comp.compiled and comp.eager_reason is None
    assert not eager.compiled and eager.eager_reason == "compile=False"
    assert comp.epochs == eager.epochs and comp.best_epoch == eager.best_epoch
    assert comp.stopped_early == eager.stopped_early
    for field in ("train_loss", "val_loss", "lr"):
        assert getattr(comp, field) == pytest.approx(getattr(eager, field), rel=1e-9, abs=1e-12), field
    for field in ("train_accuracy", "val_accuracy"):
        got, want = getattr(comp, field), getattr(eager, field)
        if loss == "mse":
            assert got == want == [None] * eager.epochs
        else:
            assert got == pytest.approx(want, rel=1e-9), field
    # The weights after early stopping's roll-back are those of the same best epoch.
    np.testing.assert_allclose(w_comp, w_eager, rtol=1e-9, atol=1e-12)
    # Training did something: otherwise equal histories would prove nothing.
    w_init = np.array([p.data for p in nn.MLP(2, [6, nout], "tanh", rng=random.Random(3)).parameters()])
    assert np.abs(w_eager - w_init).max() > 1e-2
    assert min(eager.train_loss) < eager.train_loss[0]


@pytest.mark.parametrize(("loss", "nout"), [("mse", 1), ("bce_with_logits", 1)])
def test_fit_compiled_l1_penalty_matches_eager(loss: str, nout: int) -> None:
    # Not with hinge: its batch gradients can be exactly 0 (targets +-1 balance out),
    # leaving a bias at exactly 0 on one path and at 1e-17 on the other, where
    # the L1 subgradient jumps from 0 to +-l1; the paths then part for a reason
    # that is float rounding, not a bug.
    eager, w_eager = _train(loss, nout, "sgd", compile=False, l1=1e-3)
    comp, w_comp = _train(loss, nout, "sgd", compile=True, l1=1e-3)
    no_l1 = _train(loss, nout, "sgd", compile=True)[1]
    assert comp.train_loss == pytest.approx(eager.train_loss, rel=1e-9)
    np.testing.assert_allclose(w_comp, w_eager, rtol=1e-9, atol=1e-12)
    assert np.abs(w_comp).sum() < np.abs(no_l1).sum()  # the penalty acted


def test_fit_automatic_mode_compiles_an_mlp_with_a_builtin_loss() -> None:
    auto, w_auto = _train("hinge", 1, "adam", compile=None)
    comp, w_comp = _train("hinge", 1, "adam", compile=True)
    assert auto.compiled and auto.as_dict()["compiled"] is True
    assert auto.train_loss == comp.train_loss
    np.testing.assert_array_equal(w_auto, w_comp)


class _DropNet(nn.Module):
    """An MLP behind an input dropout, the kind of model fit must keep eager."""

    def __init__(self, p: float) -> None:
        self.drop = nn.Dropout(p, rng=random.Random(7))
        self.mlp = nn.MLP(2, [5, 1], rng=random.Random(2))

    def __call__(self, x: Any) -> Any:
        return self.mlp(self.drop(x))


def _fit_dropnet(p: float, compile: bool | None) -> tuple[nn.History, list[float]]:
    X, y = data.make_moons(30, noise=0.1, seed=0)
    m = _DropNet(p)
    h = nn.fit(
        m, X, y, loss="hinge", optimizer=optim.SGD(m.parameters(), lr=0.1), epochs=3, batch_size=10,
        val_split=0.2, progress=False, compile=compile,
    )  # fmt: skip
    return h, [q.data for q in m.parameters()]


def test_fit_automatic_mode_falls_back_to_eager_for_dropout_and_says_why() -> None:
    auto, w_auto = _fit_dropnet(0.5, compile=None)
    eager, w_eager = _fit_dropnet(0.5, compile=False)
    assert not auto.compiled
    assert auto.eager_reason is not None and "Dropout(p=0.5)" in auto.eager_reason
    # The fallback is the eager path itself: same dropout masks, same numbers.
    assert auto.train_loss == eager.train_loss and auto.val_loss == eager.val_loss
    assert w_auto == w_eager


def test_fit_automatic_mode_keeps_an_unknown_module_type_eager_but_compile_true_compiles_it() -> None:
    auto, w_auto = _fit_dropnet(0.0, compile=None)
    assert not auto.compiled and auto.eager_reason is not None and "_DropNet" in auto.eager_reason
    forced, w_forced = _fit_dropnet(0.0, compile=True)
    assert forced.compiled
    assert forced.train_loss == pytest.approx(auto.train_loss, rel=1e-9)
    np.testing.assert_allclose(w_forced, w_auto, rtol=1e-9)


class _Branchy(nn.Module):
    """Branches in Python on a Value's data: a tape would freeze one branch."""

    def __init__(self) -> None:
        self.mlp = nn.MLP(2, [1], "linear", rng=random.Random(0))

    def __call__(self, x: Any) -> Any:
        (z,) = self.mlp(x)
        return [z * 2.0 if z.data > 0 else z * 0.5]


class _WithBatchNorm(nn.Module):
    def __init__(self) -> None:
        self.mlp = nn.MLP(2, [1], rng=random.Random(0))
        self.bn = nn.BatchNorm(1)

    def __call__(self, x: Any) -> Any:
        return self.mlp(x)


def _custom_loss(preds: Any, targets: Any) -> Value:
    return nn.losses.mse(preds, targets)


@pytest.mark.parametrize(
    ("model", "loss", "message"),
    [
        (_DropNet(0.3), "hinge", r"Dropout\(p=0.3\), active in training mode"),
        (_WithBatchNorm(), "mse", "BatchNorm"),
        (nn.MLP(2, [3, 1], rng=random.Random(0)), _custom_loss, "custom callable"),
        (nn.MLP(2, [3, 1], rng=random.Random(0)), "bce", "bce_with_logits"),
        (_Branchy(), "mse", "different graph"),
        (nn.MLP(2, [3, 2], rng=random.Random(0)), "mse", "one output"),
    ],
)
def test_fit_compile_true_with_an_unsupported_model_or_loss_names_the_reason(
    model: nn.Module, loss: Any, message: str
) -> None:
    X, y = data.make_moons(10, noise=0.1, seed=0)
    before = [p.data for p in model.parameters()]
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match=message) as err:
        nn.fit(model, X, y, loss=loss, optimizer=opt, epochs=1, progress=False, compile=True)
    assert "fit(compile=True)" in str(err.value) and "compile=False" in str(err.value)
    assert [p.data for p in model.parameters()] == before  # refused before any step


def test_fit_compiled_rejects_bad_targets_with_the_eager_losses_message() -> None:
    X, y = data.make_moons(10, noise=0.1, seed=0)
    y = y.astype(float)
    y[3] = 2.0
    m = nn.MLP(2, [3, 1], rng=random.Random(0))
    with pytest.raises(ValueError, match="hinge: target 3 is 2.0"):
        nn.fit(m, X, y, loss="hinge", optimizer=optim.SGD(m.parameters(), lr=0.1), epochs=1, progress=False)


def test_fit_compile_must_be_a_bool_or_none() -> None:
    X, y = data.make_moons(10, noise=0.1, seed=0)
    m = nn.MLP(2, [3, 1], rng=random.Random(0))
    with pytest.raises(TypeError, match="compile must be True, False or None"):
        nn.fit(m, X, y, loss="mse", optimizer=optim.SGD(m.parameters(), lr=0.1), epochs=1, compile="yes")  # type: ignore[arg-type]


@pytest.mark.parametrize(("loss", "nout"), LOSSES_AND_OUTPUTS)
def test_evaluate_and_predict_compiled_equal_eager(loss: str, nout: int) -> None:
    X, y = _problem(loss)
    m = nn.MLP(2, [5, nout], rng=random.Random(1))
    eager = nn.evaluate(m, X, y, loss=loss, compile=False)
    comp = nn.evaluate(m, X, y, loss=loss, compile=True)
    assert comp["loss"] == pytest.approx(eager["loss"], rel=1e-12)
    assert comp["accuracy"] == eager["accuracy"]
    np.testing.assert_allclose(nn.predict(m, X, compile=True), nn.predict(m, X, compile=False), rtol=1e-12)
    assert nn.predict(m, X, compile=True).shape == ((len(X),) if nout == 1 else (len(X), nout))


def test_predict_compiles_a_dropout_model_in_evaluation_mode() -> None:
    # In evaluation mode dropout is the identity, so the tape is exact.
    m = _DropNet(0.5)
    X = np.random.default_rng(0).normal(size=(7, 2))
    np.testing.assert_allclose(nn.predict(m, X, compile=True), nn.predict(m, X, compile=False), rtol=1e-12)
    assert m.training  # the mode is put back
