"""``save`` and ``load``: a model as JSON (format tag, version, architecture, every weight), written atomically.

The file::

    {"format": "autograd-core-nn", "version": 2,
     "architecture": {"type": "MLP", "nin": 2, "nouts": [16, 16, 1], "activation": "relu",
                      "output_activation": "linear", "negative_slope": 0.01, "alpha": 1.0},
     "state": {"layers.0.weight": [[...], ...], "layers.0.bias": [...], ...}}

``state`` is :meth:`Module.state_dict` as nested lists (PyTorch's
``nn.Linear`` layout).  A ``Sequential`` is stored as
``{"type": "Sequential", "layers": [each module's architecture]}`` with
PyTorch's state keys (``"0.weight"``).  An optional ``"optimizer"`` entry
(``save(model, path, optimizer=opt)``) holds :meth:`Optimizer.state_dict`
with every parameter numbered by its position in ``model.parameters()``
(state keys as decimal strings); :func:`load` checks it too, and
:func:`load_optimizer` restores it into an optimizer built over the loaded
model, so training resumes bit for bit.  Floats are written with ``repr``, so every weight
reads back bit for bit.  ``save`` writes a temporary file in the same
directory and renames it over the target, so a crash leaves either the old
file or the new one, never half of one.  ``load`` parses JSON only (nothing is
unpickled or evaluated) and checks every part before it builds anything: the
size of the file and its count of JSON values (before parsing), the format and
version, the architecture's type and arguments, the number of parameters,
every key, shape and number.  The size limits are those of :mod:`nn.limits`,
the same the constructors apply, so ``save`` never writes what ``load`` refuses.
Messages show file names by ``repr`` and quote file content only in bounded
excerpts (:mod:`autograd_core.messages`).
"""

from __future__ import annotations

import gc
import json
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from autograd_core.atomic import atomic_write
from autograd_core.messages import shorten, show_name, show_value

from . import limits
from .layers import (
    ACTIVATIONS,
    ELU_ALPHA,
    LEAKY_SLOPE,
    MLP,
    BatchNorm,
    Dropout,
    Layer,
    Maxout,
    Neuron,
    check_alpha,
    check_dropout_p,
    check_eps,
    check_momentum,
    check_negative_slope,
)
from .limits import check_layers, check_parameters, check_pieces, check_width
from .module import Module
from .optim import SGD, Adam, AdamW, Optimizer
from .sequential import ELU, Identity, LeakyReLU, Linear, PReLU, ReLU, Sequential, Sigmoid, Tanh

__all__ = ["save", "load", "load_optimizer", "FORMAT", "VERSION", "READABLE_VERSIONS"]

FORMAT = "autograd-core-nn"
#: Version 2 added the activation constants ``negative_slope`` and ``alpha`` to
#: MLP, Layer and Neuron architectures; version-1 files (without them) still load,
#: with the defaults they were made with.
VERSION = 2
READABLE_VERSIONS = (1, 2)
# The size limits (file bytes, parameters, widths, layers, pieces) are those of
# nn.limits, shared with the constructors: save never writes what load refuses.


def save(model: Module, path: str | os.PathLike[str], *, optimizer: Optimizer | None = None) -> None:
    """Write ``model`` (and, if given, the state of its ``optimizer``) to ``path`` as JSON, atomically.

    Args:
        model: an MLP, Layer, Neuron, Maxout, BatchNorm, Dropout, Linear, activation module,
            or a Sequential of those.
        path: the file to write, a name ending in ``.json`` (its directory must exist).
        optimizer: an optimizer over parameters of ``model`` (all or some of them), whose
            step count, hyper-parameters and buffers are saved too.

    Raises:
        TypeError: if ``model`` is not a savable Module, or ``optimizer`` not an Optimizer.
        ValueError: if ``path`` does not end in ``.json``, a weight or buffer is nan or inf,
            the model is past the limits of :mod:`nn.limits` (the file would not load back),
            or the optimizer updates a Value that is not a parameter of ``model``.
        OSError: if the file cannot be written (the old file, if any, is left as it was).
    """
    if not isinstance(model, Module):
        raise TypeError(f"save needs an nn.Module, got {type(model).__name__}")
    _check_json_name(path)
    try:
        arch = model.config()
    except NotImplementedError as e:
        raise TypeError(str(e)) from None
    arrays = model.state_dict()
    kind = type(model).__name__
    # The constructors keep every model within the limits; these checks make sure that
    # nothing (a model changed after construction, a subclass) writes a file load refuses.
    try:
        check_parameters(kind, sum(a.size for a in arrays.values()))
    except ValueError as e:
        raise ValueError(f"cannot save {kind}: {e}") from None
    state = {k: a.tolist() for k, a in arrays.items()}
    doc = {"format": FORMAT, "version": VERSION, "architecture": arch, "state": state}
    if optimizer is not None:
        doc["optimizer"] = _optimizer_section(model, optimizer)
    try:
        text = json.dumps(doc, allow_nan=False, indent=1)
    except ValueError:
        bad = [k for k, a in arrays.items() if not all(math.isfinite(float(x)) for x in a.ravel())]
        if not bad:
            raise ValueError(shorten(f"cannot save the optimizer of {kind}: non-finite buffers")) from None
        raise ValueError(shorten(f"cannot save {kind}: non-finite weights (nan or inf) in {bad}")) from None
    data = text.encode("utf-8")
    if len(data) > limits.max_file_bytes():
        raise ValueError(
            f"cannot save {kind}: the file would have {len(data)} bytes, more than the limit of "
            f"{limits.max_file_bytes()} that load reads (nn.limits.max_file_bytes())"
        )
    atomic_write(path, data)


def _check_json_name(path: Any) -> None:
    """Refuse a file name that does not end in .json (the command line's rule for ``--out``, in its words).

    The file is always JSON: a ``model.pkl`` would promise a pickle it does not hold.
    """
    try:
        name = Path(os.fsdecode(os.fspath(path)))
    except TypeError:
        return  # not a path at all: atomic_write names the type
    if name.suffix.lower() != ".json":
        raise ValueError(
            f"save: {name}: the model is saved as JSON; give a file name ending in .json, "
            f"such as {name.with_suffix('.json')}"
        )


class _Bad(Exception):
    """What is wrong with a file; turned into a ValueError that names the file."""


class _HugeInt:
    """Stands for a JSON integer too long to convert (Python limits int() to 4300 digits).

    The field checks then reject it by type, naming the field, instead of
    ``json.loads`` failing with a message that names neither file nor field.
    """

    def __init__(self, digits: int) -> None:
        self.digits = digits

    def __repr__(self) -> str:
        return f"<an integer of {self.digits} digits>"


_MAX_INT_DIGITS = 1000  # more than any float (309 digits), less than Python's int() limit (4300 by default)


def _parse_int(text: str) -> int | _HugeInt:
    digits = len(text.lstrip("-"))
    return _HugeInt(digits) if digits > _MAX_INT_DIGITS else int(text)


def _reject_constant(name: str) -> Any:
    raise _Bad(f"it holds {name}, which is not a finite number")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise _Bad(f"key {k!r} appears twice in one object")
        out[k] = v
    return out


def _int(arch: dict[str, Any], key: str, check: Callable[[Any], int] | None = None) -> int:
    """An int field, checked by the constructor's own check (the same limits and message)."""
    v = arch[key]
    if type(v) is not int:
        raise _Bad(f"architecture field {key!r} must be an int, got {show_value(v, 100)}")
    try:
        return check(v) if check is not None else check_width(key, v)
    except ValueError as e:
        raise _Bad(f"architecture field {key!r}: {e}") from None


def _act(arch: dict[str, Any], key: str) -> str:
    v = arch[key]
    if type(v) is not str or v not in ACTIVATIONS:
        raise _Bad(f"architecture field {key!r} must be one of {', '.join(ACTIVATIONS)}, got {show_value(v, 100)}")
    return v


def _real(arch: dict[str, Any], key: str, check: Callable[[Any], float]) -> float:
    """A number field, checked by the constructor's own check (the same bounds as the constructor)."""
    v = arch[key]
    if type(v) not in (int, float):
        raise _Bad(f"architecture field {key!r} must be a number, got {show_value(v, 100)}")
    try:
        return check(v)
    except (TypeError, ValueError) as e:
        raise _Bad(f"architecture field {key!r}: {e}") from None


# The activation constants appeared in version 2; version-1 files had the defaults.
_CONSTANTS = ("negative_slope", "alpha")


def _constants(a: dict[str, Any]) -> tuple[float, float]:
    """``(negative_slope, alpha)``: from the file, or the defaults a version-1 file was made with."""
    if "negative_slope" not in a:  # version 1
        return LEAKY_SLOPE, ELU_ALPHA
    return _real(a, "negative_slope", check_negative_slope), _real(a, "alpha", check_alpha)


_Shapes = dict[str, tuple[int, ...]]
_Checked = tuple[_Shapes, Callable[[], Module]]


def _linear_shapes(nin: int, nout: int, act: str, prefix: str = "") -> _Shapes:
    shapes: _Shapes = {f"{prefix}weight": (nout, nin), f"{prefix}bias": (nout,)}
    if act == "prelu":
        shapes[f"{prefix}slope"] = (nout,)
    return shapes


def _mlp(a: dict[str, Any]) -> _Checked:
    nin = _int(a, "nin")
    nouts = a["nouts"]
    if type(nouts) is not list:
        raise _Bad(f"architecture field 'nouts' must be a list of layer widths, got {show_value(nouts, 100)}")
    try:
        check_layers(len(nouts))
        for i, n in enumerate(nouts):
            if type(n) is not int:
                raise _Bad(f"architecture field 'nouts'[{i}] must be an int, got {show_value(n, 100)}")
            check_width(f"nouts[{i}]", n)
    except ValueError as e:
        raise _Bad(f"architecture field 'nouts': {e}") from None
    act, out_act = _act(a, "activation"), _act(a, "output_activation")
    slope, alpha = _constants(a)
    sizes = [nin, *nouts]
    shapes: _Shapes = {}
    for i in range(len(nouts)):
        layer_act = out_act if i == len(nouts) - 1 else act
        shapes.update(_linear_shapes(sizes[i], sizes[i + 1], layer_act, f"layers.{i}."))
    return shapes, lambda: MLP(nin, nouts, act, output_activation=out_act, negative_slope=slope, alpha=alpha)


def _layer(a: dict[str, Any]) -> _Checked:
    nin, nout, act = _int(a, "nin"), _int(a, "nout"), _act(a, "activation")
    slope, alpha = _constants(a)
    return _linear_shapes(nin, nout, act), lambda: Layer(nin, nout, act, negative_slope=slope, alpha=alpha)


def _neuron(a: dict[str, Any]) -> _Checked:
    nin, act = _int(a, "nin"), _act(a, "activation")
    slope, alpha = _constants(a)
    return _linear_shapes(nin, 1, act), lambda: Neuron(nin, act, negative_slope=slope, alpha=alpha)


def _maxout(a: dict[str, Any]) -> _Checked:
    nin, nout, pieces = _int(a, "nin"), _int(a, "nout"), _int(a, "pieces", check_pieces)
    return _linear_shapes(nin, nout * pieces, "linear"), lambda: Maxout(nin, nout, pieces)


def _check_variances(running_var: list[Any]) -> None:
    """BatchNorm's running variances must be >= 0 (evaluation mode takes their square root)."""
    for i, v in enumerate(running_var):
        if v < 0:
            raise _Bad(f"state entry 'running_var'[{i}] is {v!r}; a variance must be >= 0")


def _batchnorm(a: dict[str, Any]) -> _Checked:
    n = _int(a, "num_features")
    momentum, eps = _real(a, "momentum", check_momentum), _real(a, "eps", check_eps)
    shapes: _Shapes = {k: (n,) for k in ("weight", "bias", "running_mean", "running_var")}
    return shapes, lambda: BatchNorm(n, momentum=momentum, eps=eps)


def _dropout(a: dict[str, Any]) -> _Checked:
    p = _real(a, "p", check_dropout_p)
    return {}, lambda: Dropout(p)


def _bool(arch: dict[str, Any], key: str) -> bool:
    v = arch[key]
    if type(v) is not bool:
        raise _Bad(f"architecture field {key!r} must be true or false, got {v!r:.100}")
    return v


def _linear(a: dict[str, Any]) -> _Checked:
    nin, nout, bias = _int(a, "nin"), _int(a, "nout"), _bool(a, "bias")
    shapes: _Shapes = {"weight": (nout, nin)}
    if bias:
        shapes["bias"] = (nout,)
    return shapes, lambda: Linear(nin, nout, bias=bias)


def _plain_activation(cls: type[Module]) -> Callable[[dict[str, Any]], _Checked]:
    return lambda a: ({}, cls)


def _leaky_relu(a: dict[str, Any]) -> _Checked:
    slope = _real(a, "negative_slope", check_negative_slope)
    return {}, lambda: LeakyReLU(slope)


def _elu(a: dict[str, Any]) -> _Checked:
    alpha = _real(a, "alpha", check_alpha)
    return {}, lambda: ELU(alpha)


def _prelu(a: dict[str, Any]) -> _Checked:
    n = _int(a, "num_parameters")
    return {"weight": (n,)}, lambda: PReLU(n)


#: Deepest nesting of Sequentials ``load`` follows (each level is a recursive check).
_MAX_NESTING = 32


def _sequential(a: dict[str, Any], version: int, depth: int) -> _Checked:
    layers = a["layers"]
    if type(layers) is not list or len(layers) > limits.MAX_LAYERS:
        raise _Bad(
            f"architecture field 'layers' must be a list of at most {limits.MAX_LAYERS} modules, "
            f"got {show_value(layers, 100)}"
        )
    if depth >= _MAX_NESTING:
        raise _Bad(f"Sequentials are nested more than {_MAX_NESTING} deep")
    shapes: _Shapes = {}
    builds = []
    for i, child in enumerate(layers):
        try:
            child_shapes, build = _check_architecture(child, version, depth + 1)
        except _Bad as e:
            raise _Bad(f"Sequential layer {i}: {e}") from None
        shapes.update({f"{i}.{k}": shape for k, shape in child_shapes.items()})
        builds.append(build)
    return shapes, lambda: Sequential(*(b() for b in builds))


# type -> (required fields, checker returning (expected state shapes, builder))
_ARCHS: dict[str, tuple[tuple[str, ...], Callable[[dict[str, Any]], _Checked]]] = {
    "MLP": (("nin", "nouts", "activation", "output_activation", *_CONSTANTS), _mlp),
    "Layer": (("nin", "nout", "activation", *_CONSTANTS), _layer),
    "Neuron": (("nin", "activation", *_CONSTANTS), _neuron),
    "Maxout": (("nin", "nout", "pieces"), _maxout),
    "BatchNorm": (("num_features", "momentum", "eps"), _batchnorm),
    "Dropout": (("p",), _dropout),
    "Linear": (("nin", "nout", "bias"), _linear),
    **{
        name: ((), _plain_activation(cls))
        for name, cls in (("Identity", Identity), ("ReLU", ReLU), ("Tanh", Tanh), ("Sigmoid", Sigmoid))
    },
    "LeakyReLU": (("negative_slope",), _leaky_relu),
    "ELU": (("alpha",), _elu),
    "PReLU": (("num_parameters",), _prelu),
    "Sequential": (("layers",), lambda a: ({}, Sequential)),  # checked by _sequential (it recurses)
}


#: The PyTorch-shaped modules; they appeared with version 2 files.
_SINCE_V2 = ("Linear", "Identity", "ReLU", "Tanh", "Sigmoid", "LeakyReLU", "ELU", "PReLU", "Sequential")


def _check_architecture(arch: Any, version: int, depth: int = 0) -> _Checked:
    """The expected state shapes and a builder, from the architecture alone (nothing is built)."""
    if type(arch) is not dict:
        raise _Bad(f"'architecture' must be an object, got {type(arch).__name__}")
    kind = arch.get("type")
    if type(kind) is not str or kind not in _ARCHS:
        raise _Bad(f"unknown architecture type {show_value(kind, 100)}; known: {', '.join(_ARCHS)}")
    fields, check = _ARCHS[kind]
    if version == 1 and kind in _SINCE_V2:
        raise _Bad(f"architecture type {kind} needs a version-2 file, this one is version 1")
    if version == 1:
        fields = tuple(f for f in fields if f not in _CONSTANTS)
    keys = set(arch) - {"type"}
    if keys != set(fields):
        raise _Bad(
            f"architecture {kind} (version {version}) needs exactly the fields {sorted(fields)}, "
            f"missing {sorted(set(fields) - keys)}, unexpected {show_value(sorted(keys - set(fields)))}"
        )
    shapes, build = _sequential(arch, version, depth) if kind == "Sequential" else check(arch)
    try:
        check_parameters(kind, sum(math.prod(shape) for shape in shapes.values()))
    except ValueError as e:
        raise _Bad(f"architecture {e}") from None
    return shapes, build


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


def _check_weight(key: str, x: Any) -> None:
    if type(x) is int:
        if abs(x) > _FLOAT_MAX:
            raise _Bad(f"state entry {key!r} holds an integer of {len(str(abs(x)))} digits, too large for a float")
        return
    if type(x) is not float or not math.isfinite(x):
        raise _Bad(f"state entry {key!r} holds {show_value(x, 100)}; every weight must be a finite number")


_FLOAT_MAX = int(sys.float_info.max)


def _check_state(state: Any, want: _Shapes) -> dict[str, Any]:
    if type(state) is not dict:
        raise _Bad(f"'state' must be an object of name -> array, got {type(state).__name__}")
    missing = sorted(set(want) - set(state))
    extra = sorted(set(state) - set(want))
    if missing or extra:
        raise _Bad(
            f"'state' does not match the architecture: missing {show_value(missing, 200)}, "
            f"unexpected {show_value(extra, 200)}"
        )
    for key, shape in want.items():
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
            _check_weight(key, x)
    return state


def _check_item_count(raw: bytes) -> None:
    """Refuse, before parsing, a file holding more JSON values than any model file can.

    ``json.loads`` would build every value first (a 64 MB file of ``[],`` is 20
    million lists and gigabytes).  Counting brackets and commas in the bytes is
    fast and over-counts only those inside strings, which a model file barely
    has; what passes costs at most about what the largest model file costs.
    """
    bound = limits.max_json_items()
    for what, count in (("JSON lists and objects", raw.count(b"[") + raw.count(b"{")), ("commas", raw.count(b","))):
        if count > bound:
            raise _Bad(
                f"it holds {count} {what}, more than any model within the limits can have "
                f"(at most {bound}, nn.limits.max_json_items())"
            )


def _parse(text: str) -> Any:
    """``json.loads`` with the checks above, the cyclic garbage collector paused.

    Parsing makes millions of lists and floats but no reference cycles; the
    collector, triggered again and again by the allocations, made it about 7x slower.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return json.loads(text, parse_constant=_reject_constant, parse_int=_parse_int, object_pairs_hook=_no_duplicates)
    finally:
        if enabled:
            gc.enable()


def load(path: str | os.PathLike[str]) -> Module:
    """Read a model written by :func:`save`, checking everything first (the optimizer state too, if any).

    Args:
        path: the file to read.

    Returns:
        The rebuilt Module with every weight exactly as saved.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        ValueError: naming the file and what is wrong (not JSON, truncated, empty, wrong
            format or version, unknown architecture, bad shapes, nan or inf, too large, a bad
            optimizer section).
    """
    return _load(path, None)[0]


def load_optimizer(path: str | os.PathLike[str], model: Module, optimizer: Optimizer) -> None:
    """Restore the optimizer state saved with ``nn.save(model, path, optimizer=...)`` into ``optimizer``.

    ``optimizer`` must be built over ``model`` (usually ``nn.load(path)``) as the saved one
    was: the same type and the same parameter groups, each with the same parameters of the
    model in the same order (a schedule, which is code, is not saved: pass it again).
    Its step count, hyper-parameters and buffers are then those saved, so training
    continues bit for bit as if it had never stopped::

        model = nn.load(path)
        opt = nn.optim.Adam(model.parameters(), lr=0.01)
        nn.load_optimizer(path, model, opt)

    Args:
        path: a file written by :func:`save` with an optimizer.
        model: the model the optimizer updates (its parameters are matched by position).
        optimizer: the optimizer to restore into; nothing changes unless all checks pass.

    Raises:
        TypeError: if ``model`` or ``optimizer`` has the wrong type.
        ValueError: naming the file and what is wrong: everything :func:`load` checks, no
            optimizer in the file, another optimizer type, groups or parameters that differ.
    """
    if not isinstance(model, Module):
        raise TypeError(f"load_optimizer needs the nn.Module the optimizer updates, got {type(model).__name__}")
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"load_optimizer needs an nn.optim.Optimizer, got {type(optimizer).__name__}")
    _load(path, (model, optimizer))


#: Optimizer classes an ``"optimizer"`` section may name.
_OPTIMIZERS: dict[str, type[Optimizer]] = {c.__name__: c for c in (SGD, Adam, AdamW)}


def _optimizer_section(model: Module, optimizer: Optimizer) -> dict[str, Any]:
    """``optimizer.state_dict()`` with parameters numbered by their position in ``model.parameters()``."""
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"save(optimizer=...) needs an nn.optim.Optimizer, got {type(optimizer).__name__}")
    position = {id(p): i for i, p in enumerate(model.parameters())}
    index: list[int] = []
    for k, p in enumerate(optimizer.params):
        if id(p) not in position:
            raise ValueError(
                f"cannot save the optimizer: its parameter {k} is not a parameter of the {type(model).__name__}; "
                "pass the model the optimizer was built for"
            )
        index.append(position[id(p)])
    sd = optimizer.state_dict()
    for g in sd["param_groups"]:
        g["params"] = [index[k] for k in g["params"]]
    sd["state"] = {str(index[k]): buffers for k, buffers in sd["state"].items()}
    return sd


def _restore_optimizer(section: Any, model: Module, optimizer: Optimizer | None) -> None:
    """Check an ``"optimizer"`` section against ``model`` and load it into ``optimizer``.

    With ``optimizer`` None (``nn.load``), a throwaway optimizer of the saved type is built
    over the saved groups, so every hyper-parameter and buffer is checked by the same code
    that ``load_state_dict`` runs.
    """
    if type(section) is not dict:
        raise _Bad(f"'optimizer' must be an object, got {type(section).__name__}")
    kind = section.get("type")
    if type(kind) is not str or kind not in _OPTIMIZERS:
        raise _Bad(f"'optimizer' has unknown type {kind!r:.100}; known: {', '.join(_OPTIMIZERS)}")
    groups, state = section.get("param_groups"), section.get("state")
    if type(groups) is not list or not groups:
        raise _Bad(f"'optimizer' field 'param_groups' must be a non-empty list, got {groups!r:.100}")
    params = model.parameters()
    seen: set[int] = set()
    for i, g in enumerate(groups):
        ids = g.get("params") if type(g) is dict else None
        if type(ids) is not list or not ids or any(type(k) is not int or not 0 <= k < len(params) for k in ids):
            raise _Bad(
                f"'optimizer' group {i} field 'params' must be a non-empty list of parameter positions in "
                f"[0, {len(params) - 1}], got {ids!r:.100}"
            )
        if seen & set(ids) or len(set(ids)) != len(ids):
            raise _Bad(f"'optimizer' group {i} lists a parameter twice (or one already in an earlier group)")
        seen |= set(ids)
    if type(state) is not dict:
        raise _Bad(f"'optimizer' field 'state' must be an object, got {type(state).__name__}")
    # Optimizer numbering: parameters group after group, as state_dict() numbers them.
    order = [k for g in groups for k in g["params"]]
    opt_index = {k: j for j, k in enumerate(order)}
    translated: dict[int, Any] = {}
    for key, buffers in state.items():
        if not (key.isascii() and key.isdigit() and str(int(key)) == key) or int(key) not in opt_index:
            raise _Bad(
                f"'optimizer' field 'state' has the key {key!r:.100}; keys are the positions (as decimal strings) "
                "of parameters the optimizer updates"
            )
        translated[opt_index[int(key)]] = buffers
    sd_groups, k = [], 0
    for g in groups:
        sd_groups.append({**g, "params": list(range(k, k + len(g["params"])))})
        k += len(g["params"])
    sd = {**section, "param_groups": sd_groups, "state": translated}
    if optimizer is None:
        cls = _OPTIMIZERS[kind]
        try:
            optimizer = cls([{"params": [params[k] for k in g["params"]]} for g in groups], lr=0.0)
        except (TypeError, ValueError) as e:
            raise _Bad(f"'optimizer': {e}") from None
    else:
        position = {id(p): i for i, p in enumerate(params)}
        mine = [[position.get(id(p)) for p in g["params"]] for g in optimizer.param_groups]
        theirs = [g["params"] for g in groups]
        if mine != theirs:
            raise _Bad(
                f"the {type(optimizer).__name__} does not update the saved parameter groups: the file's groups hold "
                f"model parameters {theirs!r:.200}, this optimizer's {mine!r:.200} (None: not a model parameter)"
            )
    try:
        optimizer.load_state_dict(sd)
    except (TypeError, ValueError) as e:
        raise _Bad(f"'optimizer': {e}") from None


def _load(path: str | os.PathLike[str], resume: tuple[Module, Optimizer] | None) -> tuple[Module, dict[str, Any]]:
    """The model in ``path`` and the parsed file; with ``resume``, the saved optimizer state goes into it."""
    p = Path(os.fspath(path))
    size = p.stat().st_size  # FileNotFoundError for a missing file, as open() would
    try:
        if size == 0:
            raise _Bad("the file is empty")
        if size > limits.max_file_bytes():
            raise _Bad(
                f"the file has {size} bytes, more than the limit of {limits.max_file_bytes()} "
                "(nn.limits.max_file_bytes(), what save writes for the largest model)"
            )
        raw = p.read_bytes()
        _check_item_count(raw)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise _Bad("it is not UTF-8 text (not a model saved by nn.save)") from None
        try:
            doc = _parse(text)
        except ValueError as e:  # json.JSONDecodeError is a ValueError
            raise _Bad(f"it is not valid JSON (truncated or corrupted?): {e}") from None
        except RecursionError:
            raise _Bad("it is nested too deeply to be a model") from None
        if type(doc) is not dict:
            raise _Bad(f"the top level must be a JSON object, got {type(doc).__name__}")
        if doc.get("format") != FORMAT:
            raise _Bad(
                f"'format' is {show_value(doc.get('format'))}, expected {FORMAT!r} (not a model saved by nn.save)"
            )
        version = doc.get("version")
        if type(version) is not int or version not in READABLE_VERSIONS:
            raise _Bad(
                f"'version' is {show_value(version, 100)}; this version of nn reads versions "
                f"{', '.join(map(str, READABLE_VERSIONS))}"
            )
        extra = sorted(set(doc) - {"format", "version", "architecture", "state", "optimizer"})
        if extra:
            raise _Bad(f"unexpected top-level keys {show_value(extra)}")
        if "architecture" not in doc or "state" not in doc:
            raise _Bad("it needs both 'architecture' and 'state'")
        # Everything is checked against the shapes the architecture implies before a
        # single Value is made: a small file cannot make load build a huge model.
        shapes, build = _check_architecture(doc["architecture"], version)
        state = _check_state(doc["state"], shapes)
        if doc["architecture"]["type"] == "BatchNorm":
            _check_variances(state["running_var"])
        model = build()
        built = {k: shape for k, (shape, _) in model._state_values().items()}
        if built != shapes:  # the shapes derived above disagree with the class: a bug in this module
            raise RuntimeError(f"nn.load: derived state shapes {shapes} differ from the built model's {built}")
        try:
            model.load_state_dict(state)
        except (TypeError, ValueError) as e:  # checked above already; the file is named either way
            raise _Bad(str(e)) from None
        if resume is not None and "optimizer" not in doc:
            raise _Bad("it holds no optimizer state (save it with nn.save(model, path, optimizer=opt))")
        if "optimizer" in doc:
            if resume is None:
                _restore_optimizer(doc["optimizer"], model, None)
            else:
                _restore_optimizer(doc["optimizer"], resume[0], resume[1])
    except _Bad as e:
        raise ValueError(shorten(f"cannot load model from {show_name(p)}: {e}")) from None
    return model, doc
