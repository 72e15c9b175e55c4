"""nn.save(model, path, optimizer=...) and nn.load_optimizer: resuming from a file is bit for bit; a bad
optimizer section is refused with a clear error by nn.load and nn.load_optimizer alike."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import nn
from nn import optim

_X = [[0.5, -1.0], [1.5, 0.3], [-0.7, 2.0], [0.1, 0.1]]
_Y = [1.0, -1.0, 0.5, 0.0]


def _mlp() -> nn.MLP:
    return nn.MLP(2, [4, 1], "tanh", rng=3)


def _seq() -> nn.Sequential:
    return nn.Sequential(nn.Linear(2, 3, rng=0), nn.PReLU(3), nn.Linear(3, 1, rng=1))


def _train(model: nn.Module, opt: optim.Optimizer, steps: int) -> None:
    for _ in range(steps):
        opt.zero_grad()
        nn.losses.mse([model(x)[0] for x in _X], _Y).backward()
        opt.step()


def _bits(model: nn.Module) -> list[str]:
    return [p.data.hex() for p in model.parameters()]


_CASES: list[Any] = [
    (_mlp, lambda m: optim.SGD(m.parameters(), lr=0.1, momentum=0.9)),
    (_mlp, lambda m: optim.SGD(m.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    (_mlp, lambda m: optim.Adam(m.parameters(), lr=0.03, schedule=optim.step_decay(0.03, 3, 0.5))),
    (_seq, lambda m: optim.AdamW(m.parameters(), lr=0.03)),
    (_seq, lambda m: optim.Adam([{"params": m[0].parameters(), "lr": 0.0}, {"params": m[2].parameters()}], lr=0.05)),
    # Only some of the model's parameters, in another order than model.parameters().
    (_seq, lambda m: optim.SGD(m[2].parameters() + m[1].parameters(), lr=0.1, momentum=0.5)),
]


@pytest.mark.parametrize(("make_model", "make_opt"), _CASES)
def test_save_then_load_optimizer_resumes_bit_for_bit(tmp_path: Path, make_model: Any, make_opt: Any) -> None:
    straight = make_model()
    _train(straight, make_opt(straight), 6)

    first = make_model()
    opt = make_opt(first)
    _train(first, opt, 3)
    path = tmp_path / "ckpt.json"
    nn.save(first, path, optimizer=opt)

    model = nn.load(path)
    opt2 = make_opt(model)
    nn.load_optimizer(path, model, opt2)
    assert opt2.steps == 3 and opt2.state_dict()["state"] == opt.state_dict()["state"]
    _train(model, opt2, 3)
    assert _bits(model) == _bits(straight)


def test_a_file_without_optimizer_still_loads_and_load_optimizer_says_it_is_missing(tmp_path: Path) -> None:
    m = _mlp()
    path = tmp_path / "m.json"
    nn.save(m, path)
    assert "optimizer" not in json.loads(path.read_text())
    with pytest.raises(ValueError, match="holds no optimizer state"):
        nn.load_optimizer(path, nn.load(path), optim.SGD(m.parameters(), lr=0.1))


def test_saved_optimizer_numbers_parameters_by_model_position(tmp_path: Path) -> None:
    m = _seq()
    opt = optim.SGD(m[2].parameters(), lr=0.1, momentum=0.9)
    _train(m, opt, 1)
    path = tmp_path / "m.json"
    nn.save(m, path, optimizer=opt)
    sec = json.loads(path.read_text())["optimizer"]
    first = len(m[0].parameters()) + len(m[1].parameters())
    assert sec["param_groups"][0]["params"] == list(range(first, first + 4))
    assert sorted(sec["state"], key=int) == [str(i) for i in range(first, first + 4)]


def test_save_refuses_an_optimizer_of_another_model(tmp_path: Path) -> None:
    other = _mlp()
    with pytest.raises(ValueError, match="parameter 0 is not a parameter of the Sequential"):
        nn.save(_seq(), tmp_path / "m.json", optimizer=optim.SGD(other.parameters(), lr=0.1))
    with pytest.raises(TypeError, match="needs an nn.optim.Optimizer"):
        nn.save(_seq(), tmp_path / "m.json", optimizer="adam")  # type: ignore[arg-type]
    assert not (tmp_path / "m.json").exists()


def _doc(tmp_path: Path) -> dict[str, Any]:
    m = _mlp()
    opt = optim.Adam(m.parameters(), lr=0.05)
    _train(m, opt, 2)
    path = tmp_path / "good.json"
    nn.save(m, path, optimizer=opt)
    doc: dict[str, Any] = json.loads(path.read_text())
    return doc


_BAD: list[Any] = [
    (lambda s: s.update(type="RMSprop"), "unknown type 'RMSprop'"),
    (lambda s: s.update(steps="3"), "'steps' must be an int >= 0"),
    (lambda s: s.pop("lr"), r"missing \['lr'\]"),
    (lambda s: s.update(extra=1), r"unexpected \['extra'\]"),
    (lambda s: s.update(param_groups=[]), "'param_groups' must be a non-empty list"),
    (lambda s: s["param_groups"][0].update(params=[0, 0]), "lists a parameter twice"),
    (lambda s: s["param_groups"][0].update(params=[99]), r"positions in \[0, 16\], got \[99\]"),
    (lambda s: s["param_groups"][0].update(eps=0.0), "eps must be in"),
    (lambda s: s["param_groups"][0].update(betas="0.9"), "betas must be a pair"),
    (lambda s: s["state"].update({"x": {}}), "has the key 'x'"),
    (lambda s: s["state"].update({"01": {}}), "has the key '01'"),
    (lambda s: s["state"]["0"].pop("v"), r"exactly the buffers \['m', 'v'\]"),
    (lambda s: s["state"]["0"].update(m="1.0"), "buffer 'm' must be a finite number"),
    (lambda s: s["state"].update({"0": [1.0]}), "exactly the buffers"),
]


@pytest.mark.parametrize(("edit", "match"), _BAD)
def test_load_refuses_a_bad_optimizer_section_naming_the_problem(tmp_path: Path, edit: Any, match: str) -> None:
    doc = _doc(tmp_path)
    edit(doc["optimizer"])
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match=rf"cannot load model from .*bad.json'?: .*{match}"):
        nn.load(path)


@pytest.mark.parametrize(("edit", "match"), _BAD[:4])
def test_load_optimizer_refuses_a_bad_section_and_leaves_the_optimizer_alone(
    tmp_path: Path, edit: Any, match: str
) -> None:
    doc = _doc(tmp_path)
    edit(doc["optimizer"])
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    model = _mlp()
    opt = optim.Adam(model.parameters(), lr=0.05)
    with pytest.raises(ValueError, match=match):
        nn.load_optimizer(path, model, opt)
    assert opt.steps == 0 and opt.state_dict()["state"] == {}


def test_load_optimizer_needs_the_same_type_and_groups(tmp_path: Path) -> None:
    doc = _doc(tmp_path)
    path = tmp_path / "good.json"
    path.write_text(json.dumps(doc))
    model = nn.load(path)
    with pytest.raises(ValueError, match="is for 'Adam', this optimizer is a SGD"):
        nn.load_optimizer(path, model, optim.SGD(model.parameters(), lr=0.1))
    params = model.parameters()
    with pytest.raises(ValueError, match="does not update the saved parameter groups"):
        nn.load_optimizer(path, model, optim.Adam([{"params": params[:3]}, {"params": params[3:]}]))
    with pytest.raises(ValueError, match="does not update the saved parameter groups"):
        nn.load_optimizer(path, model, optim.Adam(list(reversed(params))))
    with pytest.raises(TypeError, match="needs an nn.optim.Optimizer"):
        nn.load_optimizer(path, model, None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="needs the nn.Module"):
        nn.load_optimizer(path, params, optim.Adam(params))  # type: ignore[arg-type]
