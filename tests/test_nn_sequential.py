"""nn.sequential: Sequential, Linear and the activation modules against hand computation; Module.forward;
Dropout and BatchNorm inside a Sequential; fit / evaluate / predict / save / load of a Sequential."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import nn
from autograd_core import Value


def _data(vals: list[Any]) -> list[float]:
    return [v.data if isinstance(v, Value) else v for v in vals]


def _model(seed: int = 0) -> nn.Sequential:
    r = random.Random(seed)
    return nn.Sequential(nn.Linear(3, 4, rng=r), nn.ReLU(), nn.Dropout(0.5, rng=1), nn.Linear(4, 2, rng=r))


# -- Module.forward ---------------------------------------------------------------------------


def test_module_call_runs_forward() -> None:
    class Double(nn.Module):
        def forward(self, x: Any) -> Any:
            return [2 * v for v in x]

    assert Double()([1.0, 3.0]) == [2.0, 6.0]


def test_module_without_forward_names_the_class() -> None:
    class Empty(nn.Module):
        pass

    with pytest.raises(NotImplementedError, match="Empty does not define forward"):
        Empty()([1.0])


def test_existing_layers_compute_in_forward() -> None:
    mlp = nn.MLP(2, [3, 1], rng=0)
    assert _data(mlp.forward([0.5, -1.0])) == _data(mlp([0.5, -1.0]))


# -- Linear --------------------------------------------------------------------------------------


def test_linear_matches_numpy_and_returns_a_list_for_one_output() -> None:
    lin = nn.Linear(3, 1, rng=4)
    x = [0.5, -2.0, 1.5]
    out = lin(x)
    assert isinstance(out, list) and len(out) == 1 and isinstance(out[0], Value)
    sd = lin.state_dict()
    assert sd["weight"].shape == (1, 3) and sd["bias"].shape == (1,)
    np.testing.assert_allclose(_data(out), sd["weight"] @ np.array(x) + sd["bias"], rtol=1e-15)


def test_linear_init_is_pytorchs_uniform_bound_and_deterministic() -> None:
    lin = nn.Linear(16, 50, rng=random.Random(3))
    w = lin.state_dict()["weight"]
    b = lin.state_dict()["bias"]
    bound = 1 / math.sqrt(16)
    assert np.all(np.abs(w) <= bound) and np.all(np.abs(b) <= bound)
    assert np.abs(w).max() > 0.9 * bound  # spread over the whole interval, not a narrower one
    again = nn.Linear(16, 50, rng=random.Random(3)).state_dict()
    np.testing.assert_array_equal(again["weight"], w)
    # Weight row by row first, then the bias, from the one rng.
    r = random.Random(3)
    first = [r.uniform(-bound, bound) for _ in range(16)]
    assert list(w[0]) == first


def test_linear_without_bias_has_only_a_weight() -> None:
    lin = nn.Linear(2, 3, bias=False, rng=0)
    assert list(lin.state_dict()) == ["weight"] and len(lin.parameters()) == 6
    w = lin.state_dict()["weight"]
    np.testing.assert_allclose(_data(lin([1.0, 2.0])), w @ [1.0, 2.0], rtol=1e-15)


def test_linear_gradients_are_the_inputs() -> None:
    lin = nn.Linear(2, 1, rng=0)
    x = [Value(3.0), Value(-2.0)]
    lin(x)[0].backward()
    assert lin.grad_dict()["weight"].tolist() == [[3.0, -2.0]]
    assert lin.grad_dict()["bias"].tolist() == [1.0]
    assert [v.grad for v in x] == lin.state_dict()["weight"][0].tolist()


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: nn.Linear(0, 2), ValueError, "nin must be at least 1"),
        (lambda: nn.Linear(2, 2.5), TypeError, "nout must be an int"),  # type: ignore[arg-type]
        (lambda: nn.Linear(2, 2, bias=1), TypeError, "bias must be a bool"),  # type: ignore[arg-type]
        (lambda: nn.Linear(2, 2, rng=random), TypeError, "rng must be a random.Random"),  # type: ignore[arg-type]
        (lambda: nn.Linear(2, 2)([1.0]), ValueError, "Linear expects 2 inputs, got 1"),
        (lambda: nn.Linear(2, 2)(1.0), TypeError, r"wrap it: \[x\]"),
        (lambda: nn.Linear(2, 2)(["a", 1.0]), TypeError, "Linear input 0 must be a Value or a real number"),
    ],
)
def test_linear_rejects_bad_arguments_clearly(call: Any, exc: type[Exception], match: str) -> None:
    with pytest.raises(exc, match=match):
        call()


# -- activation modules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "fn"),
    [
        (nn.ReLU(), lambda x: max(0.0, x)),
        (nn.Tanh(), math.tanh),
        (nn.Sigmoid(), lambda x: 1 / (1 + math.exp(-x))),
        (nn.LeakyReLU(), lambda x: x if x > 0 else 0.01 * x),
        (nn.LeakyReLU(0.2), lambda x: x if x > 0 else 0.2 * x),
        (nn.ELU(), lambda x: x if x > 0 else math.expm1(x)),
        (nn.ELU(0.5), lambda x: x if x > 0 else 0.5 * math.expm1(x)),
        (nn.PReLU(), lambda x: x if x > 0 else 0.25 * x),
        (nn.Identity(), lambda x: x),
    ],
)
def test_activation_module_applies_its_function_to_every_entry(module: nn.Module, fn: Any) -> None:
    xs = [-1.5, -0.2, 0.3, 2.0]
    out = module(xs)
    assert all(isinstance(v, Value) for v in out)
    assert _data(out) == pytest.approx([fn(x) for x in xs], rel=1e-15)


def test_prelu_slopes_are_learned_per_feature() -> None:
    act = nn.PReLU(2, init=0.5)
    out = act([Value(-2.0), Value(-3.0)])
    (out[0] + out[1]).backward()
    assert list(act.state_dict()) == ["weight"]
    assert act.grad_dict()["weight"].tolist() == [-2.0, -3.0]
    with pytest.raises(ValueError, match="PReLU has 2 slopes"):
        act([1.0, 2.0, 3.0])


def test_activation_constants_are_checked() -> None:
    with pytest.raises(ValueError, match="negative_slope must be in"):
        nn.LeakyReLU(2.0)
    with pytest.raises(ValueError, match="alpha must be a positive"):
        nn.ELU(0.0)
    with pytest.raises(ValueError, match="PReLU init must be a finite number"):
        nn.PReLU(1, init=float("nan"))
    with pytest.raises(TypeError, match="PReLU init must be a real number"):
        nn.PReLU(1, init="0.25")  # type: ignore[arg-type]


# -- Sequential --------------------------------------------------------------------------------------


def test_sequential_state_dict_keys_are_pytorchs() -> None:
    m = nn.Sequential(nn.Linear(3, 4, rng=0), nn.Tanh(), nn.BatchNorm(4), nn.Linear(4, 1, rng=1))
    keys = ["0.weight", "0.bias", "2.weight", "2.bias", "2.running_mean", "2.running_var", "3.weight", "3.bias"]
    assert list(m.state_dict()) == keys
    assert m.named_parameters()[0][0] == "0.weight.0.0"
    assert len(m.parameters()) == 16 + 8 + 5


def test_sequential_equals_its_modules_applied_in_turn() -> None:
    m = _model().eval()
    x = [0.3, -1.0, 2.0]
    by_hand = m[3](m[2](m[1](m[0](x))))
    assert _data(m(x)) == _data(by_hand)


def test_sequential_indexing_length_iteration_and_repr() -> None:
    m = _model()
    assert len(m) == 4 and isinstance(m[0], nn.Linear) and m[-1] is m[3]
    tail = m[1:]
    assert isinstance(tail, nn.Sequential) and len(tail) == 3 and tail[0] is m[1]
    assert [type(c).__name__ for c in m] == ["Linear", "ReLU", "Dropout", "Linear"]
    assert "(0): Linear(in_features=3, out_features=4, bias=True)" in repr(m)
    with pytest.raises(IndexError, match="index 4 is out of range for 4"):
        m[4]


def test_sequential_train_and_eval_reach_every_module() -> None:
    m = _model()
    m.eval()
    assert not any(c.training for c in m.modules())
    m.train()
    assert all(c.training for c in m.modules())


def test_sequential_rejects_non_modules_and_repeated_modules() -> None:
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="Sequential item 1 must be an nn.Module, got builtin_function_or_method"):
        nn.Sequential(lin, math.tanh)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"not a list: Sequential\(\*mods\)"):
        nn.Sequential([lin])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="item 1 is the same object as item 0"):
        nn.Sequential(lin, lin)


def test_sequential_dropout_is_active_in_training_only() -> None:
    m = nn.Sequential(nn.Identity(), nn.Dropout(0.5, rng=3))
    x = [1.0] * 40
    train_out = _data(m(x))
    assert set(train_out) == {0.0, 2.0}  # inverted dropout: dropped, or scaled by 1 / (1 - p)
    assert _data(m.eval()(x)) == x


def test_sequential_feeds_batchnorm_the_whole_batch() -> None:
    m = nn.Sequential(nn.Linear(2, 3, rng=0), nn.BatchNorm(3), nn.ReLU())
    batch = [[1.0, 2.0], [0.5, -1.0], [-2.0, 0.3], [0.0, 1.0]]
    out = m(batch)
    assert len(out) == 4 and all(len(r) == 3 for r in out)
    pre = np.array([_data(m[0](s)) for s in batch])
    normed = (pre - pre.mean(0)) / np.sqrt(pre.var(0) + 1e-5)
    np.testing.assert_allclose([_data(r) for r in out], np.maximum(normed, 0.0), rtol=1e-12, atol=1e-15)
    # The running statistics moved, as BatchNorm's own update rule says.
    np.testing.assert_allclose(m[1].running_mean, 0.1 * pre.mean(0), rtol=1e-12)


def test_sequential_takes_a_numpy_batch_and_one_sample_alike() -> None:
    m = _model().eval()
    X = np.array([[0.1, 0.2, 0.3], [1.0, -1.0, 0.5]])
    batch = m(X)
    assert [_data(r) for r in batch] == [_data(m(list(row))) for row in X]


def test_sequential_batchnorm_in_training_needs_a_batch() -> None:
    m = nn.Sequential(nn.Linear(2, 2, rng=0), nn.BatchNorm(2))
    with pytest.raises(ValueError, match="at least 2 samples per batch"):
        m([1.0, 2.0])
    m.eval()
    assert len(m([1.0, 2.0])) == 2  # evaluation mode normalizes one sample with the running statistics


def test_sequential_gradients_flow_to_every_layer() -> None:
    m = nn.Sequential(nn.Linear(2, 3, rng=0), nn.Tanh(), nn.Linear(3, 1, rng=1))
    m([0.5, -0.5])[0].backward()
    assert all(np.any(g != 0) for g in m.grad_dict().values())
    assert list(m.grad_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_sequential_load_state_dict_round_trips() -> None:
    a, b = _model(0), _model(1)
    b.load_state_dict(a.state_dict())
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and np.array_equal(va, vb)
    with pytest.raises(ValueError, match=r"missing keys \['3.bias'\]"):
        b.load_state_dict({k: v for k, v in a.state_dict().items() if k != "3.bias"})


# -- with fit, evaluate, predict, save, load -------------------------------------------------------------


def _moons() -> tuple[np.ndarray, np.ndarray]:
    X, y = nn.data.make_moons(60, noise=0.1, seed=0)
    return X, y


def test_fit_trains_a_sequential() -> None:
    X, y = _moons()
    m = nn.Sequential(nn.Linear(2, 8, rng=0), nn.Tanh(), nn.Dropout(0.1, rng=1), nn.Linear(8, 1, rng=2))
    opt = nn.optim.Adam(m.parameters(), lr=0.05)
    yy = np.where(y > 0, 1.0, -1.0)
    hist = nn.fit(m, X, yy, loss="hinge", optimizer=opt, epochs=15, batch_size=20, seed=0)
    assert hist.train_loss[-1] < 0.6 * hist.train_loss[0]
    ev = nn.evaluate(m, X, yy, loss="hinge")
    assert ev["loss"] == pytest.approx(nn.evaluate(m, X, yy, loss="hinge", compile=False)["loss"], rel=1e-12)
    pred = nn.predict(m, X)
    assert pred.shape == (60,)
    m.eval()
    # The batched replay's matrix products add in another order than the eager fold: equal to rounding.
    np.testing.assert_allclose(pred, [m(list(x))[0].data for x in X], rtol=1e-12, atol=1e-12)


def test_evaluate_and_predict_run_a_sequential_with_batchnorm_in_eval_mode() -> None:
    X, y = _moons()
    m = nn.Sequential(nn.Linear(2, 4, rng=0), nn.BatchNorm(4), nn.ReLU(), nn.Linear(4, 1, rng=1))
    m(X.tolist())  # one training-mode batch moves the running statistics
    m.eval()
    pred = nn.predict(m, X)
    np.testing.assert_array_equal(pred, [m(list(x))[0].data for x in X])
    assert nn.evaluate(m, X, y.astype(float), loss="mse")["loss"] == pytest.approx(float(np.mean((pred - y) ** 2)))


def _file_state(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text())
    return doc


def test_save_and_load_a_sequential_bit_for_bit(tmp_path: Path) -> None:
    m = nn.Sequential(
        nn.Linear(2, 3, rng=0),
        nn.LeakyReLU(0.1),
        nn.BatchNorm(3, momentum=0.2),
        nn.PReLU(3, init=0.1),
        nn.ELU(0.7),
        nn.Sequential(nn.Linear(3, 2, bias=False, rng=1), nn.Sigmoid()),
        nn.Dropout(0.25),
        nn.MLP(2, [2, 1], "tanh", rng=2),
        nn.Identity(),
        nn.Tanh(),
        nn.ReLU(),
    )
    m([[1.0, 2.0], [0.0, -1.0], [3.0, 1.0]])  # non-trivial running statistics
    path = tmp_path / "seq.json"
    nn.save(m, path)
    doc = _file_state(path)
    assert doc["architecture"]["type"] == "Sequential" and doc["architecture"]["layers"][1] == {
        "type": "LeakyReLU",
        "negative_slope": 0.1,
    }
    back = nn.load(path)
    assert isinstance(back, nn.Sequential) and repr(back) == repr(m)
    for (k, a), (k2, b) in zip(m.state_dict().items(), back.state_dict().items()):
        assert k == k2 and np.array_equal(a, b)
    m.eval()
    back.eval()
    assert _data(back([0.4, -0.3])) == _data(m([0.4, -0.3]))


def _seq_doc(tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "m.json"
    nn.save(nn.Sequential(nn.Linear(2, 2, rng=0), nn.ReLU(), nn.BatchNorm(2)), path)
    return _file_state(path)


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda d: d["architecture"]["layers"].append({"type": "Conv2d"}), "Sequential layer 3: unknown architecture"),
        (lambda d: d["architecture"]["layers"][0].update(bias=1), "field 'bias' must be true or false"),
        (lambda d: d["architecture"]["layers"][1].update(inplace=True), r"ReLU .* unexpected \['inplace'\]"),
        (lambda d: d["architecture"].update(layers={"0": 1}), "'layers' must be a list"),
        (lambda d: d["state"].pop("0.bias"), r"missing \['0.bias'\]"),
        (lambda d: d["state"].update({"0.weight": [[1.0, 2.0]]}), r"'0.weight' has shape \[1, 2\], expected \[2, 2\]"),
        (lambda d: d["state"]["2.running_var"].__setitem__(0, -1.0), "variance and must be >= 0"),
        (lambda d: d.update(version=1), "needs a version-2 file"),
    ],
)
def test_load_rejects_a_bad_sequential_file_naming_the_problem(tmp_path: Path, edit: Any, match: str) -> None:
    doc = _seq_doc(tmp_path)
    edit(doc)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match=match):
        nn.load(path)


def test_load_refuses_sequentials_nested_too_deep(tmp_path: Path) -> None:
    arch: dict[str, Any] = {"type": "ReLU"}
    for _ in range(40):
        arch = {"type": "Sequential", "layers": [arch]}
    path = tmp_path / "deep.json"
    path.write_text(json.dumps({"format": "autograd-core-nn", "version": 2, "architecture": arch, "state": {}}))
    with pytest.raises(ValueError, match="nested more than 32 deep"):
        nn.load(path)


def test_save_refuses_a_sequential_holding_an_unsavable_module(tmp_path: Path) -> None:
    class Custom(nn.Module):
        def forward(self, x: Any) -> Any:
            return x

    with pytest.raises(TypeError, match="Custom cannot be saved"):
        nn.save(nn.Sequential(nn.Linear(1, 1), Custom()), tmp_path / "x.json")


def test_fit_compiled_sequential_matches_the_eager_run() -> None:
    X, y = _moons()
    yy = np.where(y > 0, 1.0, -1.0)
    runs = []
    for compile in (True, False):
        m = nn.Sequential(nn.Linear(2, 6, rng=0), nn.Tanh(), nn.Linear(6, 1, rng=1))
        hist = nn.fit(m, X, yy, loss="hinge", optimizer=nn.optim.SGD(m.parameters(), lr=0.1), epochs=3, compile=compile)
        assert hist.compiled is compile
        runs.append(np.concatenate([a.ravel() for a in m.state_dict().values()]))
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-9, atol=1e-12)


def test_linear_refuses_sizes_that_load_would_refuse() -> None:
    from nn.limits import MAX_WIDTH

    with pytest.raises(ValueError, match="MAX_WIDTH"):
        nn.Linear(MAX_WIDTH + 1, 1)
    with pytest.raises(ValueError, match="parameters"):
        nn.Linear(50_000, 50_000)


def test_nested_sequential_with_batchnorm_trains_with_fit() -> None:
    X, y = nn.data.make_moons(40, noise=0.1, seed=0)
    inner = nn.Sequential(nn.Linear(2, 4, rng=0), nn.BatchNorm(4), nn.ReLU())
    model = nn.Sequential(inner, nn.Linear(4, 1, rng=1))
    assert inner.takes_batch and model.takes_batch
    assert not nn.Sequential(nn.Linear(2, 1, rng=0)).takes_batch
    opt = nn.optim.Adam(model.parameters(), lr=0.05)
    history = nn.fit(model, X, y, loss="bce_with_logits", optimizer=opt, epochs=5, batch_size=10, progress=False)
    assert history.epochs == 5 and history.train_loss[-1] < history.train_loss[0]


def test_linear_lifts_each_float_input_once_like_mlp() -> None:
    from autograd_core import topo_order

    out = nn.Linear(2, 3, rng=0)([1.0, -2.0])
    total = out[0] + out[1] + out[2]
    leaves = [v for v in topo_order(total) if v.label in ("x0", "x1")]
    assert [v.label for v in leaves] == ["x0", "x1"]  # one node per input, shared by the three rows
    total.backward()
    m = nn.Linear(2, 3, rng=0)
    assert leaves[0].grad == pytest.approx(sum(row[0].data for row in m.weight))


def test_prelu_refuses_more_slopes_than_load_would_read() -> None:
    from nn.limits import MAX_WIDTH

    with pytest.raises(ValueError, match="MAX_WIDTH"):
        nn.PReLU(MAX_WIDTH + 1)
    with pytest.raises(ValueError, match="at least 1"):
        nn.PReLU(0)
    with pytest.raises(TypeError, match="must be an int"):
        nn.PReLU(2.0)  # type: ignore[arg-type]
