"""nn.save / nn.load / state_dict: exact round trips, atomic writes, rejection of bad files."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import nn
from nn import serialize


def _model() -> nn.MLP:
    m = nn.MLP(3, [4, 2], "prelu", output_activation="tanh", rng=random.Random(1))
    # Awkward floats: a round trip through decimal text must keep every bit.
    for i, p in enumerate(m.parameters()):
        p.data = (i + 1) / 7 * (-1) ** i + 1e-17 * i
    return m


def _trained_batchnorm() -> nn.BatchNorm:
    bn = nn.BatchNorm(2)
    bn([[1.0, 2.0], [3.0, -5.0], [0.5, 0.25]])  # moves the running statistics off their start
    bn.weight[1].data = 1.0 / 3.0
    return bn


def _same(a: nn.Module, b: nn.Module) -> bool:
    return [(n, p.data) for n, p in a.named_parameters()] == [(n, p.data) for n, p in b.named_parameters()]


@pytest.mark.parametrize(
    "make",
    [
        _model,
        lambda: nn.Layer(2, 3, "sigmoid", rng=2),
        lambda: nn.Neuron(4, "elu", rng=3),
        lambda: nn.Maxout(2, 2, 3, rng=4),
        lambda: nn.BatchNorm(3, momentum=0.2, eps=1e-3),
        lambda: _trained_batchnorm(),
    ],
)
def test_save_load_round_trip_is_exact(make: Any, tmp_path: Path) -> None:
    m = make()
    path = tmp_path / "m.json"
    nn.save(m, path)
    back = nn.load(path)
    assert type(back) is type(m) and back.config() == m.config()
    assert _same(m, back)
    assert {k: v.tolist() for k, v in m.state_dict().items()} == {k: v.tolist() for k, v in back.state_dict().items()}
    x = [0.3] * getattr(m, "nin", 0)
    if x:
        out_a, out_b = m(x), back(x)
        outs = (out_a, out_b) if isinstance(out_a, list) else ([out_a], [out_b])
        assert [v.data for v in outs[0]] == [v.data for v in outs[1]]


def test_state_dict_uses_torch_linear_layout_and_round_trips() -> None:
    m = _model()
    sd = m.state_dict()
    assert list(sd) == ["layers.0.weight", "layers.0.bias", "layers.0.slope", "layers.1.weight", "layers.1.bias"]
    assert sd["layers.0.weight"].shape == (4, 3) and sd["layers.0.bias"].shape == (4,)
    assert sd["layers.1.weight"].shape == (2, 4)
    assert sd["layers.0.weight"][2, 1] == m.layers[0].neurons[2].w[1].data  # row = output, column = input
    # numpy forward with the state dict equals the model's forward.
    x = np.array([0.1, -0.4, 0.9])
    h = sd["layers.0.weight"] @ x + sd["layers.0.bias"]
    h = np.where(h > 0, h, sd["layers.0.slope"] * h)
    out = np.tanh(sd["layers.1.weight"] @ h + sd["layers.1.bias"])
    np.testing.assert_allclose([v.data for v in m(list(x))], out, rtol=1e-12)
    other = nn.MLP(3, [4, 2], "prelu", output_activation="tanh", rng=random.Random(9))
    other.load_state_dict(sd)
    assert _same(m, other)
    sd["layers.0.bias"][0] = 99.0  # the state dict is a copy
    assert m.layers[0].neurons[0].b.data != 99.0


def test_load_state_dict_rejects_bad_state_without_changing_anything() -> None:
    m = _model()
    before = [p.data for p in m.parameters()]
    sd = m.state_dict()
    bad_shape = dict(sd, **{"layers.0.weight": np.zeros((3, 4))})
    with pytest.raises(ValueError, match=r"'layers.0.weight' has shape \[3, 4\], expected \[4, 3\]"):
        m.load_state_dict(bad_shape)
    with pytest.raises(ValueError, match="missing keys \\['layers.1.bias'\\]"):
        m.load_state_dict({k: v for k, v in sd.items() if k != "layers.1.bias"})
    nan = dict(sd, **{"layers.1.bias": np.array([0.0, np.nan])})
    with pytest.raises(ValueError, match="non-finite"):
        m.load_state_dict(nan)
    assert [p.data for p in m.parameters()] == before


def test_saved_file_is_versioned_json(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    nn.save(nn.MLP(2, [3, 1]), path)
    doc = json.loads(path.read_text())
    assert doc["format"] == "autograd-core-nn" and doc["version"] == 1
    assert doc["architecture"]["type"] == "MLP" and doc["architecture"]["nouts"] == [3, 1]
    assert np.array(doc["state"]["layers.0.weight"]).shape == (3, 2)
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]  # no temporary file left behind
    assert path.stat().st_mode & 0o777 == 0o644  # an ordinary file, not mkstemp's private 0600


def test_save_is_atomic_when_the_write_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "m.json"
    nn.save(nn.MLP(2, [3, 1]), path)
    old = path.read_bytes()

    def crash(*_: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        nn.save(nn.MLP(2, [5, 1]), path)
    assert path.read_bytes() == old
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]


def test_save_rejects_non_finite_weights_and_unsavable_modules(tmp_path: Path) -> None:
    m = nn.MLP(2, [3, 1])
    m.layers[1].neurons[0].b.data = float("nan")
    with pytest.raises(ValueError, match=r"non-finite weights .*layers\.1\.bias"):
        nn.save(m, tmp_path / "m.json")

    class Custom(nn.Module):
        pass

    with pytest.raises(TypeError, match="Custom cannot be saved"):
        nn.save(Custom(), tmp_path / "c.json")
    assert not (tmp_path / "m.json").exists()


def _write_doc(tmp_path: Path, edit: Any) -> Path:
    path = tmp_path / "m.json"
    nn.save(nn.MLP(2, [3, 1], rng=0), path)
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))
    return path


def _set(doc: dict[str, Any], keys: list[Any], value: Any) -> None:
    for k in keys[:-1]:
        doc = doc[k]
    doc[keys[-1]] = value


@pytest.mark.parametrize(
    ("keys", "value", "message"),
    [
        (["version"], 2, "'version' is 2"),
        (["version"], "1", "'version' is '1'"),
        (["format"], "pickle", "'format' is 'pickle'"),
        (["architecture", "type"], "Transformer", "unknown architecture type 'Transformer'"),
        (["architecture", "activation"], "gelu", "'activation' must be one of"),
        (["architecture", "nouts"], [3, 0], r"'nouts'\[1\] must be an int"),
        (["architecture", "nouts"], [100000, 100000, 1], "more than the limit"),
        (["architecture", "nin"], True, "'nin' must be an int"),
        (["architecture", "extra"], 1, "unexpected \\['extra'\\]"),
        (["state", "layers.0.weight"], [[1.0, 2.0, 3.0]] * 3, r"shape \[3, 3\], expected \[3, 2\]"),
        (["state", "layers.0.weight"], [[1.0], [2.0, 3.0], [4.0, 5.0]], "rows of different lengths"),
        (["state", "layers.0.bias"], [0.0, "0", 0.0], "every weight must be a finite number"),
        (["state", "layers.0.bias"], [0.0, True, 0.0], "every weight must be a finite number"),
        (["state", "layers.1.bias"], None, "not an array of shape \\[1\\]"),
        (["state", "layers.9.bias"], [0.0], "unexpected \\['layers.9.bias'\\]"),
        (["state"], [], "'state' must be an object"),
    ],
)
def test_load_rejects_tampered_files_naming_file_and_problem(
    tmp_path: Path, keys: list[Any], value: Any, message: str
) -> None:
    path = _write_doc(tmp_path, lambda d: _set(d, keys, value))
    with pytest.raises(ValueError, match=message) as err:
        nn.load(path)
    assert str(path) in str(err.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("not json at all", "not valid JSON"),
        ("[1, 2]", "top level must be a JSON object"),
        ('{"format": "autograd-core-nn", "format": "x"}', "appears twice"),
        ("\x80\x81 garbage", "not UTF-8"),
    ],
)
def test_load_rejects_empty_garbage_and_non_json(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "m.json"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(ValueError, match=message):
        nn.load(path)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_load_rejects_nan_and_infinite_weights(tmp_path: Path, literal: str) -> None:
    path = tmp_path / "m.json"
    nn.save(nn.MLP(2, [3, 1], rng=0), path)
    text = path.read_text()
    doc = json.loads(text)
    first = repr(doc["state"]["layers.0.weight"][0][0])
    path.write_text(text.replace(first, literal, 1))
    with pytest.raises(ValueError, match="finite number") as err:
        nn.load(path)
    assert "m.json" in str(err.value)


def test_load_rejects_truncated_files_at_every_cut(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    nn.save(nn.MLP(2, [2, 1], rng=0), path)
    full = path.read_bytes()
    for cut in range(0, len(full) - 1, max(1, len(full) // 40)):
        path.write_bytes(full[:cut])
        with pytest.raises(ValueError, match="cannot load model from"):
            nn.load(path)


def test_load_rejects_oversized_files_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "m.json"
    nn.save(nn.MLP(2, [3, 1]), path)
    monkeypatch.setattr(serialize, "MAX_BYTES", 10)
    with pytest.raises(ValueError, match="more than the limit of 10"):
        nn.load(path)


def test_load_missing_file_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        nn.load(tmp_path / "nope.json")
