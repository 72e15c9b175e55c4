"""``Module``: the base class of every layer and model in :mod:`nn`.

A module holds its parameters (``Value`` leaves) and its sub-modules as plain
attributes, single or in lists.  :meth:`Module.named_parameters` walks those
attributes in the order they were assigned, so names are stable dotted paths
such as ``layers.0.neurons.3.w.1``.  ``train()`` / ``eval()`` switch the mode
that dropout and batch normalization read.  ``state_dict()`` gives numpy
arrays (layers override it to give PyTorch's ``nn.Linear`` layout).  As in
PyTorch, a module computes in ``forward`` and calling it runs ``forward``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from autograd_core import Value

__all__ = ["Module"]


class Module:
    """Base class: parameters, names, modes, state dicts and a readable repr.

    Subclasses assign Values, Modules, or lists of either to attributes in
    ``__init__`` and implement ``forward`` (``module(x)`` calls it; a subclass
    that overrides ``__call__`` instead still works).  Attributes whose names
    start with an underscore are private and never walked.
    """

    training: bool = True
    #: True for a module whose input is a whole batch (a list of samples), such as
    #: BatchNorm; False for one that maps one sample (a list of numbers) at a time.
    #: :class:`nn.Sequential` reads it to feed each module what it expects.
    takes_batch: bool = False

    # -- walking ------------------------------------------------------------------

    def _members(self) -> Iterator[tuple[str, Any]]:
        """Public attributes in assignment order (dicts keep insertion order)."""
        for name, v in vars(self).items():
            if not name.startswith("_"):
                yield name, v

    def named_parameters(self, prefix: str = "") -> list[tuple[str, Value]]:
        """Every parameter with its dotted name, in a stable order.

        Args:
            prefix: prepended to every name (used for recursion).

        Returns:
            A list of ``(name, Value)``; a Value shared by two places is listed once.
        """
        out: list[tuple[str, Value]] = []
        seen: set[int] = set()
        self._collect(prefix, out, seen)
        return out

    def _collect(self, prefix: str, out: list[tuple[str, Value]], seen: set[int]) -> None:
        for name, v in self._members():
            _collect_item(f"{prefix}{name}", v, out, seen)

    def parameters(self) -> list[Value]:
        """Every parameter, in the order of :meth:`named_parameters`."""
        return [p for _, p in self.named_parameters()]

    def modules(self) -> list[Module]:
        """This module and every sub-module, depth first, in attribute order."""
        found: list[Module] = [self]
        for _, v in self._members():
            for m in v if isinstance(v, (list, tuple)) else (v,):
                if isinstance(m, Module):
                    found.extend(m.modules())
        return found

    def zero_grad(self) -> None:
        """Set the ``grad`` of every parameter to 0.0."""
        for p in self.parameters():
            p.grad = 0.0

    # -- modes ----------------------------------------------------------------------

    def train(self, mode: bool = True) -> Module:
        """Put this module and all sub-modules in training mode (or evaluation mode if ``mode`` is False).

        Returns:
            ``self``, so ``model.train()`` can be chained.
        """
        if not isinstance(mode, bool):
            raise TypeError(f"train(mode) needs a bool, got {type(mode).__name__}")
        for m in self.modules():
            m.training = mode
        return self

    def eval(self) -> Module:
        """Put this module and all sub-modules in evaluation mode; returns ``self``."""
        return self.train(False)

    # -- calling ----------------------------------------------------------------------

    def forward(self, x: Any) -> Any:
        """The module's output for ``x``; subclasses define it.

        Raises:
            NotImplementedError: in this base class.
        """
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, x: Any) -> Any:
        """``self.forward(x)``, as ``torch.nn.Module.__call__``."""
        return self.forward(x)

    # -- architecture (for nn.save / nn.load) -----------------------------------------------

    def config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this module's architecture (JSON-able).

        Raises:
            NotImplementedError: for modules that :func:`nn.save` cannot store.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot be saved: it has no config()")

    # -- state dicts ---------------------------------------------------------------------------

    def state_dict(self) -> dict[str, np.ndarray]:
        """Every parameter as numpy arrays, keyed by dotted names.

        The default gives one 0-d array per parameter under its
        :meth:`named_parameters` name; layers override :meth:`_own_state` to give
        PyTorch's ``nn.Linear`` layout (``weight`` ``[out, in]``, ``bias`` ``[out]``).

        Returns:
            A new dict of new float64 arrays (changing them does not change the model).
        """
        return {
            k: np.array([p.data for p in values], dtype=np.float64).reshape(shape)
            for k, (shape, values) in self._state_values().items()
        }

    def grad_dict(self) -> dict[str, np.ndarray]:
        """The ``grad`` of every parameter in the layout of :meth:`state_dict`.

        Only keys that hold parameters are listed (BatchNorm's running statistics are
        buffers and have no gradient), so the keys are those of PyTorch's
        ``{name: p.grad for name, p in module.named_parameters()}``.

        Returns:
            A new dict of new float64 arrays.
        """
        params = {id(p) for p in self.parameters()}
        return {
            k: np.array([p.grad for p in values], dtype=np.float64).reshape(shape)
            for k, (shape, values) in self._state_values().items()
            if values and all(id(p) in params for p in values)
        }

    #: Keys of :meth:`_own_state` whose values must be >= 0 (BatchNorm's ``running_var``).
    _non_negative_state: tuple[str, ...] = ()

    def _non_negative_ids(self) -> set[int]:
        """ids of the state Values (in this module and below) that must be >= 0."""
        out: set[int] = set()
        for m in self.modules():
            own = m._own_state() if m._non_negative_state else None
            for k in m._non_negative_state:
                out.update(id(v) for v in (own or {}).get(k, ()))
        return out

    def _own_state(self) -> dict[str, Any] | None:
        """Parameters grouped into arrays (lists of Values, or lists of rows); None to recurse instead."""
        return None

    def _state_values(self) -> dict[str, tuple[tuple[int, ...], list[Value]]]:
        """Each state-dict key with its shape and its Values in C order."""
        out: dict[str, tuple[tuple[int, ...], list[Value]]] = {}
        self._values_into("", out)
        return out

    def _values_into(self, prefix: str, out: dict[str, tuple[tuple[int, ...], list[Value]]]) -> None:
        own = self._own_state()
        if own is not None:
            for k, vals in own.items():
                if _is_2d(vals):
                    rows = list(vals)
                    out[prefix + k] = ((len(rows), len(rows[0]) if rows else 0), [p for r in rows for p in r])
                else:
                    out[prefix + k] = ((len(vals),), list(vals))
            return
        for name, v in self._members():
            if isinstance(v, Module):
                v._values_into(f"{prefix}{name}.", out)
            elif isinstance(v, Value):
                out[prefix + name] = ((), [v])
            elif isinstance(v, (list, tuple)):
                for i, item in enumerate(v):
                    if isinstance(item, Module):
                        item._values_into(f"{prefix}{name}.{i}.", out)
                    elif isinstance(item, Value):
                        out[f"{prefix}{name}.{i}"] = ((), [item])

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Copy arrays (numpy, PyTorch tensors via ``numpy()``, nested lists) into the parameters.

        Every key must be present with the right shape and finite values; nothing
        is changed unless all of them are.

        Args:
            state: a mapping as returned by :meth:`state_dict`.

        Raises:
            TypeError: if ``state`` is not a mapping, or naming an entry whose dtype is not
                int or float (strings, bools, complex numbers, objects).
            ValueError: naming a missing or unexpected key, a wrong shape, a non-finite value,
                or a negative value where a variance (BatchNorm's ``running_var``) belongs.
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"load_state_dict needs a mapping of name -> array, got {type(state).__name__}")
        want = self._state_values()
        missing = [k for k in want if k not in state]
        extra = [k for k in state if k not in want]
        if missing or extra:
            raise ValueError(
                f"state dict does not match {type(self).__name__}: missing keys {missing}, unexpected keys {extra}"
            )
        non_negative = self._non_negative_ids()
        arrays: dict[str, np.ndarray] = {}
        for k, (shape, values) in want.items():
            try:
                raw = np.asarray(state[k])
            except (TypeError, ValueError) as e:
                raise ValueError(f"state dict entry {k!r} is not an array of numbers: {e}") from None
            if raw.dtype.kind not in "iuf":
                # Checked, not converted: float64 conversion would turn strings and bools into
                # numbers and drop imaginary parts, and report None as "non-finite".
                raise TypeError(
                    f"state dict entry {k!r} has dtype {raw.dtype}; it must hold real numbers "
                    "(an int or float array), not strings, bools, complex numbers or objects"
                )
            a = raw.astype(np.float64)
            if a.shape != shape:
                raise ValueError(f"state dict entry {k!r} has shape {list(a.shape)}, expected {list(shape)}")
            if not np.all(np.isfinite(a)):
                raise ValueError(f"state dict entry {k!r} holds non-finite numbers (nan or inf)")
            if any(id(v) in non_negative for v in values) and np.any(a < 0):
                i = int(np.argmax(a.ravel() < 0))
                raise ValueError(
                    f"state dict entry {k!r} holds {float(a.ravel()[i])!r} at flat index {i}; it is a variance "
                    "and must be >= 0"
                )
            arrays[k] = a
        for k, (_, values) in want.items():
            for p, x in zip(values, arrays[k].ravel().tolist()):
                p.data = float(x)

    # -- repr ----------------------------------------------------------------------------------

    def extra_repr(self) -> str:
        """The text inside the parentheses of ``repr``; subclasses override it."""
        return ""

    def __repr__(self) -> str:
        children = []
        for name, v in self._members():
            if isinstance(v, Module):
                children.append((name, v))
            elif isinstance(v, (list, tuple)) and v and all(isinstance(m, Module) for m in v) and len(v) <= 8:
                children.extend((f"{name}.{i}", m) for i, m in enumerate(v))
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not children or self._own_state() is not None:
            return head + ")"
        body = "".join(f"\n  ({n}): " + repr(m).replace("\n", "\n  ") for n, m in children)
        return head + body + "\n)"


def _is_2d(vals: Any) -> bool:
    return len(vals) > 0 and isinstance(vals[0], (list, tuple))


def _collect_item(name: str, v: Any, out: list[tuple[str, Value]], seen: set[int]) -> None:
    if isinstance(v, Value):
        if id(v) not in seen:
            seen.add(id(v))
            out.append((name, v))
    elif isinstance(v, Module):
        v._collect(name + ".", out, seen)
    elif isinstance(v, (list, tuple)):
        for i, item in enumerate(v):
            if isinstance(item, (Value, Module, list, tuple)):
                _collect_item(f"{name}.{i}", item, out, seen)
