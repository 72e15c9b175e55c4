"""nn.Module, Neuron, Layer, MLP, Maxout, Dropout and BatchNorm against numpy and hand computation."""

from __future__ import annotations

import math
import random
from typing import Any

import numpy as np
import pytest

import nn
from autograd_core import Value


def _np_forward(model: nn.MLP, x: list[float]) -> np.ndarray:
    """The MLP's forward pass in numpy from its state dict (an independent reference)."""
    sd = model.state_dict()
    a = np.asarray(x, dtype=np.float64)
    for i, layer in enumerate(model.layers):
        z = sd[f"layers.{i}.weight"] @ a + sd[f"layers.{i}.bias"]
        act = layer.activation
        if act == "relu":
            a = np.maximum(z, 0)
        elif act == "tanh":
            a = np.tanh(z)
        elif act == "sigmoid":
            a = 1 / (1 + np.exp(-z))
        elif act == "leaky_relu":
            a = np.where(z > 0, z, 0.01 * z)
        elif act == "prelu":
            a = np.where(z > 0, z, sd[f"layers.{i}.slope"] * z)
        elif act == "elu":
            a = np.where(z > 0, z, np.expm1(z))
        else:
            a = z
    return a


@pytest.mark.parametrize("act", ["linear", "relu", "tanh", "sigmoid", "leaky_relu", "prelu", "elu"])
def test_mlp_forward_matches_numpy_for_every_activation(act: str) -> None:
    model = nn.MLP(3, [4, 2], act, output_activation=act, rng=random.Random(3))
    x = [0.5, -1.5, 2.0]
    got = [v.data for v in model(x)]
    np.testing.assert_allclose(got, _np_forward(model, x), rtol=1e-12, atol=1e-12)


def test_mlp_returns_a_list_also_for_one_output() -> None:
    out = nn.MLP(2, [3, 1], rng=0)([1.0, 2.0])
    assert isinstance(out, list) and len(out) == 1 and isinstance(out[0], Value)
    out = nn.Layer(2, 1, rng=0)([1.0, 2.0])
    assert isinstance(out, list) and len(out) == 1


def test_mlp_wrong_input_length_names_both_lengths() -> None:
    model = nn.MLP(2, [3, 1])
    with pytest.raises(ValueError, match="expects 2 inputs, got 3"):
        model([0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="expects 4 inputs, got 1"):
        nn.Layer(4, 2)([1.0])
    with pytest.raises(TypeError, match="wrap it"):
        model(1.0)


def test_mlp_bad_arguments_raise_clear_errors() -> None:
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        nn.MLP(2, [3], "swish")
    with pytest.raises(ValueError, match="unknown init 'zeros'"):
        nn.MLP(2, [3], init="zeros")
    with pytest.raises(ValueError, match="nouts\\[1\\] must be at least 1"):
        nn.MLP(2, [3, 0])
    with pytest.raises(TypeError, match="nin must be an int"):
        nn.Neuron(2.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="rng must be a random.Random"):
        nn.MLP(2, [3], rng=random)  # type: ignore[arg-type]


def test_named_parameters_are_stable_dotted_names() -> None:
    model = nn.MLP(2, [16, 16, 1])
    names = [n for n, _ in model.named_parameters()]
    assert names[:3] == ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1", "layers.0.neurons.0.b"]
    assert "layers.0.neurons.3.w.1" in names
    assert len(names) == len(set(names)) == 16 * 3 + 16 * 17 + 17
    assert [p for _, p in model.named_parameters()] == model.parameters()
    prelu = nn.Layer(2, 2, "prelu")
    assert [n for n, _ in prelu.named_parameters()][3] == "neurons.0.slope"


def test_prelu_slope_is_learnable_per_neuron() -> None:
    layer = nn.Layer(1, 2, "prelu", rng=0)
    for n in layer.neurons:
        n.w[0].data, n.b.data = 1.0, 0.0
    out = layer([-2.0])
    assert [o.data for o in out] == [-0.5, -0.5]  # 0.25 * -2
    out[0].backward()
    assert layer.neurons[0].slope.grad == -2.0 and layer.neurons[1].slope.grad == 0.0


def test_same_seed_same_model_and_global_rng_untouched() -> None:
    random.seed(123)
    before = random.getstate()
    a = nn.MLP(2, [8, 1], rng=random.Random(7))
    b = nn.MLP(2, [8, 1], rng=random.Random(7))
    c = nn.MLP(2, [8, 1], rng=random.Random(8))
    assert random.getstate() == before
    assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]
    assert [p.data for p in a.parameters()] != [p.data for p in c.parameters()]


@pytest.mark.parametrize(
    ("init", "act", "std"),
    [
        ("uniform", "relu", 1 / math.sqrt(3)),  # U(-1, 1)
        ("normal", "relu", 0.1),
        ("xavier", "tanh", math.sqrt(2 / (50 + 40))),
        ("he", "relu", math.sqrt(2 / 50)),
        ("auto", "relu", math.sqrt(2 / 50)),
        ("auto", "tanh", math.sqrt(2 / (50 + 40))),
    ],
)
def test_init_draws_weights_with_the_named_spread(init: str, act: str, std: float) -> None:
    layer = nn.Layer(50, 40, act, init=init, rng=random.Random(0))
    w = np.array([p.data for n in layer.neurons for p in n.w])
    assert abs(w.mean()) < 4 * std / math.sqrt(w.size)
    assert w.std() == pytest.approx(std, rel=0.06)
    assert all(n.b.data == 0.0 for n in layer.neurons)


def test_uniform_init_stays_in_minus_one_one() -> None:
    w = [p.data for p in nn.Layer(20, 20, init="uniform").parameters()]
    assert min(w) >= -1 and max(w) <= 1 and min(w) < -0.9 and max(w) > 0.9


def test_maxout_takes_the_largest_piece_and_routes_the_gradient() -> None:
    m = nn.Maxout(2, 1, 3, rng=0)
    for k, n in enumerate(m.neurons):
        n.w[0].data, n.w[1].data, n.b.data = float(k), -float(k), 0.5 * k
    out = m([2.0, 1.0])  # pieces: k * 2 - k * 1 + 0.5 k = 0, 1.5, 3
    assert out[0].data == 3.0
    out[0].backward()
    assert [n.w[0].grad for n in m.neurons] == [0.0, 0.0, 2.0]
    assert m.state_dict()["weight"].shape == (3, 2)
    with pytest.raises(ValueError, match="pieces must be at least 2"):
        nn.Maxout(2, 1, 1)


def test_dropout_changes_outputs_in_training_mode_only() -> None:
    drop = nn.Dropout(0.5, rng=random.Random(0))
    x = [Value(1.0) for _ in range(1000)]
    train_out = [v.data for v in drop(x)]
    assert set(train_out) == {0.0, 2.0}  # inverted dropout: kept values scaled by 1 / (1 - p)
    assert 0.4 < train_out.count(0.0) / 1000 < 0.6
    drop.eval()
    assert [v.data for v in drop(x)] == [1.0] * 1000
    with pytest.raises(ValueError, match="in \\[0, 1\\)"):
        nn.Dropout(1.0)


def test_train_and_eval_switch_every_submodule() -> None:
    model = nn.MLP(2, [3, 1])
    assert model.eval() is model
    assert all(not m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_batchnorm_training_gives_zero_mean_unit_variance_and_matches_numpy() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(3.0, 2.0, size=(8, 3))
    bn = nn.BatchNorm(3)
    out = np.array([[v.data for v in row] for row in bn([list(r) for r in X])])
    ref = (X - X.mean(0)) / np.sqrt(X.var(0) + 1e-5)
    np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(out.mean(0), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.var(0), 1.0, rtol=1e-4)
    # Running statistics: PyTorch's update with the unbiased batch variance.
    np.testing.assert_allclose(bn.running_mean, 0.1 * X.mean(0), rtol=1e-12)
    np.testing.assert_allclose(bn.running_var, 0.9 + 0.1 * X.var(0, ddof=1), rtol=1e-12)


def test_batchnorm_eval_uses_running_statistics_and_scale_shift_learn() -> None:
    bn = nn.BatchNorm(1, momentum=1.0)
    batch = [[1.0], [3.0]]
    bn(batch)  # running mean 2, running (unbiased) var 2
    bn.weight[0].data, bn.bias[0].data = 2.0, 0.5
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var"]
    assert [n for n, _ in bn.named_parameters()] == ["weight.0", "bias.0"]  # buffers are not parameters
    bn.eval()
    out = bn([[4.0]])
    assert out[0][0].data == pytest.approx(2.0 * (4.0 - 2.0) / math.sqrt(2.0 + 1e-5) + 0.5, rel=1e-12)
    out[0][0].backward()
    assert bn.bias[0].grad == 1.0
    assert bn.weight[0].grad == pytest.approx(2.0 / math.sqrt(2.0 + 1e-5))
    bn.train()
    with pytest.raises(ValueError, match="at least 2 samples"):
        bn([[1.0]])


def test_zero_grad_resets_every_parameter() -> None:
    model = nn.MLP(2, [3, 1])
    model([1.0, -1.0])[0].backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_repr_is_readable() -> None:
    text = repr(nn.MLP(2, [16, 1]))
    assert text.startswith("MLP(2, [16, 1], activation='relu'")
    assert "(layers.0): Layer(2, 16, activation='relu')" in text
    assert repr(nn.Neuron(3, "tanh")) == "Neuron(3, activation='tanh')"


def test_mlp_gradient_matches_central_differences() -> None:
    model = nn.MLP(2, [3, 1], "tanh", rng=1)
    x = [0.3, -0.7]
    model(x)[0].backward()
    for p in model.parameters():
        old = p.data
        p.data = old + 1e-6
        up = model(x)[0].data
        p.data = old - 1e-6
        down = model(x)[0].data
        p.data = old
        assert p.grad == pytest.approx((up - down) / 2e-6, abs=1e-7)


@pytest.mark.parametrize(
    ("call", "exc", "message"),
    [
        (lambda: nn.BatchNorm(2, momentum="a"), TypeError, "BatchNorm momentum must be a real number"),  # type: ignore[arg-type]
        (lambda: nn.BatchNorm(2, eps=float("nan")), ValueError, "BatchNorm eps must be a finite number"),
        (lambda: nn.Dropout("a"), TypeError, "Dropout p must be a real number"),  # type: ignore[arg-type]
        (lambda: nn.MLP(2, [1], negative_slope="a"), TypeError, "negative_slope must be a real number"),  # type: ignore[arg-type]
        (lambda: nn.MLP(2, [1], negative_slope=1.5), ValueError, "negative_slope must be in \\[0, 1\\]"),
        (lambda: nn.Layer(2, 1, alpha=0.0), ValueError, "ELU alpha must be a positive number"),
        (lambda: nn.Neuron(2, sigma=-1.0), ValueError, "sigma .* must be a positive number"),
        (lambda: nn.Neuron(2, sigma=None), TypeError, "sigma must be a real number"),  # type: ignore[arg-type]
    ],
)
def test_layers_bad_arguments_raise_the_right_type_naming_the_argument(call: Any, exc: type, message: str) -> None:
    with pytest.raises(exc, match=message):
        call()


def test_negative_slope_alpha_and_sigma_take_effect() -> None:
    # Lecture 05: Leaky ReLU is max(0.1x, x).
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
