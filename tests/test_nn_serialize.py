"""nn.save / nn.load / state_dict: exact round trips, atomic writes, rejection of bad files."""

from __future__ import annotations

import json
import os
import random
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import nn
from nn import limits, serialize


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
    assert doc["format"] == "autograd-core-nn" and doc["version"] == 2
    assert doc["architecture"]["negative_slope"] == 0.01 and doc["architecture"]["alpha"] == 1.0
    assert doc["architecture"]["type"] == "MLP" and doc["architecture"]["nouts"] == [3, 1]
    assert np.array(doc["state"]["layers.0.weight"]).shape == (3, 2)
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]  # no temporary file left behind
    assert path.stat().st_mode & 0o777 == 0o644  # an ordinary file, not mkstemp's private 0600


@pytest.mark.parametrize("name", ["model.pkl", "model", "model.json.bak", "model.txt"])
def test_save_refuses_a_file_name_not_ending_in_json_and_writes_nothing(name: str, tmp_path: Path) -> None:
    path = tmp_path / name
    stem = path.with_suffix(".json").name
    message = rf"the model is saved as JSON; give a file name ending in \.json, such as .*{re.escape(stem)}"
    with pytest.raises(ValueError, match=message):
        nn.save(nn.MLP(2, [3, 1], rng=0), path)
    assert list(tmp_path.iterdir()) == []


def test_save_accepts_json_in_any_case_as_the_command_line(tmp_path: Path) -> None:
    nn.save(nn.MLP(2, [3, 1], rng=0), str(tmp_path / "model.JSON"))
    assert nn.load(tmp_path / "model.JSON").config() == nn.MLP(2, [3, 1], rng=0).config()


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
        (["version"], 3, "'version' is 3; this version of nn reads versions 1, 2"),
        (["version"], 0, "'version' is 0"),
        (["version"], "1", "'version' is '1'"),
        (["format"], "pickle", "'format' is 'pickle'"),
        (["architecture", "type"], "Transformer", "unknown architecture type 'Transformer'"),
        (["architecture", "activation"], "gelu", "'activation' must be one of"),
        (["architecture", "nouts"], [3, 0], r"'nouts': nouts\[1\] must be at least 1, got 0"),
        (["architecture", "nouts"], [3, 1.0], r"'nouts'\[1\] must be an int, got 1.0"),
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
        # List- and object-typed fields where a string or number belongs: ValueError, not TypeError.
        (["architecture", "type"], ["MLP"], r"unknown architecture type \['MLP'\]"),
        (["architecture", "type"], {"a": 1}, "unknown architecture type"),
        (["architecture", "activation"], ["relu"], "'activation' must be one of"),
        (["architecture", "nin"], [2], "'nin' must be an int"),
        (["architecture", "negative_slope"], [0.1], "'negative_slope' must be a number"),
        (["architecture", "negative_slope"], 1.5, "'negative_slope': negative_slope must be in"),
        (["architecture", "alpha"], 0.0, "'alpha': ELU alpha must be a positive number"),
        (["format"], ["autograd-core-nn"], r"'format' is \['autograd-core-nn'\]"),
        (["version"], [2], r"'version' is \[2\]"),
        (["state", "layers.0.bias"], [0.0, [1.0], 0.0], "every weight must be a finite number"),
        # A weight of 10**400 overflows a float (OverflowError in math.isfinite before).
        (["state", "layers.0.bias"], [0.0, 10**400, 0.0], "'layers.0.bias' holds an integer of 401 digits, too large"),
        (["architecture", "nin"], 10**400, r"'nin': nin must be at most 100000 \(nn.limits.MAX_WIDTH\), got 1000.*cut"),
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
    monkeypatch.setattr(limits, "max_file_bytes", lambda: 10)
    with pytest.raises(ValueError, match="more than the limit of 10"):
        nn.load(path)


def test_load_missing_file_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        nn.load(tmp_path / "nope.json")


def _write_text(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "m.json"
    path.write_text(text)
    return path


def test_load_rejects_integers_past_pythons_digit_limit_naming_file_and_field(tmp_path: Path) -> None:
    # json.loads raised a bare ValueError "Exceeds the limit (4300 digits)" naming neither.
    path = tmp_path / "m.json"
    nn.save(nn.MLP(2, [3, 1], rng=0), path)
    doc = json.loads(path.read_text())
    doc["state"]["layers.1.bias"][0] = 12345.0
    huge = "9" * 5000
    text = json.dumps(doc).replace("12345.0", huge, 1)
    assert huge in text
    path.write_text(text)
    with pytest.raises(ValueError, match="'layers.1.bias' holds <an integer of 5000 digits>") as err:
        nn.load(path)
    assert str(path) in str(err.value)
    # The same in an architecture field.
    doc["architecture"]["nin"] = 7
    path.write_text(json.dumps(doc).replace('"nin": 7', f'"nin": -{huge}'))
    with pytest.raises(ValueError, match="'nin' must be an int, got <an integer of 5000 digits>") as err:
        nn.load(path)
    assert str(path) in str(err.value)


def test_load_rejects_deeply_nested_json_with_a_value_error(tmp_path: Path) -> None:
    for text in ("[" * 100_000 + "]" * 100_000, '{"a":' * 100_000 + "1" + "}" * 100_000):
        path = _write_text(tmp_path, text)
        with pytest.raises(ValueError, match="nested too deeply") as err:
            nn.load(path)
        assert str(path) in str(err.value)


def test_load_checks_the_state_before_building_the_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A ~600-byte file declaring MLP(1000, [1000, 998]) (about 2 million weights) with a 3x2
    # weight: load must reject it from the architecture's shapes, without making any Value.
    doc = {
        "format": "autograd-core-nn",
        "version": 2,
        "architecture": {
            "type": "MLP", "nin": 1000, "nouts": [1000, 998], "activation": "relu",
            "output_activation": "linear", "negative_slope": 0.01, "alpha": 1.0,
        },
        "state": {
            "layers.0.weight": [[0.0, 0.0]] * 3, "layers.0.bias": [0.0] * 3,
            "layers.1.weight": [[0.0, 0.0]] * 3, "layers.1.bias": [0.0] * 3,
        },
    }  # fmt: skip
    path = _write_text(tmp_path, json.dumps(doc))
    assert path.stat().st_size < 700
    built: list[Any] = []

    def spy(*args: Any, **kwargs: Any) -> Any:
        built.append(args)
        raise AssertionError("load built the model before checking the state")

    for name in ("MLP", "Layer", "Neuron", "Maxout", "BatchNorm", "Dropout"):
        monkeypatch.setattr(serialize, name, spy)
    monkeypatch.setattr(nn.layers.Value, "__init__", spy)  # not a single Value either
    with pytest.raises(ValueError, match=r"'layers.0.weight' has shape \[3, 2\], expected \[1000, 1000\]"):
        nn.load(path)
    assert built == []


def test_load_bounds_the_parameter_count_from_the_architecture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "m.json"
    nn.save(nn.MLP(2, [3, 1], "prelu", rng=0), path)
    # 3 * (2 + 1 + 1) + 1 * (3 + 1) = 16 parameters (prelu slopes included).
    monkeypatch.setattr(limits, "MAX_PARAMETERS", 15)
    with pytest.raises(ValueError, match="has 16 parameters, more than the limit of 15"):
        nn.load(path)
    monkeypatch.setattr(limits, "MAX_PARAMETERS", 16)
    assert isinstance(nn.load(path), nn.MLP)


@pytest.mark.parametrize(
    "make",
    [
        lambda: nn.BatchNorm(2, eps=2.0),
        lambda: nn.BatchNorm(2, momentum=1e-13),
        lambda: nn.BatchNorm(2, momentum=1.0, eps=1e-310),
        lambda: nn.Dropout(0.9999999),
        lambda: nn.Dropout(0.0),
        lambda: nn.MLP(2, [3, 1], "leaky_relu", negative_slope=1.0, alpha=1e6, rng=0),
        lambda: nn.Neuron(2, "elu", alpha=1e-300, negative_slope=0.0, rng=0),
    ],
)
def test_everything_a_constructor_accepts_saves_and_loads(make: Any, tmp_path: Path) -> None:
    m = make()
    path = tmp_path / "m.json"
    nn.save(m, path)
    back = nn.load(path)
    assert back.config() == m.config()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("momentum", 0.0), ("momentum", 1.5), ("momentum", -1e-13), ("eps", 0.0), ("eps", -1.0),
    ],
)  # fmt: skip
def test_what_load_refuses_the_constructor_refuses_too(field: str, value: float, tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    nn.save(nn.BatchNorm(2), path)
    doc = json.loads(path.read_text())
    doc["architecture"][field] = value
    path.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match=f"'{field}'"):
        nn.load(path)
    with pytest.raises(ValueError, match=f"BatchNorm {field}"):
        nn.BatchNorm(2, **{field: value})


@pytest.mark.parametrize("p", [1.0, -1e-9, 1.5])
def test_dropout_bounds_are_the_same_in_the_constructor_and_load(p: float, tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    nn.save(nn.Dropout(0.5), path)
    path.write_text(path.read_text().replace("0.5", repr(p)))
    with pytest.raises(ValueError, match="Dropout p must be in"):
        nn.load(path)
    with pytest.raises(ValueError, match="Dropout p must be in"):
        nn.Dropout(p)


def test_activation_constants_round_trip_through_save_and_load(tmp_path: Path) -> None:
    m = nn.MLP(2, [4, 1], "leaky_relu", output_activation="elu", negative_slope=0.1, alpha=0.5, rng=0)
    path = tmp_path / "m.json"
    nn.save(m, path)
    back = nn.load(path)
    assert isinstance(back, nn.MLP)
    assert (back.negative_slope, back.alpha) == (0.1, 0.5)
    for x in ([-3.0, 1.0], [2.0, -5.0], [-1.0, -1.0]):
        assert [v.data for v in back(x)] == [v.data for v in m(x)]
    # A different slope gives different outputs, so the constant really was carried.
    default = nn.MLP(2, [4, 1], "leaky_relu", output_activation="elu", rng=0)
    default.load_state_dict(m.state_dict())
    assert any([v.data for v in default(x)] != [v.data for v in m(x)] for x in ([-3.0, 1.0], [2.0, -5.0]))


@pytest.mark.parametrize(
    "arch",
    [
        {"type": "MLP", "nin": 2, "nouts": [3, 1], "activation": "leaky_relu", "output_activation": "elu"},
        {"type": "Layer", "nin": 2, "nout": 3, "activation": "leaky_relu"},
        {"type": "Neuron", "nin": 2, "activation": "elu"},
    ],
)
def test_version_1_files_still_load_with_the_default_constants(arch: dict[str, Any], tmp_path: Path) -> None:
    kind = arch["type"]
    m = {"MLP": lambda: nn.MLP(2, [3, 1], "leaky_relu", output_activation="elu", rng=0),
         "Layer": lambda: nn.Layer(2, 3, "leaky_relu", rng=0),
         "Neuron": lambda: nn.Neuron(2, "elu", rng=0)}[kind]()  # fmt: skip
    state = {k: a.tolist() for k, a in m.state_dict().items()}
    doc = {"format": "autograd-core-nn", "version": 1, "architecture": arch, "state": state}
    path = _write_text(tmp_path, json.dumps(doc))
    back = nn.load(path)
    assert back.config() == m.config()
    assert (back.negative_slope, back.alpha) == (0.01, 1.0)  # type: ignore[attr-defined]
    # The version-2 fields are not allowed in a version-1 file.
    doc["architecture"] = {**arch, "alpha": 1.0, "negative_slope": 0.01}
    path.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match=r"\(version 1\) .*unexpected \['alpha', 'negative_slope'\]"):
        nn.load(path)


def test_load_state_dict_refuses_a_negative_running_var() -> None:
    bn = nn.BatchNorm(3)
    sd = bn.state_dict()
    sd["running_var"] = np.array([1.0, -0.5, 1.0])
    with pytest.raises(ValueError, match=r"'running_var' holds -0.5 at flat index 1.*must be >= 0"):
        bn.load_state_dict(sd)
    assert [v.data for v in bn._running_var] == [1.0, 1.0, 1.0]  # nothing changed
    sd["running_var"] = np.array([0.0, 2.0, 1.0])  # zero is a valid variance
    bn.load_state_dict(sd)
    bn.eval()
    assert bn([[1.0, 2.0, 3.0]])[0][1].data == pytest.approx(2.0 / np.sqrt(2.0 + 1e-5))


def test_load_refuses_a_negative_running_var_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bn.json"
    nn.save(nn.BatchNorm(3), path)
    doc = json.loads(path.read_text())
    doc["state"]["running_var"][2] = -2.0
    path.write_text(json.dumps(doc))
    with pytest.raises(
        ValueError, match=re.escape(f"cannot load model from {str(path)!r}: state entry 'running_var'[2] is -2.0")
    ):
        nn.load(path)


@pytest.mark.parametrize(
    "bad",
    [
        np.array([["0.5", "1"], ["1", "1"]]),
        np.ones((2, 2), dtype=bool),
        np.ones((2, 2)) + 1j,
        np.array([[None, 1.0], [1.0, 1.0]], dtype=object),
    ],
    ids=["str", "bool", "complex", "object"],
)
def test_load_state_dict_refuses_non_real_dtypes(bad: np.ndarray) -> None:
    m = nn.MLP(2, [2], rng=random.Random(0))
    before = m.state_dict()
    sd = dict(before, **{"layers.0.weight": bad})
    with pytest.raises(TypeError, match=re.escape(f"'layers.0.weight' has dtype {bad.dtype}")):
        m.load_state_dict(sd)
    assert all(np.array_equal(before[k], v) for k, v in m.state_dict().items())
    # Int arrays are real numbers and load.
    m.load_state_dict(dict(before, **{"layers.0.weight": np.array([[1, 2], [3, 4]])}))
    assert m.state_dict()["layers.0.weight"].tolist() == [[1.0, 2.0], [3.0, 4.0]]
