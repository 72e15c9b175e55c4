"""nn.fit / evaluate / predict and the lecture notes' lessons about training."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import nn
from autograd_core import Value
from nn import data, optim


def _linear_model(w: float = 0.0, b: float = 0.0) -> nn.Layer:
    m = nn.Layer(1, 1, "linear")
    m.neurons[0].w[0].data, m.neurons[0].b.data = w, b
    return m


def _xy_line(n: int = 40, slope: float = 2.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    x = np.random.default_rng(seed).uniform(-1, 1, size=(n, 1))
    return x, slope * x[:, 0] + 0.5


def test_fit_l1_drives_irrelevant_weights_much_closer_to_zero_than_l2() -> None:
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(40, 4))
    y = 2 * X[:, 0] + 0.05 * rng.normal(size=40)  # only feature 0 matters
    irrelevant = {}
    for kind in ("l1", "l2"):
        m = nn.Layer(4, 1, "linear", rng=0)
        opt = optim.SGD(m.parameters(), lr=0.1)
        nn.fit(m, X, y, loss="mse", optimizer=opt, epochs=150, progress=False,
               l1=0.05 if kind == "l1" else 0.0, l2=0.05 if kind == "l2" else 0.0)  # fmt: skip
        irrelevant[kind] = np.abs(m.state_dict()["weight"][0, 1:]).mean()
    assert irrelevant["l1"] < 0.2 * irrelevant["l2"]
    assert irrelevant["l1"] < 0.01


def test_fit_early_stopping_restores_the_best_validation_weights() -> None:
    # Training pulls the slope towards 2, the validation data wants 0.5: the
    # validation loss falls, then rises, and training must stop and roll back.
    X, y = _xy_line(40, 2.0)
    Xv, yv = _xy_line(20, 0.5, seed=1)
    m = _linear_model()
    hist = nn.fit(
        m, X, y, loss="mse", optimizer=optim.SGD(m.parameters(), lr=0.1), epochs=200,
        val=(Xv, yv), early_stopping=nn.EarlyStopping(patience=3), progress=False,
    )  # fmt: skip
    assert hist.stopped_early and hist.epochs < 200
    best = int(np.argmin(hist.val_loss))
    assert hist.best_epoch == best and hist.epochs == best + 1 + 3
    assert nn.evaluate(m, Xv, yv, loss="mse")["loss"] == pytest.approx(hist.val_loss[best], rel=1e-12)
    assert hist.val_loss[-1] > hist.val_loss[best]


def test_fit_too_large_lr_diverges_good_lr_converges_on_linear_regression() -> None:
    X, y = _xy_line()
    good, bad = _linear_model(), _linear_model()
    h_good = nn.fit(good, X, y, loss="mse", optimizer=optim.SGD(good.parameters(), lr=0.5), epochs=60, progress=False)
    h_bad = nn.fit(bad, X, y, loss="mse", optimizer=optim.SGD(bad.parameters(), lr=2.5), epochs=60, progress=False)
    assert h_good.train_loss[-1] < 1e-6
    np.testing.assert_allclose(good.state_dict()["weight"], [[2.0]], atol=1e-3)
    assert not np.isfinite(h_bad.train_loss[-1]) or h_bad.train_loss[-1] > 1e6
    assert h_bad.train_loss[-1] > h_bad.train_loss[0]


@pytest.mark.parametrize(("batch_size", "lr", "epochs"), [(None, 0.5, 80), (8, 0.2, 40), (1, 0.05, 20)])
def test_fit_batch_minibatch_and_stochastic_descent_fit_the_same_line(
    batch_size: int | None, lr: float, epochs: int
) -> None:
    X, y = data.make_linear(40, noise=0.0, seed=2, features=2)
    m = nn.Layer(2, 1, "linear", rng=0)
    nn.fit(m, X, y, loss="mse", optimizer=optim.SGD(m.parameters(), lr=lr), epochs=epochs, batch_size=batch_size,
           progress=False)  # fmt: skip
    sd = m.state_dict()
    np.testing.assert_allclose(sd["weight"], [[2.0, -1.0]], atol=1e-3)
    np.testing.assert_allclose(sd["bias"], [0.5], atol=1e-3)


def test_fit_records_history_and_accuracy_matches_numpy() -> None:
    X, y = data.make_blobs(60, noise=0.3, seed=0, centers=3)
    m = nn.MLP(2, [8, 3], rng=random.Random(0))
    hist = nn.fit(m, X, y, loss="cross_entropy", optimizer=optim.Adam(m.parameters(), lr=0.05), epochs=6,
                  batch_size=10, val_split=0.25, progress=False)  # fmt: skip
    assert hist.epochs == 6 and len(hist.val_loss) == len(hist.val_accuracy) == len(hist.lr) == 6
    assert hist.train_loss[-1] < hist.train_loss[0]
    scores = nn.predict(m, X)
    assert scores.shape == (60, 3)
    ref = float(np.mean(np.argmax(scores, axis=1) == y))
    assert nn.evaluate(m, X, y, loss="cross_entropy")["accuracy"] == pytest.approx(ref)
    assert set(hist.as_dict()) >= {"train_loss", "train_accuracy", "val_loss", "val_accuracy", "best_epoch"}


def test_fit_regression_history_has_no_accuracy_and_progress_is_quiet_off_terminal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    X, y = _xy_line(10)
    m = _linear_model()
    hist = nn.fit(m, X, y, loss="mse", optimizer=optim.SGD(m.parameters(), lr=0.1), epochs=2, progress=True)
    assert hist.train_accuracy == [None, None] and hist.val_loss == []
    assert capsys.readouterr().err == ""


def test_fit_accepts_a_callable_loss() -> None:
    X, y = _xy_line(10)
    m = _linear_model()
    calls = []

    def loss(preds: list[Value], targets: list[float]) -> Value:
        calls.append(len(preds))
        return nn.losses.mse(preds, targets)

    nn.fit(m, X, y, loss=loss, optimizer=optim.SGD(m.parameters(), lr=0.1), epochs=2, batch_size=5, progress=False)
    assert calls == [5, 5, 5, 5]


def test_fit_hinge_maps_zero_one_labels_to_plus_minus_one() -> None:
    X = np.array([[1.0], [-1.0]])
    m = _linear_model(w=0.0)
    nn.fit(m, X, np.array([1, 0]), loss="hinge", optimizer=optim.SGD(m.parameters(), lr=1.0), epochs=1, progress=False)
    # d/dw mean(relu(1 - t w x)) at w = 0 with t = +1 at x = 1 and t = -1 at x = -1: -1.
    assert m.neurons[0].w[0].data == pytest.approx(1.0)


def test_fit_dropout_model_is_left_in_training_mode_and_evaluates_in_eval_mode() -> None:
    class Net(nn.Module):
        def __init__(self) -> None:
            self.body = nn.MLP(1, [4, 1], rng=0)
            self.drop = nn.Dropout(0.5, rng=0)

        def __call__(self, x: list[float]) -> list[Value]:
            return self.body(self.drop(x))

    net = Net()
    X, y = _xy_line(8)
    a = nn.predict(net, X)
    b = nn.predict(net, X)
    np.testing.assert_array_equal(a, b)  # eval mode: dropout is off, outputs repeat
    nn.fit(net, X, y, loss="mse", optimizer=optim.SGD(net.parameters(), lr=0.01), epochs=1, progress=False)
    assert net.training and net.drop.training


def test_fit_rejects_bad_arguments() -> None:
    X, y = _xy_line(10)
    m = _linear_model()
    opt = optim.SGD(m.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="unknown loss 'huber'"):
        nn.fit(m, X, y, loss="huber", optimizer=opt, epochs=1)
    with pytest.raises(ValueError, match="early_stopping needs validation data"):
        nn.fit(m, X, y, loss="mse", optimizer=opt, epochs=1, early_stopping=2)
    with pytest.raises(ValueError, match="either val or val_split"):
        nn.fit(m, X, y, loss="mse", optimizer=opt, epochs=1, val=(X, y), val_split=0.2)
    with pytest.raises(ValueError, match="epochs must be a positive int"):
        nn.fit(m, X, y, loss="mse", optimizer=opt, epochs=0)
    with pytest.raises(ValueError, match="same non-zero length"):
        nn.fit(m, X, y[:5], loss="mse", optimizer=opt, epochs=1)
    with pytest.raises(TypeError, match="optimizer must be"):
        nn.fit(m, X, y, loss="mse", optimizer=None, epochs=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="expects 1 inputs, got 2"):
        nn.fit(m, np.zeros((3, 2)), np.zeros(3), loss="mse", optimizer=opt, epochs=1, progress=False)


def test_fit_pauses_the_cyclic_gc_during_training_and_restores_it() -> None:
    import gc

    X, y = _xy_line(6)
    seen = []

    def loss(preds: list[Value], targets: list[float]) -> Value:
        seen.append(gc.isenabled())
        return nn.losses.mse(preds, targets)

    for enabled in (True, False):
        (gc.enable if enabled else gc.disable)()
        try:
            m = _linear_model()
            nn.fit(m, X, y, loss=loss, optimizer=optim.SGD(m.parameters(), lr=0.1), epochs=1, progress=False)
            assert gc.isenabled() is enabled
        finally:
            gc.enable()
    assert seen == [False, False]

    def failing(preds: list[Value], targets: list[float]) -> Value:
        raise RuntimeError("loss failed mid-training")

    m = _linear_model()
    with pytest.raises(RuntimeError, match="mid-training"):
        nn.fit(m, X, y, loss=failing, optimizer=optim.SGD(m.parameters(), lr=0.1), epochs=1, progress=False)
    assert gc.isenabled()


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


def test_fit_dropout_save_and_load_leave_the_global_rngs_untouched(tmp_path: Path) -> None:
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


@pytest.mark.parametrize("compile", [False, True])
def test_fit_records_the_diverged_epoch_and_stops_only_when_asked(compile: bool) -> None:
    X, y = nn.data.make_linear(20, noise=0.1, seed=0)
    runs = {}
    for stop in (False, True):
        m = nn.MLP(X.shape[1], [1], "linear", rng=random.Random(0))
        runs[stop] = nn.fit(m, X, y, loss="mse", optimizer=optim.SGD(m.parameters(), lr=50.0), epochs=40,
                            batch_size=5, val_split=0.25, progress=False, compile=compile,
                            stop_on_nonfinite=stop)  # fmt: skip
    full, stopped = runs[False], runs[True]
    assert full.epochs == 40 and full.diverged_epoch is not None  # fit's default runs every epoch, as PyTorch
    k = full.diverged_epoch
    assert all(np.isfinite(full.train_loss[:k])) and not np.isfinite(full.train_loss[k])
    assert stopped.diverged_epoch == k and stopped.epochs == k + 1 and len(stopped.val_loss) == k + 1
    assert stopped.as_dict()["diverged_epoch"] == k
    m = nn.MLP(X.shape[1], [1], "linear", rng=random.Random(0))
    fine = nn.fit(m, X, y, loss="mse", optimizer=optim.SGD(m.parameters(), lr=0.05), epochs=5, progress=False,
                  stop_on_nonfinite=True)  # fmt: skip
    assert fine.diverged_epoch is None and fine.epochs == 5


def _bn_sequential(p: float = 0.0) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(2, 8, rng=1), nn.BatchNorm(8), nn.ReLU(), nn.Dropout(p, rng=2), nn.Linear(8, 1, rng=3)
    )  # fmt: skip


@pytest.mark.parametrize("p", [0.0, 0.2])
def test_fit_sequential_with_batchnorm_trains_on_whole_batches(p: float) -> None:
    X, y = data.make_moons(60, noise=0.1, seed=0)
    m = _bn_sequential(p)
    hist = nn.fit(m, X, y, loss="bce_with_logits", optimizer=optim.Adam(m.parameters(), lr=0.05), epochs=30,
                  batch_size=8, val_split=0.2, progress=False)  # fmt: skip
    assert not hist.compiled and hist.eager_reason is not None and "BatchNorm" in hist.eager_reason
    assert hist.train_loss[-1] < 0.7 * hist.train_loss[0]
    assert nn.evaluate(m, X, y, loss="bce_with_logits")["accuracy"] >= 0.85
    bn = m[1]
    assert isinstance(bn, nn.BatchNorm) and bn.running_mean != [0.0] * 8  # statistics of whole batches
    assert m.training and nn.predict(m, X).shape == (60,)


def test_fit_feeds_a_batchnorm_sequential_each_batch_in_one_call() -> None:
    X, y = data.make_moons(12, noise=0.1, seed=0)
    m = _bn_sequential()
    calls: list[int] = []
    original = m.forward

    def spy(x: Any) -> Any:
        calls.append(len(x))
        return original(x)

    m.forward = spy  # type: ignore[method-assign]
    nn.fit(m, X, y, loss="mse", optimizer=optim.SGD(m.parameters(), lr=0.1), epochs=1, batch_size=5,
           progress=False)  # fmt: skip
    # One call per sample for the output count checked up front, then one per batch: 5, 5, 2.
    assert calls[-3:] == [5, 5, 2] and len(calls) <= 4


def test_fit_refuses_a_batch_of_one_for_batchnorm_before_any_step() -> None:
    X, y = data.make_moons(9, noise=0.1, seed=0)
    m = _bn_sequential()
    before = [p.data for p in m.parameters()]
    with pytest.raises(ValueError, match="BatchNorm, which needs at least 2 samples per batch .*batch_size=4 with 9"):
        nn.fit(m, X, y, loss="mse", optimizer=optim.SGD(m.parameters(), lr=0.1), epochs=2, batch_size=4,
               progress=False)  # fmt: skip
    assert [p.data for p in m.parameters()] == before


def test_fit_trains_a_bare_batchnorm_model_on_whole_batches() -> None:
    # y = 3 * standardized(x) + 1: BatchNorm's own scale and shift can fit it exactly.
    x = np.random.default_rng(0).normal(2.0, 4.0, size=(32, 1))
    y = 3.0 * (x[:, 0] - x.mean()) / x.std() + 1.0
    m = nn.BatchNorm(1)
    hist = nn.fit(m, x, y, loss="mse", optimizer=optim.SGD(m.parameters(), lr=0.2), epochs=60, progress=False)
    assert hist.train_loss[-1] < 1e-3
    assert m.weight[0].data == pytest.approx(3.0, abs=0.05) and m.bias[0].data == pytest.approx(1.0, abs=0.05)
