"""Trace once, replay fast: compiled and batched execution of ``Value`` graphs.

:func:`compile` runs a plain ``Value`` function once on fresh leaves and
records the graph it built as a flat *tape* (see :mod:`autograd_core.tape`):
one slot per node, arguments first, then the given parameters, then frozen
constants, then one slot per op with its registry entry, operand slots and
constant params.  The graph itself is dropped; the tape holds only floats,
slot numbers, registry entries and the parameter ``Value`` objects.

A :class:`Compiled` replays the tape:

* for one sample (numbers in, float out) with tight loops over the scalar
  ``forward`` and ``rule`` of each op, which gives the eager engine's results;
* for a batch (1-D numpy arrays of one length, one entry per sample) with the
  ops' vectorized ``vforward`` / ``vrule``, one numpy call per group of
  same-op nodes of one level of the graph, and one matrix product per layer:
  sums of weight-times-input products that read the same inputs are
  replayed as ``W @ X + b`` (:mod:`autograd_core.linear`).  Slots that do
  not depend on an argument (a weight penalty, say) are computed once per
  batch; their gradient is the sum of the per-sample contributions.  The
  matrix products and reductions add in another order than the eager
  engine, so batched results agree with it to rounding, not bit for bit.

Parameter values are read from the parameters' ``.data`` at every call, so an
optimizer can update them between calls without a re-trace;
:meth:`Compiled.value_and_grad` adds the reduced gradients into their ``.grad``.
A replay records no graph and runs no ``detect_anomaly`` checks: non-finite
values follow IEEE rules (inf, nan) as in the eager engine.

A tape records the ops one run executed.  Python control flow on data (an
``if`` on ``x > 0`` or on a parameter, a number read from ``.data``) would be
frozen into it, so :func:`compile` traces a second, different example (every
argument's sign flipped and its magnitude grown, every parameter's ``.data``
changed likewise and restored afterwards) and raises :class:`TraceError` when
the two tapes differ.  ``relu``, ``abs``, ``maximum`` and ``minimum`` are ops
on the tape and replay correctly for every sample.

Limitations: the check sees only the branches the two examples take
differently.  When both traces take the same side of a Python ``if`` (say
``x * 2 if x > 100 else x * 3`` traced at 1.0 and checked at -2.0), the tape
silently replays that side for every input: ``c(200.0)`` gives 600.0 where
the eager engine gives 400.0, with no error.  The same holds for an ``if`` on
a parameter, or a number read from a ``.data``, whose effect neither example
reveals.  To be safe, write branches with the registered ops ``relu``,
``abs``, ``maximum`` and ``minimum`` instead of Python ``if``; if a branch must
stay, pass ``check_args=`` with a point on its other side; otherwise use the
eager engine for that function.

Compiling a model and its per-sample loss for a training loop lives in
``nn.compiled``, which traces the ``nn.losses`` functions with this API.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from ._state import ANOMALY, ModeBlock
from .engine import add_grad
from .tape import Tape, TraceError, describe_mismatch, trace
from .value import Value

__all__ = [
    "Compiled",
    "TraceError",
    "compile",
]

_REDUCES = ("mean", "sum")


#: Offset step between arguments in the default check examples (any value that makes no new tie).
_OFFSET_STEP = 0.37


def _flip(values: Sequence[float], offsets: Sequence[float]) -> tuple[float, ...]:
    """Each value with its sign flipped and its magnitude grown by its offset (zero maps to -offset)."""
    return tuple(-(v + math.copysign(o, v)) for v, o in zip(values, offsets))


#: One check example: the arguments, and the values the parameters' ``.data`` take for it (None: unchanged).
_Check = tuple[tuple[float, ...], tuple[float, ...] | None]


def _arg_checks(args: tuple[float, ...]) -> list[tuple[float, ...]]:
    """The default second examples of the arguments for the control-flow check.

    Every argument flips its sign, which catches the most common branch
    (``if x > 0``) and, with equal offsets, reverses the order of every two
    arguments (``if x > y``); the magnitude grows by at least 1, which
    catches branches on magnitude.  A tie (two arguments of equal magnitude,
    as ``max(x, y)`` at ``x == y``) would stay a tie under equal offsets, and
    either side of it may be the one the first trace froze: then two examples
    are returned, one with offsets growing along the arguments and one with
    offsets shrinking, so each side of the tie is taken by one of them.
    """
    n = len(args)
    if len({abs(a) for a in args}) == n:
        return [_flip(args, [1.0] * n)]
    return [
        _flip(args, [1.0 + _OFFSET_STEP * i for i in range(n)]),
        _flip(args, [1.0 + _OFFSET_STEP * (n - 1 - i) for i in range(n)]),
    ]


def compile(
    f: Callable[..., Any],
    example_args: Sequence[Any],
    *,
    params: Iterable[Any] = (),
    check_args: Sequence[Any] | None = None,
) -> Compiled:
    """Trace ``f`` into a tape that replays for numbers or batches of numbers.

    Args:
        f: a function of ``len(example_args)`` Values returning a Value or a
            list of Values, written with ordinary ``Value`` code (for example
            ``lambda x1, x2: model([x1, x2])[0]``).
        example_args: one real number per argument of ``f``, used for the trace.
        params: the Values ``f`` reads besides its arguments whose values may
            change between calls (a model's weights): their ``.data`` is read
            at every call and :meth:`Compiled.value_and_grad` returns (and
            adds into ``.grad``) the gradient with respect to each, in this
            order.  Every other leaf ``f`` reaches is a constant frozen at
            trace time.  They must be leaves (Values no op produced).
        check_args: a second example for the control-flow check (default:
            each example argument with its sign flipped and 1 or more added
            to its magnitude; two such examples when two arguments or
            parameters are tied in magnitude).  Pass inputs that take the other
            side of any branch you suspect.  Must be finite.

    During each check trace every parameter's ``.data`` is changed (sign
    flipped, magnitude grown) so that a branch on a parameter, or a number
    read from its ``.data``, shows up as a different graph; the values are
    restored afterwards, also when the trace fails.  Do not compile while
    another thread uses the parameters.  The check trace runs without
    ``detect_anomaly`` checks, since its inputs are not the caller's.

    Limitations: a Python ``if`` that both traces take the same way is
    frozen into the tape without any error.  ``f = lambda x: x * 2 if x > 100
    else x * 3`` compiles from ``[1.0]`` (the check example -2.0 is below
    100 too), and then ``c(200.0)`` gives 600.0 where the eager engine gives
    400.0.  Branches on a parameter (``if p > 0``) and numbers read from
    ``.data`` (``x * p.data``) are caught only when the changed parameters
    change the graph.  What to do: write such branches with the registered
    ops ``relu``, ``abs``, ``maximum`` and ``minimum`` (``maximum(x, 0)``
    instead of ``x if x > 0 else 0``), which are on the tape and correct for
    every sample; if a Python branch must stay, pass ``check_args=`` with a
    point on its other side (``check_args=[200.0]`` above raises
    :class:`TraceError`); otherwise use the eager engine for that function.

    Returns:
        A :class:`Compiled`.

    Raises:
        TypeError: if ``f`` is not callable, an argument is not a real number,
            a parameter is not a Value, or ``f`` returns something else than a
            Value or a list of Values.
        ValueError: for a non-finite example or check argument, a duplicate
            or non-leaf parameter, an empty output list, or ``check_args`` of
            the wrong length.
        TraceError: if the traces differ (data-dependent control flow), or
            if ``f`` raises while tracing a check example.
    """
    if not callable(f):
        raise TypeError(f"compile() needs a callable f, got {type(f).__name__}")
    args = _example(example_args, "example_args")
    plist = _params(params)
    if check_args is not None:
        other = _example(check_args, "check_args")
        if len(other) != len(args):
            raise ValueError(
                f"check_args has {len(other)} numbers but example_args has {len(args)}; give one per argument of f"
            )
    tape = trace(f, args, plist)
    checks: list[_Check] = [(a, None) for a in (_arg_checks(args) if check_args is None else [other])]
    if plist:
        # Apart from the arguments' check: flipping both would keep the sign of every product w * x.
        pdata = [float(p.data) for p in plist]
        checks.append((args, _flip(pdata, [1.0] * len(pdata))))
    for other_args, other_pdata in checks:
        tape2 = _check_trace(f, args, other_args, plist, other_pdata)
        diff = describe_mismatch(tape, tape2)
        if diff is not None:
            raise TraceError(
                f"f builds a different graph for example_args {list(args)} than for the check example "
                f"{_check_text(other_args, other_pdata)}: {diff}. "
                "A compiled tape records the ops of one run; Python control flow on data (an `if` on a comparison "
                "of Values or parameters, or a number read from `.data`) would be frozen into it and replayed "
                "wrongly for other inputs or parameter values. Write such branches with the ops relu, abs, "
                "maximum or minimum (e.g. maximum(x, 0) instead of `x if x > 0 else 0`), which are on the tape "
                "and replay correctly for every sample; read parameters as Values, not as `p.data`; "
                "or use the eager engine for this function."
            )
    return Compiled(tape, plist)


class _no_anomaly(ModeBlock):  # noqa: N801 - a mode block, named like the others
    """``detect_anomaly`` off within this block (in this thread); used for the check traces only."""

    _clear = ANOMALY


def _check_text(other: Sequence[float], pdata: Sequence[float] | None) -> str:
    """The check example in words: its arguments, and the parameter values it used (the first few)."""
    text = f"(arguments {list(other)}"
    if pdata is not None:
        shown = ", ".join(repr(v) for v in pdata[:4])
        more = f", ... ({len(pdata)} in all)" if len(pdata) > 4 else ""
        text += f", parameters' .data changed to [{shown}{more}] for this trace"
    return text + ")"


def _check_trace(
    f: Callable[..., Any],
    args: Sequence[float],
    other: Sequence[float],
    plist: Sequence[Any],
    pdata: Sequence[float] | None,
) -> Tape:
    """Trace ``f`` at the check example: arguments ``other``, each parameter's ``.data`` set to ``pdata`` (if given).

    Runs with anomaly checks off (the example is not the caller's input);
    restores every parameter's ``.data`` whatever happens.  An exception from
    ``f`` becomes a :class:`TraceError` naming the check example.
    """
    saved = [p.data for p in plist]
    try:
        for p, v in zip(plist, pdata or ()):
            p.data = v
        with _no_anomaly():
            return trace(f, other, plist)
    except Exception as e:
        hint = (
            " If it fails because a parameter changed sign, f reads a parameter's .data as a number, which the "
            "tape would freeze: use the parameter as a Value instead."
            if pdata is not None
            else ""
        )
        raise TraceError(
            f"f raised {type(e).__name__}: {e} while tracing the check example "
            f"{_check_text(other, pdata)}, which compile() runs besides example_args {list(args)} "
            "to detect data-dependent control flow (example_args traced without error). "
            "Pass check_args= with other arguments, one finite number per argument of f, at which f is defined "
            "and which take the other side of any branch, e.g. "
            f"compile(f, {list(args)}, check_args=[...]).{hint}"
        ) from e
    finally:
        for p, v in zip(plist, saved):
            p.data = v


def _example(args: Any, what: str) -> tuple[float, ...]:
    if isinstance(args, (str, bytes)) or not isinstance(args, Sequence | np.ndarray):
        raise TypeError(
            f"{what} must be a sequence of numbers, one per argument of f; got {type(args).__name__} "
            "(wrap one number as (x,))"
        )
    out = []
    for i, a in enumerate(args):
        if not isinstance(a, numbers.Real):
            raise TypeError(f"{what}[{i}] must be a real number, got {type(a).__name__}: {a!r:.80}")
        x = _real(a)
        if not math.isfinite(x):
            # nan maps to nan and inf to inf under any perturbation: the check would compare a trace with itself.
            raise ValueError(
                f"{what}[{i}] is {a!r:.80}; the traces need finite numbers (a nan or inf example hides "
                "the branches the control-flow check looks for); pass a finite example"
            )
        out.append(x)
    return tuple(out)


def _real(a: Any) -> float:
    """A real number as a float; an int beyond float range is +-inf, as in the eager engine."""
    try:
        return float(a)
    except OverflowError:
        return math.inf if a > 0 else -math.inf


#: Array kinds that hold real numbers: bool, signed and unsigned int, float.
_REAL_KINDS = frozenset("biuf")


def _real_array(a: Any, where: str) -> np.ndarray:
    """``a`` as a float64 array, if it holds only real numbers.

    ``np.asarray(a, dtype=float64)`` alone would parse strings ("1.5"), turn
    None into nan and drop imaginary parts; those are rejected here.  An
    object array (Python ints beyond int64, mixed number types) is accepted
    when every item is a real number; an int beyond float range becomes
    +-inf, as in the eager engine.

    Raises:
        TypeError: naming ``where``, for any item that is not a real number.
    """
    try:
        raw = np.asarray(a)
    except ValueError as e:  # ragged nesting
        raise TypeError(f"{where} is not an array of real numbers ({e})") from None
    kind = raw.dtype.kind
    if kind in _REAL_KINDS:
        return raw.astype(np.float64, copy=False)
    if kind == "O":
        flat = raw.ravel()
        for j, x in enumerate(flat):
            if isinstance(x, numbers.Real | np.bool_):
                continue
            raise TypeError(
                f"{where} holds {type(x).__name__} {x!r:.40} at index {j}; pass real numbers only "
                "(bool, int, float or numpy numbers)"
            )
        return np.array([_real(x) for x in flat], dtype=np.float64).reshape(raw.shape)
    what = {"U": "strings", "S": "bytes", "c": "complex numbers", "M": "datetimes", "m": "timedeltas"}.get(
        kind, f"items of dtype {raw.dtype}"
    )
    fix = " (convert text to numbers first, e.g. [float(s) for s in items])" if kind in "US" else ""
    raise TypeError(f"{where} is an array of {what}, dtype {raw.dtype}; pass real numbers{fix}")


def _params(params: Iterable[Any]) -> tuple[Any, ...]:
    if isinstance(params, Value):
        raise TypeError("params must be a sequence of Values, got one Value (wrap it as [p])")
    try:
        plist = tuple(params)
    except TypeError:
        raise TypeError(f"params must be an iterable of Values, got {type(params).__name__}") from None
    seen: dict[int, int] = {}
    for i, p in enumerate(plist):
        if type(p) is not Value:
            raise TypeError(f"params[{i}] must be a Value, got {type(p).__name__}")
        if p.spec is not None:
            raise ValueError(
                f"params[{i}] is the result of op {p.op!r}, not a leaf; params must be leaf Values "
                "(weights), not intermediate results"
            )
        if id(p) in seen:
            raise ValueError(f"params[{i}] is the same Value as params[{seen[id(p)]}]; list each parameter once")
        seen[id(p)] = i
    return plist


# --------------------------------------------------------------------------
# Replay
# --------------------------------------------------------------------------


class Compiled:
    """A traced function that replays for one sample (floats) or a batch (1-D arrays).

    Attributes:
        tape: the :class:`~autograd_core.tape.Tape` (slots, ops, signature).
        params: the parameter Values, in the order gradients are returned.
        n_args: number of arguments.
        n_outputs: number of outputs (1 when ``f`` returned a single Value).
        single: True when ``f`` returned a Value rather than a list.
    """

    def __init__(self, tape: Tape, params: tuple[Any, ...]) -> None:
        self.tape = tape
        self.params = params
        self.n_args = tape.n_args
        self.n_outputs = len(tape.outputs)
        self.single = tape.single

    def __repr__(self) -> str:
        t = self.tape
        return (
            f"Compiled(n_args={t.n_args}, n_params={t.n_params}, n_consts={len(t.consts)}, "
            f"n_ops={len(t.ops)}, n_outputs={self.n_outputs})"
        )

    # -- arguments -------------------------------------------------------------

    def _parse(self, args: Sequence[Any], who: str) -> tuple[int | None, list[Any]]:
        """Floats (one sample, batch None) or arrays of one length (a batch)."""
        if len(args) != self.n_args:
            raise TypeError(f"{who} takes {self.n_args} arguments (one per argument of f), got {len(args)}")
        out: list[Any] = []
        length: int | None = None
        for i, a in enumerate(args):
            if isinstance(a, numbers.Real):
                out.append(_real(a))
                continue
            if isinstance(a, (str, bytes)) or not isinstance(a, np.ndarray | Sequence):
                raise TypeError(
                    f"{who}: argument {i} must be a real number or a 1-D array of numbers, got {type(a).__name__}"
                )
            arr = _real_array(a, f"{who}: argument {i}")
            if arr.ndim == 0:
                out.append(float(arr))
                continue
            if arr.ndim != 1:
                raise ValueError(
                    f"{who}: argument {i} has shape {arr.shape}; pass a number or a 1-D array (one entry per sample)"
                )
            if length is None:
                length = arr.shape[0]
            elif arr.shape[0] != length:
                lengths = [len(x) if np.ndim(x) == 1 else "number" for x in out + [arr]]
                raise ValueError(
                    f"{who}: arrays of unequal length (argument lengths so far: {lengths}); "
                    "every batch argument needs one length"
                )
            out.append(arr)
        if length is not None:
            # A number next to arrays stands for the same value in every sample.
            out = [np.full(length, a) if type(a) is float else a for a in out]
        return length, out

    def _param_values(self) -> list[float]:
        return [float(p.data) for p in self.params]

    # -- evaluation --------------------------------------------------------------

    def __call__(self, *args: Any) -> Any:
        """Evaluate for one sample (numbers) or a batch (1-D arrays of one length).

        Args:
            *args: one number or 1-D array per argument; numbers next to arrays
                are broadcast to every sample.

        Returns:
            A float (one sample) or an array (a batch); a list of them when
            ``f`` returned a list.

        Raises:
            TypeError: for a wrong number of arguments or a non-numeric one.
            ValueError: for arrays that are not 1-D or differ in length.
        """
        n, xs = self._parse(args, "compiled f")
        t = self.tape
        if n is None:
            vals = t.forward_scalar(xs, self._param_values())
            outs: list[Any] = [vals[s] for s in t.outputs]
        else:
            with np.errstate(all="ignore"):
                state = t.forward_batch(xs, self._param_values(), n)
            outs = [t.batch_value(state, s) for s in t.outputs]  # copies: the matrices are reused
            t.release(state)
        return outs[0] if self.single else outs

    def forward_backward(self, *args: Any) -> tuple[Any, list[Any], list[float]]:
        """Value, per-sample gradients w.r.t. the arguments, and summed gradients w.r.t. the params.

        Needs a single output.  Leaves every ``.grad`` alone.

        Args:
            *args: as for calling the compiled function.

        Returns:
            ``(out, arg_grads, param_grads)``: ``out`` a float or an array;
            ``arg_grads`` one float (one sample) or array (the gradient of each
            sample's output w.r.t. that sample's argument) per argument;
            ``param_grads`` one float per parameter, the gradient of the sum of
            the outputs over the batch.

        Raises:
            TypeError, ValueError: as for calling; ValueError also when ``f``
                returned more than one output.
        """
        n, xs = self._parse(args, "forward_backward")
        self._need_single("forward_backward")
        return self._forward_backward(n, xs)

    def _forward_backward(self, n: int | None, xs: list[Any]) -> tuple[Any, list[Any], list[float]]:
        t = self.tape
        pv = self._param_values()
        out_slot = t.outputs[0]
        if n is None:
            vals = t.forward_scalar(xs, pv)
            grads = t.backward_scalar(vals)
            return vals[out_slot], [grads[i] for i in range(t.n_args)], grads[t.n_args : t.n_args + t.n_params]
        with np.errstate(all="ignore"):
            state = t.forward_batch(xs, pv, n)
            arg_g, par_g = t.backward_batch(state)
        out = t.batch_value(state, out_slot)  # a copy, as are arg_g: the matrices are reused
        t.release(state)
        return out, arg_g, par_g

    def value_and_grad(self, args: Sequence[Any], *, reduce: str = "mean") -> tuple[float, list[float]]:
        """The output reduced over the batch, and its gradient w.r.t. each parameter.

        The gradients are also ADDED into each parameter's ``.grad`` (as
        ``backward()`` would), so optimizers work unchanged; zero the grads
        between steps as usual.  Needs a function with a single output (a
        Value, or a list of exactly one Value): reduce a multi-output
        function to one loss inside ``f``.

        Inside ``no_grad()`` the gradients are still computed and still added
        into ``.grad``: ``no_grad`` stops graphs from being recorded, and the
        tape was recorded at :func:`compile` time, as PyTorch's
        ``loss.backward()`` inside ``torch.no_grad()`` still fills the leaves'
        ``.grad`` of a graph built outside it.  To get the gradients without
        touching ``.grad``, use :meth:`forward_backward`.

        Args:
            args: one number or 1-D array per argument of ``f``.
            reduce: ``"mean"`` (the mean over the batch) or ``"sum"``.

        Returns:
            ``(value, grads)``: the reduced output as a float and one float per
            parameter, in ``params`` order (0.0 for a parameter the output
            does not depend on).

        Raises:
            TypeError: if ``args`` is not a sequence of the right length or
                holds a non-numeric entry.
            ValueError: for an unknown ``reduce``, arrays of unequal length,
                an empty batch, or more than one output.
        """
        if reduce not in _REDUCES:
            raise ValueError(f"reduce must be 'mean' or 'sum', got {reduce!r}")
        if isinstance(args, (str, bytes)) or not isinstance(args, Sequence | np.ndarray):
            raise TypeError(
                f"value_and_grad takes a sequence of arguments (one number or array per argument of f), "
                f"got {type(args).__name__}"
            )
        self._need_single("value_and_grad")
        n, xs = self._parse(args, "value_and_grad")
        if n == 0:
            raise ValueError("value_and_grad: the batch is empty (arrays of length 0); pass at least one sample")
        out, _, grads = self._forward_backward(n, xs)
        if n is None:
            value = float(out)
        else:
            value = float(np.sum(out))
            if reduce == "mean":
                value /= n
                grads = [g / n for g in grads]
        for p, g in zip(self.params, grads):
            p.grad = add_grad(p.grad, g)  # a .grad of 0.0 counts as empty, as in backward()
        return value, grads

    def _need_single(self, who: str) -> None:
        if self.n_outputs != 1:
            raise ValueError(
                f"{who} needs a function with one output, but f returned a list of {self.n_outputs} Values; "
                "reduce them to one Value inside f (e.g. a loss, or sum(outputs)) and compile that"
            )
