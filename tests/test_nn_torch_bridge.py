"""nn.to_torch / nn.from_torch on random (seeded) models and batches: the same state-dict keys and shapes,
the same outputs and gradients to 1e-12 relative in float64.

PyTorch is optional: outside CI these tests skip with a reason when it is missing; under CI=true a
missing torch fails them (.ci/setup installs torch==2.13.0 there).
"""

from __future__ import annotations

import builtins
import os
import random
from typing import Any

import numpy as np
import pytest

import nn
from autograd_core import Value

IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="module")
def torch() -> Any:
    try:
        import torch as t
    except ImportError:
        if IN_CI:
            pytest.fail("CI=true: PyTorch is not installed; .ci/setup installs torch==2.13.0 for these tests")
        pytest.skip("PyTorch is not installed (pip install 'autograd-core[torch]'); the bridge tests need it")
    return t


RTOL = 1e-12


def _close(ours: np.ndarray, theirs: np.ndarray, what: str, scale: float = 0.0) -> None:
    """Equal to 1e-12 relative, measured against the array's largest entry, or ``scale`` if larger.

    An entry that is mathematically 0 or the difference of large terms (a bias before a BatchNorm,
    whose gradient the batch-mean subtraction cancels) is rounding noise of the size of those terms
    in both engines; ``scale`` then is the largest gradient of the whole model.
    """
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    assert ours.shape == theirs.shape, what
    scale = max(float(np.max(np.abs(theirs), initial=0.0)), scale, 1e-300)
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=RTOL * scale, err_msg=what)


def _ours_forward_backward(model: nn.Module, X: np.ndarray, seed: int, batched: bool) -> tuple[Any, ...]:
    """Outputs, the weights C, input gradients and parameter gradients of sum(C * model(X)) in nn."""
    xs = [[Value(float(v)) for v in row] for row in X]
    model.zero_grad()
    outs = model(xs) if batched else [model(row) for row in xs]
    C = np.random.default_rng(seed + 1).normal(size=(len(outs), len(outs[0])))
    loss = Value(0.0)
    for row, c in zip(outs, C):
        for o, ci in zip(row, c):
            loss = loss + o * float(ci)
    loss.backward()
    out = np.array([[o.data for o in row] for row in outs])
    xgrad = np.array([[v.grad for v in row] for row in xs])
    return out, C, xgrad, model.grad_dict()


def _check_same(torch: Any, model: nn.Module, X: np.ndarray, seed: int, batched: bool = False) -> None:
    tm = nn.to_torch(model)
    ours_sd = model.state_dict()
    theirs_sd = tm.state_dict()
    assert list(theirs_sd) == list(ours_sd)
    assert {k: tuple(v.shape) for k, v in theirs_sd.items()} == {k: a.shape for k, a in ours_sd.items()}
    assert tm.training == model.training
    for k, v in theirs_sd.items():
        assert v.dtype == torch.float64 and np.array_equal(v.numpy(), ours_sd[k]), k

    out, C, xgrad, pgrad = _ours_forward_backward(model, X, seed, batched)
    xt = torch.tensor(X, dtype=torch.float64, requires_grad=True)
    yt = tm(xt)
    (yt * torch.from_numpy(C)).sum().backward()
    _close(out, yt.detach().numpy(), "outputs")
    _close(
        xgrad,
        xt.grad.numpy(),
        "input gradients",
        max(float(np.max(np.abs(g))) for g in pgrad.values()) if batched else 0.0,
    )
    tgrads = {k: p.grad.numpy() for k, p in tm.named_parameters()}
    assert list(tgrads) == list(pgrad)
    # Through a BatchNorm in training mode, gradients are compared at the model's largest gradient.
    scale = max(float(np.max(np.abs(g))) for g in [xgrad, *pgrad.values()]) if batched else 0.0
    for k in pgrad:
        _close(pgrad[k], tgrads[k], f"gradient of {k}", scale)
    # Buffers (BatchNorm's running statistics) moved alike in training mode.
    for k, v in tm.state_dict().items():
        _close(model.state_dict()[k], v.numpy(), f"state {k} after the step")


_ACTS = ["relu", "tanh", "sigmoid", "leaky_relu", "prelu", "elu", "linear"]


@pytest.mark.parametrize("seed", range(6))
def test_to_torch_mlp_gives_the_same_outputs_and_gradients(torch: Any, seed: int) -> None:
    r = random.Random(seed)
    nin = r.randint(1, 4)
    nouts = [r.randint(1, 5) for _ in range(r.randint(1, 3))]
    mlp = nn.MLP(
        nin,
        nouts,
        r.choice(_ACTS),
        output_activation=r.choice(_ACTS),
        negative_slope=r.uniform(0.0, 0.5),
        alpha=r.uniform(0.5, 2.0),
        init=r.choice(["uniform", "he", "xavier"]),
        rng=r,
    )
    # Train a little so that prelu slopes are not all equal to their initial 0.25.
    for p in mlp.parameters():
        p.data += r.gauss(0.0, 0.05)
    X = np.random.default_rng(seed).normal(size=(r.randint(2, 7), nin))
    _check_same(torch, mlp, X, seed)


def _random_sequential(r: random.Random, nin: int, with_batchnorm: bool) -> nn.Sequential:
    layers: list[nn.Module] = []
    width = nin
    for i in range(r.randint(1, 3)):
        nout = r.randint(1, 5)
        layers.append(nn.Linear(width, nout, bias=r.random() < 0.8, rng=r))
        if with_batchnorm and i == 0:
            bn = nn.BatchNorm(nout, momentum=r.uniform(0.05, 0.5), eps=r.choice([1e-5, 1e-3]))
            for v in bn.parameters():
                v.data += r.gauss(0.0, 0.1)
            layers.append(bn)
        act = r.choice(
            [
                nn.ReLU(),
                nn.Tanh(),
                nn.Sigmoid(),
                nn.LeakyReLU(r.uniform(0, 1)),
                nn.ELU(r.uniform(0.5, 2)),
                nn.Identity(),
            ]
        )
        layers.append(act)
        if r.random() < 0.4:
            layers.append(nn.PReLU(r.choice([1, nout]), init=r.uniform(0.0, 0.5)))
        width = nout
    if r.random() < 0.5:
        layers.append(nn.Sequential(nn.Linear(width, 2, rng=r), nn.Tanh()))  # nested
    return nn.Sequential(*layers)


@pytest.mark.parametrize("seed", range(6))
def test_to_torch_sequential_gives_the_same_outputs_and_gradients(torch: Any, seed: int) -> None:
    r = random.Random(100 + seed)
    nin = r.randint(1, 4)
    model = _random_sequential(r, nin, with_batchnorm=False)
    X = np.random.default_rng(seed).normal(size=(r.randint(1, 6), nin))
    _check_same(torch, model, X, seed)


@pytest.mark.parametrize("seed", range(4))
def test_to_torch_batchnorm_matches_in_training_mode_on_the_whole_batch(torch: Any, seed: int) -> None:
    r = random.Random(200 + seed)
    nin = r.randint(1, 4)
    model = _random_sequential(r, nin, with_batchnorm=True)
    X = np.random.default_rng(seed).normal(size=(r.randint(3, 8), nin))
    _check_same(torch, model, X, seed, batched=True)


def test_to_torch_batchnorm_and_dropout_match_in_eval_mode(torch: Any) -> None:
    model = nn.Sequential(nn.Linear(3, 4, rng=1), nn.BatchNorm(4), nn.Dropout(0.5), nn.ReLU(), nn.Linear(4, 2, rng=2))
    model(np.random.default_rng(0).normal(size=(6, 3)))  # training-mode batch: running statistics move
    model.eval()
    _check_same(torch, model, np.random.default_rng(1).normal(size=(5, 3)), 1)


def test_to_torch_copies_weights_not_shares_them(torch: Any) -> None:
    model = nn.Sequential(nn.Linear(2, 2, rng=0))
    tm = nn.to_torch(model)
    with torch.no_grad():
        tm[0].weight.add_(1.0)
    assert not np.array_equal(model.state_dict()["0.weight"], tm.state_dict()["0.weight"].numpy())


@pytest.mark.parametrize("seed", range(3))
def test_from_torch_round_trips_what_to_torch_made(torch: Any, seed: int) -> None:
    r = random.Random(300 + seed)
    for model in (nn.MLP(3, [4, 2], r.choice(_ACTS), rng=r), _random_sequential(r, 3, with_batchnorm=True)):
        back = nn.from_torch(nn.to_torch(model))
        assert type(back) is type(model) and repr(back) == repr(model)
        for (k, a), (k2, b) in zip(model.state_dict().items(), back.state_dict().items()):
            assert k == k2 and np.array_equal(a, b)


def test_from_torch_converts_a_float32_torch_sequential(torch: Any) -> None:
    torch.manual_seed(0)
    tm = torch.nn.Sequential(
        torch.nn.Linear(3, 5),
        torch.nn.BatchNorm1d(5),
        torch.nn.LeakyReLU(0.2),
        torch.nn.Dropout(0.1),
        torch.nn.Linear(5, 1, bias=False),
        torch.nn.Sigmoid(),
    )
    tm(torch.randn(4, 3))  # move the running statistics
    tm.eval()
    model = nn.from_torch(tm)
    assert not model.training and isinstance(model, nn.Sequential)
    assert list(model.state_dict()) == [k for k in tm.state_dict() if not k.endswith("num_batches_tracked")]
    x = torch.randn(3, 3)
    want = tm(x).detach().double().numpy()
    got = np.array([[o.data for o in model(row)] for row in x.double().numpy().tolist()])
    np.testing.assert_allclose(got, want, rtol=1e-5)  # float32 weights, computed in float64 here


def test_to_torch_refuses_what_it_cannot_convert(torch: Any) -> None:
    with pytest.raises(TypeError, match="cannot convert a Maxout; it converts MLP, Layer, Sequential"):
        nn.to_torch(nn.Sequential(nn.Linear(2, 2), nn.Maxout(2, 1)))
    with pytest.raises(TypeError, match="needs an nn.Module"):
        nn.to_torch(torch.nn.Linear(2, 2))


def test_from_torch_refuses_what_it_cannot_convert(torch: Any) -> None:
    with pytest.raises(TypeError, match="cannot convert a Conv1d"):
        nn.from_torch(torch.nn.Sequential(torch.nn.Conv1d(1, 1, 1)))
    with pytest.raises(ValueError, match="only with affine=True"):
        nn.from_torch(torch.nn.BatchNorm1d(3, affine=False))
    with pytest.raises(ValueError, match="negative_slope must be in"):
        nn.from_torch(torch.nn.LeakyReLU(3.0))
    with pytest.raises(TypeError, match="needs a torch.nn.Module"):
        nn.from_torch(nn.Linear(2, 2))


def test_without_torch_the_bridge_names_the_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    # Runs with or without PyTorch installed: the import is made to fail.
    real_import = builtins.__import__

    def no_torch(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "torch" or name.startswith("torch."):
            raise ImportError("No module named 'torch'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_torch)
    with pytest.raises(ImportError, match=r"pip install 'autograd-core\[torch\]'"):
        nn.from_torch(object())
    with pytest.raises(ImportError, match=r"nn.to_torch needs PyTorch"):
        nn.to_torch(nn.Sequential(nn.Linear(1, 1)))
