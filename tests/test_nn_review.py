"""Review findings on nn: bce in fit, detect_anomaly and compile, argument errors, RNG hygiene, eval mode."""

from __future__ import annotations

import argparse
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import nn
from autograd_core import AnomalyError, Value, detect_anomaly
from nn import data, optim, train
from viz.cli import build_parser
from viz.cli.train import run_train


def _saturated_bce_model() -> tuple[nn.MLP, np.ndarray, np.ndarray]:
    m = nn.MLP(1, [1], output_activation="sigmoid", rng=0)
    m.layers[0].neurons[0].w[0].data = 50.0  # sigmoid(50 x) is exactly 0 or 1 for |x| >= 1
    X = np.array([[1.0], [-1.0], [2.0], [0.01]])
    y = np.array([0, 1, 0, 1])  # confidently wrong on the first three
    return m, X, y


@pytest.mark.parametrize("compile", [False, None, True])
def test_fit_bce_on_saturated_sigmoid_keeps_weights_finite(compile: bool | None) -> None:
    m, X, y = _saturated_bce_model()
    hist = nn.fit(m, X, y, loss="bce", optimizer=optim.SGD(m.parameters(), lr=0.1), epochs=1,
                  progress=False, compile=compile)  # fmt: skip
    assert all(np.isfinite(p.data) for p in m.parameters())
    assert np.isfinite(hist.train_loss[0]) and hist.train_loss[0] > 50  # three terms at the clamp of 100
    assert hist.compiled == (compile is not False)


def test_fit_bce_compiled_equals_eager() -> None:
    X, y = data.make_moons(40, noise=0.2, seed=2)
    runs = []
    for compile in (False, True):
        m = nn.MLP(2, [5, 1], "tanh", output_activation="sigmoid", rng=random.Random(4))
        h = nn.fit(m, X, y, loss="bce", optimizer=optim.Adam(m.parameters(), lr=0.05), epochs=6, batch_size=7,
                   val_split=0.25, progress=False, seed=1, compile=compile)  # fmt: skip
        runs.append((h, np.array([p.data for p in m.parameters()])))
    (eager, w_eager), (comp, w_comp) = runs
    assert comp.compiled and not eager.compiled
    assert comp.train_loss == pytest.approx(eager.train_loss, rel=1e-9)
    assert comp.val_loss == pytest.approx(eager.val_loss, rel=1e-9)
    assert comp.train_accuracy == eager.train_accuracy and comp.val_accuracy == eager.val_accuracy
    assert eager.train_accuracy[-1] is not None and eager.train_accuracy[-1] > 0.5
    np.testing.assert_allclose(w_comp, w_eager, rtol=1e-9, atol=1e-12)


def test_fit_bce_with_a_linear_output_stays_eager_and_compile_true_says_why() -> None:
    X, y = data.make_moons(10, noise=0.1, seed=0)
    m = nn.MLP(2, [3, 1], rng=0)
    with pytest.raises(ValueError, match="compiles only for a model whose output is a sigmoid"):
        nn.fit(m, X, y, loss="bce", optimizer=optim.SGD(m.parameters(), lr=0.1), epochs=1, compile=True)


@pytest.mark.parametrize("loss", ["hinge", "bce_with_logits", "cross_entropy", "bce"])
@pytest.mark.parametrize("dead", [False, True])
def test_accuracy_from_the_loss_pass_equals_accuracy_from_a_second_replay(loss: str, dead: bool) -> None:
    # fit's compiled epoch reads the accuracy off the gradients w.r.t. the targets of its one
    # forward_backward pass; it must count exactly what a replay of the model counts, also for
    # outputs of exactly 0 (all hidden relus dead: hinge's and argmax's tie cases).
    X, y = data.make_blobs(40, seed=3) if loss == "cross_entropy" else data.make_moons(40, noise=0.3, seed=3)
    nout = 3 if loss == "cross_entropy" else 1
    out_act = "sigmoid" if loss == "bce" else "linear"
    m = nn.MLP(2, [4, nout], output_activation=out_act, rng=random.Random(0))
    if dead:
        for n in m.layers[0].neurons:
            n.b.data = -100.0
    cl, pred = train._trace(m, loss, 2, training=True)
    assert cl is not None
    t = train._target_array(loss, y)
    per_sample, arg_grads, _ = cl.compiled.forward_backward(*cl.args(X, t))
    got = train._correct_from_target_grads(loss, per_sample, arg_grads[2:], t)
    want = train._correct_arrays(loss, train._outputs(pred, X, loss), t)
    eager = train._correct(loss, train._forward(m, X), y)
    assert got == want == eager
    assert got is not None and 0 < got <= len(y)


# -- detect_anomaly ---------------------------------------------------------------------------


def _divergent() -> tuple[nn.MLP, np.ndarray, np.ndarray, optim.SGD]:
    X, y = data.make_linear(20, seed=0)
    m = nn.MLP(1, [1], rng=0)
    return m, X, y, optim.SGD(m.parameters(), lr=1e200)


def test_fit_automatic_compile_goes_eager_under_detect_anomaly() -> None:
    m, X, y, opt = _divergent()
    with detect_anomaly(), pytest.raises(AnomalyError):
        nn.fit(m, X, y, loss="mse", optimizer=opt, epochs=5, progress=False, compile=None)
    m, X, y, opt = _divergent()
    with detect_anomaly(), pytest.raises(AnomalyError):
        nn.fit(m, X, y, loss="mse", optimizer=opt, epochs=5, progress=False, compile=False)
    m, X, y, _ = _divergent()
    with detect_anomaly():
        h = nn.fit(m, X, y, loss="mse", optimizer=optim.SGD(m.parameters(), lr=0.01), epochs=1, progress=False)
    assert not h.compiled and h.eager_reason == "detect_anomaly is on"


def test_fit_compile_true_refuses_under_detect_anomaly() -> None:
    m, X, y, opt = _divergent()
    before = [p.data for p in m.parameters()]
    with detect_anomaly(), pytest.raises(ValueError, match="fit\\(compile=True\\): detect_anomaly is on"):
        nn.fit(m, X, y, loss="mse", optimizer=opt, epochs=1, progress=False, compile=True)
    assert [p.data for p in m.parameters()] == before


# -- argument errors name the argument, TypeError for types -----------------------------------


def _fit(**kw: Any) -> None:
    X, y = kw.pop("X", None), kw.pop("y", None)
    Xd, yd = data.make_moons(20, seed=0)
    m = nn.MLP(2, [2, 1], rng=0)
    args: dict[str, Any] = {"loss": "mse", "optimizer": optim.SGD(m.parameters(), lr=0.1), "epochs": 1}
    args.update(kw)
    nn.fit(m, Xd if X is None else X, yd if y is None else y, progress=False, **args)


@pytest.mark.parametrize(
    ("call", "exc", "message"),
    [
        (lambda: _fit(seed=-1), ValueError, "seed must be an int >= 0, got -1"),
        (lambda: _fit(seed="a"), TypeError, "seed must be an int >= 0, got str"),
        (lambda: _fit(seed=1.5), TypeError, "seed must be an int"),
        (lambda: _fit(val_split=0), ValueError, "val_split must be a fraction in \\(0, 1\\)"),
        (lambda: _fit(val_split=1.5), ValueError, "val_split must be a fraction in \\(0, 1\\)"),
        (lambda: _fit(val_split="a"), TypeError, "val_split must be a fraction"),
        (lambda: _fit(val_split=0.99), ValueError, "val_split=0.99 holds out 20 of 20 samples"),
        (lambda: _fit(epochs="3"), TypeError, "epochs must be a positive int, got str"),
        (lambda: _fit(epochs=0), ValueError, "epochs must be a positive int, got 0"),
        (lambda: _fit(l2="a"), TypeError, "l2 must be a finite number >= 0, got str"),
        (lambda: _fit(l1=-1.0), ValueError, "l1 must be a finite number >= 0"),
        (lambda: _fit(batch_size=2.5), TypeError, "batch_size must be a positive int"),
        (lambda: _fit(X=np.full((20, 2), np.nan)), ValueError, "X holds 40 non-finite values"),
        (lambda: _fit(y=np.r_[np.inf, np.zeros(19)]), ValueError, "y holds 1 non-finite values.*index 0"),
        (lambda: _fit(y=np.array(["a"] * 20)), TypeError, "y must be an array of numbers"),
        (lambda: nn.EarlyStopping(patience=1.5), TypeError, "EarlyStopping patience must be a positive int"),  # type: ignore[arg-type]
        (lambda: nn.EarlyStopping(patience=0), ValueError, "EarlyStopping patience must be a positive int"),
        (lambda: nn.EarlyStopping(min_delta="a"), TypeError, "EarlyStopping min_delta"),  # type: ignore[arg-type]
        (lambda: data.make_moons(noise="a"), TypeError, "noise must be a real number"),  # type: ignore[arg-type]
        (lambda: data.make_moons(noise=-1.0), ValueError, "noise must be a finite number >= 0"),
        (lambda: data.make_moons(seed=-1), ValueError, "seed must be an int >= 0"),
        (lambda: data.make_circles(factor="a"), TypeError, "factor must be a real number"),  # type: ignore[arg-type]
        (lambda: data.make_circles(factor=1.0), ValueError, "factor must be in \\(0, 1\\)"),
        (lambda: data.make_blobs(centers=2.5), TypeError, "centers must be an int"),  # type: ignore[arg-type]
        (lambda: data.make_linear(bias="a"), TypeError, "bias must be a real number"),  # type: ignore[arg-type]
        (lambda: nn.BatchNorm(2, momentum="a"), TypeError, "BatchNorm momentum must be a real number"),  # type: ignore[arg-type]
        (lambda: nn.BatchNorm(2, eps=float("nan")), ValueError, "BatchNorm eps must be a finite number"),
        (lambda: nn.Dropout("a"), TypeError, "Dropout p must be a real number"),  # type: ignore[arg-type]
        (lambda: optim.linear_decay(1.0, 0.1, steps=1.5), TypeError, "steps must be a positive int"),  # type: ignore[arg-type]
        (lambda: optim.linear_decay(1.0, 0.1, steps=0), ValueError, "steps must be a positive int"),
        (lambda: optim.cosine(1.0, steps="9"), TypeError, "steps must be a positive int"),  # type: ignore[arg-type]
        (lambda: optim.step_decay(1.0, step_size=2.0), TypeError, "step_size must be a positive int"),  # type: ignore[arg-type]
        (lambda: optim.constant(1.0)(1.5), TypeError, "schedule takes an int step number"),  # type: ignore[arg-type]
        (lambda: nn.MLP(2, [1], negative_slope="a"), TypeError, "negative_slope must be a real number"),  # type: ignore[arg-type]
        (lambda: nn.MLP(2, [1], negative_slope=1.5), ValueError, "negative_slope must be in \\[0, 1\\]"),
        (lambda: nn.Layer(2, 1, alpha=0.0), ValueError, "ELU alpha must be a positive number"),
        (lambda: nn.Neuron(2, sigma=-1.0), ValueError, "sigma .* must be a positive number"),
        (lambda: nn.Neuron(2, sigma=None), TypeError, "sigma must be a real number"),  # type: ignore[arg-type]
    ],
)
def test_bad_arguments_raise_the_right_type_naming_the_argument(call: Any, exc: type, message: str) -> None:
    with pytest.raises(exc, match=message):
        call()


# -- activation constants (lecture 05: Leaky ReLU is max(0.1x, x)) -------------------------------


def test_negative_slope_alpha_and_sigma_take_effect() -> None:
    notes = nn.Neuron(1, "leaky_relu", negative_slope=0.1, rng=0)
    notes.w[0].data, notes.b.data = 1.0, 0.0
    assert notes([-2.0]).data == pytest.approx(-0.2)  # max(0.1x, x) at x = -2
    default = nn.Neuron(1, "leaky_relu", rng=0)
    default.w[0].data = 1.0
    assert default([-2.0]).data == pytest.approx(-0.02)  # PyTorch's 0.01
    elu = nn.Layer(1, 1, "elu", alpha=2.0, rng=0)
    elu.neurons[0].w[0].data = 1.0
    assert elu([-1.0])[0].data == pytest.approx(2.0 * (np.exp(-1.0) - 1.0))
    mlp = nn.MLP(1, [1, 1], "leaky_relu", negative_slope=0.1, alpha=3.0, rng=0)
    assert all(n.negative_slope == 0.1 and n.alpha == 3.0 for layer in mlp.layers for n in layer.neurons)
    wide = [abs(w.data) for w in nn.Layer(50, 20, "linear", init="normal", sigma=2.0, rng=0).parameters()]
    narrow = [abs(w.data) for w in nn.Layer(50, 20, "linear", init="normal", rng=0).parameters()]
    assert np.std(wide) == pytest.approx(20 * np.std(narrow), rel=1e-9)  # same draws scaled by sigma 2.0 / 0.1
    assert "negative_slope=0.1" in repr(mlp)


# -- the global RNGs are never touched -------------------------------------------------------


def test_global_random_and_numpy_rng_states_are_untouched(tmp_path: Path) -> None:
    random.seed(12345)
    np.random.seed(54321)
    py_state = random.getstate()
    np_state: Any = np.random.get_state()

    def unchanged() -> None:
        assert random.getstate() == py_state
        now: Any = np.random.get_state()
        assert now[0] == np_state[0] and np.array_equal(now[1], np_state[1]) and now[2:] == np_state[2:]

    drop = nn.Dropout(0.5, rng=1)
    drop([Value(1.0)] * 20)
    unchanged()
    X, y = data.make_moons(30, seed=0)
    for compile in (False, True):
        m = nn.MLP(2, [4, 1], rng=random.Random(0))
        h = nn.fit(m, X, y, loss="hinge", optimizer=optim.SGD(m.parameters(), lr=0.1), epochs=2, batch_size=7,
                   val_split=0.2, progress=False, compile=compile)  # fmt: skip
        assert h.compiled == compile
        unchanged()
    nn.save(m, tmp_path / "m.json")
    nn.load(tmp_path / "m.json")
    unchanged()
    args = build_parser().parse_args(["train", "--n", "30", "--hidden", "3", "--epochs", "1", "--no-progress",
                                          "--out", str(tmp_path / "c.json")])  # fmt: skip
    assert isinstance(args, argparse.Namespace)
    run_train(args, out=open(tmp_path / "log.txt", "w"))  # noqa: SIM115
    unchanged()


# -- evaluate switches to evaluation mode and back -------------------------------------------


class _ModeProbe(nn.Module):
    """Outputs 1.0 in training mode and -1.0 in evaluation mode, and records the mode of each call."""

    def __init__(self) -> None:
        self.w = Value(0.0)
        self.seen: list[bool] = []

    def __call__(self, x: Any) -> list[Value]:
        self.seen.append(self.training)
        return [self.w * 0.0 + (1.0 if self.training else -1.0)]


@pytest.mark.parametrize("compile", [False, True])
def test_evaluate_runs_the_model_in_evaluation_mode_and_restores_training(compile: bool) -> None:
    probe = _ModeProbe()
    X, y = np.zeros((4, 1)), np.array([0, 0, 0, 0])
    assert probe.training
    ev = nn.evaluate(probe, X, y, loss="bce_with_logits", compile=compile)
    assert ev["accuracy"] == 1.0  # -1.0 logits predict class 0: evaluation-mode outputs
    assert probe.seen and not any(probe.seen)
    assert probe.training  # put back
    np.testing.assert_array_equal(nn.predict(probe, X, compile=compile), -np.ones(4))
    probe.eval()
    nn.evaluate(probe, X, y, loss="bce_with_logits", compile=compile)
    assert not probe.training  # an eval-mode model stays in eval mode
