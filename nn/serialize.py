"""``save`` and ``load``: a model as JSON (format tag, version, architecture, every weight), written atomically.

The file::

    {"format": "autograd-core-nn", "version": 1,
     "architecture": {"type": "MLP", "nin": 2, "nouts": [16, 16, 1], ...},
     "state": {"layers.0.weight": [[...], ...], "layers.0.bias": [...], ...}}

``state`` is :meth:`Module.state_dict` as nested lists (PyTorch's
``nn.Linear`` layout).  Floats are written with ``repr``, so every weight
reads back bit for bit.  ``save`` writes a temporary file in the same
directory and renames it over the target, so a crash leaves either the old
file or the new one, never half of one.  ``load`` parses JSON only (nothing is
unpickled or evaluated) and checks every part before it builds anything: the
size of the file, the format and version, the architecture's type and
arguments, the number of parameters, every key, shape and number.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from autograd_core.atomic import atomic_write

from .layers import ACTIVATIONS, MLP, BatchNorm, Dropout, Layer, Maxout, Neuron
from .module import Module

__all__ = ["save", "load", "FORMAT", "VERSION", "MAX_BYTES", "MAX_PARAMETERS"]

FORMAT = "autograd-core-nn"
VERSION = 1
#: Largest file ``load`` reads; a scalar engine has no use for bigger models.
MAX_BYTES = 64 * 1024 * 1024
#: Largest number of parameters ``load`` builds (checked before building).
MAX_PARAMETERS = 2_000_000
_MAX_WIDTH = 100_000
_MAX_LAYERS = 1_000


def save(model: Module, path: str | os.PathLike[str]) -> None:
    """Write ``model`` to ``path`` as JSON, atomically.

    Args:
        model: an MLP, Layer, Neuron, Maxout, BatchNorm or Dropout.
        path: the file to write (its directory must exist).

    Raises:
        TypeError: if ``model`` is not a savable Module.
        ValueError: if a weight is nan or inf (the file would not load back).
        OSError: if the file cannot be written (the old file, if any, is left as it was).
    """
    if not isinstance(model, Module):
        raise TypeError(f"save needs an nn.Module, got {type(model).__name__}")
    try:
        arch = model.config()
    except NotImplementedError as e:
        raise TypeError(str(e)) from None
    state = {k: a.tolist() for k, a in model.state_dict().items()}
    doc = {"format": FORMAT, "version": VERSION, "architecture": arch, "state": state}
    try:
        text = json.dumps(doc, allow_nan=False, indent=1)
    except ValueError:
        bad = [k for k, a in model.state_dict().items() if not all(math.isfinite(float(x)) for x in a.ravel())]
        raise ValueError(f"cannot save {type(model).__name__}: non-finite weights (nan or inf) in {bad}") from None
    atomic_write(path, text)


class _Bad(Exception):
    """What is wrong with a file; turned into a ValueError that names the file."""


def _reject_constant(name: str) -> Any:
    raise _Bad(f"it holds {name}, which is not a finite number")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise _Bad(f"key {k!r} appears twice in one object")
        out[k] = v
    return out


def _int(arch: dict[str, Any], key: str, lo: int = 1, hi: int = _MAX_WIDTH) -> int:
    v = arch[key]
    if type(v) is not int or not lo <= v <= hi:
        raise _Bad(f"architecture field {key!r} must be an int in [{lo}, {hi}], got {v!r}")
    return v


def _act(arch: dict[str, Any], key: str) -> str:
    v = arch[key]
    if v not in ACTIVATIONS:
        raise _Bad(f"architecture field {key!r} must be one of {', '.join(ACTIVATIONS)}, got {v!r}")
    return str(v)


def _real(arch: dict[str, Any], key: str, lo: float, hi: float) -> float:
    v = arch[key]
    if type(v) not in (int, float) or not lo <= v <= hi:
        raise _Bad(f"architecture field {key!r} must be a number in [{lo}, {hi}], got {v!r}")
    return float(v)


def _mlp(a: dict[str, Any]) -> tuple[int, Callable[[], Module]]:
    nin = _int(a, "nin")
    nouts = a["nouts"]
    if type(nouts) is not list or not 1 <= len(nouts) <= _MAX_LAYERS:
        raise _Bad(f"architecture field 'nouts' must be a list of 1 to {_MAX_LAYERS} widths, got {nouts!r:.100}")
    for i, n in enumerate(nouts):
        if type(n) is not int or not 1 <= n <= _MAX_WIDTH:
            raise _Bad(f"architecture field 'nouts'[{i}] must be an int in [1, {_MAX_WIDTH}], got {n!r}")
    act, out_act = _act(a, "activation"), _act(a, "output_activation")
    sizes = [nin, *nouts]
    count = 0
    for i in range(len(nouts)):
        slope = 1 if (out_act if i == len(nouts) - 1 else act) == "prelu" else 0
        count += sizes[i + 1] * (sizes[i] + 1 + slope)
    return count, lambda: MLP(nin, nouts, act, output_activation=out_act)


def _layer(a: dict[str, Any]) -> tuple[int, Callable[[], Module]]:
    nin, nout, act = _int(a, "nin"), _int(a, "nout"), _act(a, "activation")
    return nout * (nin + 1 + (act == "prelu")), lambda: Layer(nin, nout, act)


def _neuron(a: dict[str, Any]) -> tuple[int, Callable[[], Module]]:
    nin, act = _int(a, "nin"), _act(a, "activation")
    return nin + 1 + (act == "prelu"), lambda: Neuron(nin, act)


def _maxout(a: dict[str, Any]) -> tuple[int, Callable[[], Module]]:
    nin, nout, pieces = _int(a, "nin"), _int(a, "nout"), _int(a, "pieces", 2, 1000)
    return nout * pieces * (nin + 1), lambda: Maxout(nin, nout, pieces)


def _batchnorm(a: dict[str, Any]) -> tuple[int, Callable[[], Module]]:
    n = _int(a, "num_features")
    momentum, eps = _real(a, "momentum", 1e-12, 1.0), _real(a, "eps", 1e-300, 1.0)
    return 4 * n, lambda: BatchNorm(n, momentum=momentum, eps=eps)


def _dropout(a: dict[str, Any]) -> tuple[int, Callable[[], Module]]:
    p = _real(a, "p", 0.0, 0.999999)
    return 0, lambda: Dropout(p)


# type -> (required fields, checker returning (parameter count, builder))
_ARCHS: dict[str, tuple[tuple[str, ...], Callable[[dict[str, Any]], tuple[int, Callable[[], Module]]]]] = {
    "MLP": (("nin", "nouts", "activation", "output_activation"), _mlp),
    "Layer": (("nin", "nout", "activation"), _layer),
    "Neuron": (("nin", "activation"), _neuron),
    "Maxout": (("nin", "nout", "pieces"), _maxout),
    "BatchNorm": (("num_features", "momentum", "eps"), _batchnorm),
    "Dropout": (("p",), _dropout),
}


def _build(arch: Any) -> Module:
    if type(arch) is not dict:
        raise _Bad(f"'architecture' must be an object, got {type(arch).__name__}")
    kind = arch.get("type")
    if kind not in _ARCHS:
        raise _Bad(f"unknown architecture type {kind!r}; known: {', '.join(_ARCHS)}")
    fields, check = _ARCHS[kind]
    keys = set(arch) - {"type"}
    if keys != set(fields):
        raise _Bad(
            f"architecture {kind} needs exactly the fields {sorted(fields)}, "
            f"missing {sorted(set(fields) - keys)}, unexpected {sorted(keys - set(fields))}"
        )
    count, build = check(arch)
    if count > MAX_PARAMETERS:
        raise _Bad(f"architecture {kind} has {count} parameters, more than the limit of {MAX_PARAMETERS}")
    return build()


def _shape_of(x: Any, depth: int) -> tuple[int, ...]:
    """The shape of a nested list of ``depth`` levels, or _Bad if ragged."""
    if depth == 0:
        return ()
    if type(x) is not list:
        raise _Bad("expected a list")
    inner = {_shape_of(item, depth - 1) for item in x}
    if len(inner) > 1:
        raise _Bad("rows of different lengths")
    return (len(x), *(inner.pop() if inner else (0,) * (depth - 1)))


def _check_state(state: Any, model: Module) -> dict[str, Any]:
    if type(state) is not dict:
        raise _Bad(f"'state' must be an object of name -> array, got {type(state).__name__}")
    want = model._state_values()
    missing = sorted(set(want) - set(state))
    extra = sorted(set(state) - set(want))
    if missing or extra:
        raise _Bad(f"'state' does not match the architecture: missing {missing}, unexpected {extra}")
    for key, (shape, _) in want.items():
        val = state[key]
        try:
            got = _shape_of(val, len(shape))
        except _Bad as e:
            raise _Bad(f"state entry {key!r} is not an array of shape {list(shape)} ({e})") from None
        if got != shape:
            raise _Bad(f"state entry {key!r} has shape {list(got)}, expected {list(shape)}")
        flat = val
        for _ in range(len(shape) - 1):
            flat = [x for row in flat for x in row]
        for x in flat if shape else [val]:
            if type(x) not in (int, float) or not math.isfinite(x):
                raise _Bad(f"state entry {key!r} holds {x!r}; every weight must be a finite number")
    return state


def load(path: str | os.PathLike[str]) -> Module:
    """Read a model written by :func:`save`, checking everything first.

    Args:
        path: the file to read.

    Returns:
        The rebuilt Module with every weight exactly as saved.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        ValueError: naming the file and what is wrong (not JSON, truncated, empty, wrong
            format or version, unknown architecture, bad shapes, nan or inf, too large).
    """
    p = Path(os.fspath(path))
    size = p.stat().st_size  # FileNotFoundError for a missing file, as open() would
    try:
        if size == 0:
            raise _Bad("the file is empty")
        if size > MAX_BYTES:
            raise _Bad(f"the file has {size} bytes, more than the limit of {MAX_BYTES}")
        raw = p.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise _Bad("it is not UTF-8 text (not a model saved by nn.save)") from None
        try:
            doc = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_no_duplicates)
        except json.JSONDecodeError as e:
            raise _Bad(f"it is not valid JSON (truncated or corrupted?): {e}") from None
        except RecursionError:
            raise _Bad("it is nested too deeply to be a model") from None
        if type(doc) is not dict:
            raise _Bad(f"the top level must be a JSON object, got {type(doc).__name__}")
        if doc.get("format") != FORMAT:
            raise _Bad(f"'format' is {doc.get('format')!r}, expected {FORMAT!r} (not a model saved by nn.save)")
        version = doc.get("version")
        if type(version) is not int or version != VERSION:
            raise _Bad(f"'version' is {version!r}; this version of nn reads version {VERSION}")
        extra = sorted(set(doc) - {"format", "version", "architecture", "state"})
        if extra:
            raise _Bad(f"unexpected top-level keys {extra}")
        if "architecture" not in doc or "state" not in doc:
            raise _Bad("it needs both 'architecture' and 'state'")
        model = _build(doc["architecture"])
        state = _check_state(doc["state"], model)
        model.load_state_dict(state)
    except _Bad as e:
        raise ValueError(f"cannot load model from {p}: {e}") from None
    return model
