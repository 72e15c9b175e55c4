"""nn.limits: one set of size limits for the constructors, nn.save and nn.load.

A constructor refuses exactly what load refuses, with the same message, so
save can never write a file that load rejects; load bounds its work before
parsing, so a hostile file is refused quickly.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

import nn
from autograd_core.messages import MAX_MESSAGE
from nn import limits


def _arch_file(tmp_path: Path, arch: dict[str, Any]) -> Path:
    """A model file declaring ``arch`` with an empty state (load must refuse it from the architecture)."""
    full = {"negative_slope": 0.01, "alpha": 1.0, **arch} if arch["type"] in ("MLP", "Layer", "Neuron") else arch
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"format": "autograd-core-nn", "version": 2, "architecture": full, "state": {}}))
    return path


def _mlp_arch(nin: int, nouts: list[int]) -> dict[str, Any]:
    return {"type": "MLP", "nin": nin, "nouts": nouts, "activation": "relu", "output_activation": "linear"}


# Each case: a constructor call past one limit, and the architecture a file would declare for it.
PAST_THE_LIMITS = [
    (lambda: nn.MLP(2, [1500, 1500, 1]), _mlp_arch(2, [1500, 1500, 1]), "MLP has 2257501 parameters"),
    (lambda: nn.MLP(2, [100_000, 100_000]), _mlp_arch(2, [100_000, 100_000]), "more than the limit of 2000000"),
    (lambda: nn.MLP(1, [1] * 1001), _mlp_arch(1, [1] * 1001), "the number of layers must be at most 1000"),
    (lambda: nn.MLP(100_001, [1]), _mlp_arch(100_001, [1]), "nin must be at most 100000"),
    (lambda: nn.MLP(1, [1, 100_001]), _mlp_arch(1, [1, 100_001]), r"nouts\[1\] must be at most 100000"),
    (
        lambda: nn.Maxout(2, 1, 1001),
        {"type": "Maxout", "nin": 2, "nout": 1, "pieces": 1001},
        "pieces must be at most 1000",
    ),
    (
        lambda: nn.Maxout(1000, 1000, 3),
        {"type": "Maxout", "nin": 1000, "nout": 1000, "pieces": 3},
        "Maxout has 3003000 parameters",
    ),
    (
        lambda: nn.Neuron(100_001),
        {"type": "Neuron", "nin": 100_001, "activation": "relu"},
        "nin must be at most 100000",
    ),
    (
        lambda: nn.Layer(100_000, 100),
        {"type": "Layer", "nin": 100_000, "nout": 100, "activation": "relu"},
        "Layer has 10000100 parameters",
    ),
    (
        lambda: nn.BatchNorm(100_001),
        {"type": "BatchNorm", "num_features": 100_001, "momentum": 0.1, "eps": 1e-5},
        "num_features must be at most 100000",
    ),
]


@pytest.mark.parametrize(("make", "arch", "message"), PAST_THE_LIMITS)
def test_constructor_refuses_at_once_what_load_refuses_with_the_same_message(
    make: Any, arch: dict[str, Any], message: str, tmp_path: Path
) -> None:
    start = time.monotonic()
    with pytest.raises(ValueError, match=message) as built:
        make()
    assert time.monotonic() - start < 1.0, "the limit must be checked before anything is built"
    with pytest.raises(ValueError, match=message) as loaded:
        nn.load(_arch_file(tmp_path, arch))
    assert str(built.value) in str(loaded.value)
    assert "limits." in str(built.value)  # names the limit to look up


@pytest.mark.parametrize(
    "make",
    [
        lambda: nn.MLP(1, [1] * limits.MAX_LAYERS),
        lambda: nn.Maxout(1, 1, limits.MAX_PIECES),
        lambda: nn.Neuron(limits.MAX_WIDTH, "prelu"),
    ],
)
def test_models_at_the_limits_save_and_load_back(make: Any, tmp_path: Path) -> None:
    m = make()
    nn.save(m, tmp_path / "m.json")
    back = nn.load(tmp_path / "m.json")
    assert type(back) is type(m) and back.config() == m.config()


def test_parameter_limit_is_exact_for_constructor_and_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "m.json"
    nn.save(nn.MLP(2, [3, 1], "prelu", rng=0), path)  # 3 * (2 + 1 + 1) + 1 * (3 + 1) = 16 parameters
    monkeypatch.setattr(limits, "MAX_PARAMETERS", 16)
    assert isinstance(nn.MLP(2, [3, 1], "prelu"), nn.MLP)
    assert isinstance(nn.load(path), nn.MLP)
    monkeypatch.setattr(limits, "MAX_PARAMETERS", 15)
    with pytest.raises(ValueError, match="MLP has 16 parameters, more than the limit of 15") as built:
        nn.MLP(2, [3, 1], "prelu")
    with pytest.raises(ValueError, match="MLP has 16 parameters, more than the limit of 15") as loaded:
        nn.load(path)
    assert str(built.value) in str(loaded.value)


def _worst_case(n: int) -> nn.Layer:
    """A Layer of one input and ``n`` prelu units, every number the longest float repr."""
    m = nn.Layer(1, n, "prelu")
    for p in m.parameters():
        p.data = -1.2345678901234567e-308
    return m


def test_save_stays_within_bytes_per_parameter_for_the_longest_numbers(tmp_path: Path) -> None:
    sizes = {}
    for n in (100, 200):
        nn.save(_worst_case(n), tmp_path / f"{n}.json")
        sizes[n] = (tmp_path / f"{n}.json").stat().st_size
    per_parameter = (sizes[200] - sizes[100]) / (3 * 100)  # 3 numbers per unit: weight, bias, slope
    assert per_parameter <= limits.BYTES_PER_PARAMETER
    deep = nn.MLP(1, [1] * limits.MAX_LAYERS, "prelu")  # the most keys a file can have
    for p in deep.parameters():
        p.data = -1.2345678901234567e-308
    nn.save(deep, tmp_path / "deep.json")
    count = sum(a.size for a in deep.state_dict().values())
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(limits, "MAX_PARAMETERS", count)
        assert (tmp_path / "deep.json").stat().st_size <= limits.max_file_bytes()
        assert nn.load(tmp_path / "deep.json").config() == deep.config()


def test_save_refuses_what_load_would_refuse_and_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "m.json"
    path.write_text("old")
    m = nn.MLP(2, [3, 1], rng=0)  # 13 parameters
    monkeypatch.setattr(limits, "MAX_PARAMETERS", 12)  # as if the model had grown past the limit after building
    with pytest.raises(ValueError, match="cannot save MLP: MLP has 13 parameters, more than the limit of 12"):
        nn.save(m, path)
    monkeypatch.setattr(limits, "MAX_PARAMETERS", 13)
    monkeypatch.setattr(limits, "max_file_bytes", lambda: 100)  # a file budget smaller than this model
    with pytest.raises(ValueError, match=r"the file would have \d+ bytes, more than the limit of 100"):
        nn.save(m, path)
    assert path.read_text() == "old"


@pytest.mark.parametrize("item", [b"[],", b"{},", b"0,"])
def test_load_refuses_a_hostile_file_of_tiny_values_quickly(item: bytes, tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    count = 60_000_000 // len(item)  # about 60 MB: once 1.7 GB and many seconds inside json.loads
    path.write_bytes(b"[" + item * count + b"0]")
    start = time.monotonic()
    with pytest.raises(
        ValueError, match=r"(JSON lists and objects|commas), more than any model within the limits can have"
    ) as err:
        nn.load(path)
    assert time.monotonic() - start < 5.0  # the count takes a fraction of a second; parsing took 4-13 s
    assert "m.json" in str(err.value)


def test_load_bounds_messages_quoting_huge_fields(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    nn.save(nn.MLP(2, [3, 1], rng=0), path)
    doc = json.loads(path.read_text())
    doc["format"] = "x" * 10_000_000
    path.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="'format' is 'xxx") as err:
        nn.load(path)
    assert len(str(err.value)) <= MAX_MESSAGE and "10000000 characters, cut" in str(err.value)


def test_load_shows_a_file_name_with_control_characters_escaped(tmp_path: Path) -> None:
    path = tmp_path / "evil\n\x1b[2Jname.json"
    path.write_text("not json")
    with pytest.raises(ValueError, match="not valid JSON") as err:
        nn.load(path)
    msg = str(err.value)
    assert "\n" not in msg and "\x1b" not in msg
    assert repr(str(path)) in msg
