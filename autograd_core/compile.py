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
  same-op nodes of one level of the graph.  Slots that do not depend on an
  argument (a weight penalty, say) are computed once as floats; their
  gradient is the sum of the per-sample contributions.

Parameter values are read from the parameters' ``.data`` at every call, so an
optimizer can update them between calls without a re-trace;
:meth:`Compiled.value_and_grad` adds the reduced gradients into their ``.grad``.
A replay records no graph and runs no ``detect_anomaly`` checks: non-finite
values follow IEEE rules (inf, nan) as in the eager engine.

A tape records the ops one run executed.  Python control flow on data (an
``if`` on ``x > 0``, a number read from ``.data``) would be frozen into it, so
:func:`compile` traces a second, different example and raises
:class:`TraceError` when the two tapes differ.  ``relu``, ``abs``,
``maximum`` and ``minimum`` are ops on the tape and replay correctly for
every sample.

:func:`compile_model` and :func:`compile_loss` compile a model (anything with
``parameters()`` and ``__call__(list_of_Values) -> list[Value]``) and a
per-sample built-in loss, for a training loop such as ``nn.fit``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from .tape import Tape, TraceError, describe_mismatch, trace

__all__ = [
    "Compiled",
    "CompiledLoss",
    "TraceError",
    "compile",
    "compile_model",
    "compile_loss",
    "LOSS_KINDS",
]

_REDUCES = ("mean", "sum")


def _perturb(x: float) -> float:
    """A second example for the control-flow check: every sign flips and every magnitude grows by 1.

    Flipping the sign catches the most common branch (``if x > 0``); the
    shift catches branches on magnitude.  Zero maps to -1.
    """
    return -(x + math.copysign(1.0, x))


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
            each example argument with its sign flipped and 1 added to its
            magnitude).  Pass inputs that take the other side of any branch
            you suspect.

    Returns:
        A :class:`Compiled`.

    Raises:
        TypeError: if ``f`` is not callable, an argument is not a real number,
            a parameter is not a Value, or ``f`` returns something else than a
            Value or a list of Values.
        ValueError: for a duplicate or non-leaf parameter, an empty output
            list, or ``check_args`` of the wrong length.
        TraceError: if the two traces differ (data-dependent control flow).
    """
    if not callable(f):
        raise TypeError(f"compile() needs a callable f, got {type(f).__name__}")
    args = _example(example_args, "example_args")
    plist = _params(params)
    tape = trace(f, args, plist)
    if check_args is None:
        other = tuple(_perturb(a) for a in args)
    else:
        other = _example(check_args, "check_args")
        if len(other) != len(args):
            raise ValueError(
                f"check_args has {len(other)} numbers but example_args has {len(args)}; give one per argument of f"
            )
    tape2 = trace(f, other, plist)
    diff = describe_mismatch(tape, tape2)
    if diff is not None:
        raise TraceError(
            f"f builds a different graph for example_args {list(args)} than for check_args {list(other)}: {diff}. "
            "A compiled tape records the ops of one run; Python control flow on data (an `if` on a comparison of "
            "Values, or a number read from `.data`) would be frozen into it and replayed wrongly for other inputs. "
            "Write such branches with the ops relu, abs, maximum or minimum (e.g. maximum(x, 0) instead of "
            "`x if x > 0 else 0`), which are on the tape and replay correctly for every sample, "
            "or use the eager engine for this function."
        )
    return Compiled(tape, plist)


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
        out.append(float(a))
    return tuple(out)


def _params(params: Iterable[Any]) -> tuple[Any, ...]:
    from .value import Value

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
                out.append(float(a))
                continue
            if isinstance(a, (str, bytes)) or not isinstance(a, np.ndarray | Sequence):
                raise TypeError(
                    f"{who}: argument {i} must be a real number or a 1-D array of numbers, got {type(a).__name__}"
                )
            try:
                arr = np.asarray(a, dtype=np.float64)
            except (TypeError, ValueError) as e:
                raise TypeError(f"{who}: argument {i} is not an array of real numbers ({e})") from None
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
            outs = [t.batch_value(state, s) for s in t.outputs]
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
        return t.batch_value(state, out_slot), arg_g, par_g

    def value_and_grad(self, args: Sequence[Any], *, reduce: str = "mean") -> tuple[float, list[float]]:
        """The output reduced over the batch, and its gradient w.r.t. each parameter.

        The gradients are also ADDED into each parameter's ``.grad`` (as
        ``backward()`` would), so optimizers work unchanged; zero the grads
        between steps as usual.  Needs a function with a single output (a
        Value, or a list of exactly one Value): reduce a multi-output
        function to one loss inside ``f``.

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
            p.grad += g
        return value, grads

    def _need_single(self, who: str) -> None:
        if self.n_outputs != 1:
            raise ValueError(
                f"{who} needs a function with one output, but f returned a list of {self.n_outputs} Values; "
                "reduce them to one Value inside f (e.g. a loss, or sum(outputs)) and compile that"
            )


# --------------------------------------------------------------------------
# Models and built-in losses, for training loops (nn.fit)
# --------------------------------------------------------------------------

#: Per-sample losses :func:`compile_loss` knows, by name (the names of ``nn.losses``).
LOSS_KINDS = ("mse", "l1", "hinge", "bce", "bce_with_logits", "cross_entropy")

#: Lower bound of log(p) in ``bce``, as ``nn.losses.LOG_CLAMP`` (and PyTorch).
_LOG_CLAMP = -100.0


def _model_outputs(model: Any, xs: list[Any]) -> list[Any]:
    from .value import Value

    out = model(xs)
    if type(out) is Value:
        return [out]
    if not isinstance(out, (list, tuple)):
        raise TypeError(f"model(inputs) must return a Value or a list of Values, got {type(out).__name__}")
    return list(out)


def compile_model(model: Any, n_inputs: int, *, example: Sequence[float] | None = None) -> Compiled:
    """Compile ``model`` as a function of its ``n_inputs`` inputs (for batched prediction).

    Args:
        model: anything with ``parameters()`` and ``__call__(list_of_Values)``
            returning a Value or a list of Values.
        n_inputs: number of model inputs.
        example: inputs to trace with (default: 0.1, 0.2, ...).

    Returns:
        A :class:`Compiled` ``(*inputs) -> list of outputs``, params = ``model.parameters()``.

    Raises:
        TypeError, ValueError, TraceError: as :func:`compile`.
    """
    n_inputs = _count(n_inputs, "n_inputs")
    ex = list(example) if example is not None else [0.1 * (i + 1) for i in range(n_inputs)]
    return compile(lambda *x: _model_outputs(model, list(x)), ex, params=list(model.parameters()))


def _count(n: Any, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"{what} must be an int, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"{what} must be at least 1, got {n}")
    return int(n)


def _loss_terms(kind: str, outs: list[Any], ts: list[Any]) -> Any:
    """One sample's loss, every target a Value argument (never read as data)."""
    from .value import maximum

    if kind == "cross_entropy":
        # Shift by the largest logit as a maximum op (not a number read from
        # .data, which the tape would freeze); the shift cancels in the value.
        m = outs[0]
        for z in outs[1:]:
            m = maximum(m, z)
        total = (outs[0] - m).exp()
        for z in outs[1:]:
            total = total + (z - m).exp()
        picked = ts[0] * outs[0]
        for t, z in zip(ts[1:], outs[1:]):
            picked = picked + t * z
        return total.log() + m - picked
    terms = []
    for z, t in zip(outs, ts):
        if kind == "mse":
            terms.append((z - t) ** 2)
        elif kind == "l1":
            terms.append(abs(z - t))
        elif kind == "hinge":
            terms.append((1.0 - t * z).relu())
        elif kind == "bce":
            # The clamp is a maximum op, so p = 0 or 1 stays finite for every sample.
            log_p = maximum(z.log(), _LOG_CLAMP)
            log_q = maximum((1.0 - z).log(), _LOG_CLAMP)
            terms.append(-(t * log_p + (1.0 - t) * log_q))
        else:  # bce_with_logits: -log sigmoid(z) = softplus(-z), so the loss is softplus(z) - t z.
            terms.append(z.softplus() - t * z)
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total if len(terms) == 1 else total * (1.0 / len(terms))


class CompiledLoss:
    """A model's per-sample loss, compiled; the batch mean is one :meth:`value_and_grad` call.

    Made by :func:`compile_loss`.  Arguments of the tape: the model inputs,
    then the targets (one per model output; for ``cross_entropy`` the one-hot
    encoding of the class index).

    Attributes:
        compiled: the :class:`Compiled` per-sample loss.
        kind: the loss name.
        n_inputs, n_outputs: the model's input and output counts.
        params: the model's parameters, in ``model.parameters()`` order.
    """

    def __init__(self, compiled: Compiled, kind: str, n_inputs: int, n_outputs: int) -> None:
        self.compiled = compiled
        self.kind = kind
        self.n_inputs = n_inputs
        self.n_outputs = n_outputs
        self.params = compiled.params

    def __repr__(self) -> str:
        return f"CompiledLoss(kind={self.kind!r}, n_inputs={self.n_inputs}, n_outputs={self.n_outputs})"

    def args(self, X: Any, y: Any) -> list[np.ndarray]:
        """The tape's argument arrays for inputs ``X`` (n, n_inputs) and targets ``y``.

        ``y`` is (n,) or (n, n_outputs) of targets, or (n,) of class indices for
        ``cross_entropy``.

        Raises:
            ValueError: for shapes that do not match, or a class index out of range.
        """
        Xa = np.asarray(X, dtype=np.float64)
        if Xa.ndim == 1 and self.n_inputs == 1:
            Xa = Xa[:, None]
        if Xa.ndim != 2 or Xa.shape[1] != self.n_inputs:
            raise ValueError(f"X must have shape (n, {self.n_inputs}), got {Xa.shape}")
        ya = np.asarray(y, dtype=np.float64)
        if ya.shape[:1] != Xa.shape[:1]:
            raise ValueError(f"X has {Xa.shape[0]} samples but y has shape {ya.shape}; give one target per sample")
        if self.kind == "cross_entropy":
            if (
                ya.ndim != 1
                or not np.all(ya == np.round(ya))
                or ya.size
                and (ya.min() < 0 or ya.max() >= self.n_outputs)
            ):
                raise ValueError(
                    f"cross_entropy targets must be class indices 0..{self.n_outputs - 1} of shape (n,), got {ya!r:.80}"
                )
            T = np.zeros((ya.shape[0], self.n_outputs))
            T[np.arange(ya.shape[0]), ya.astype(np.int64)] = 1.0
        else:
            T = ya[:, None] if ya.ndim == 1 else ya
            if T.ndim != 2 or T.shape[1] != self.n_outputs:
                raise ValueError(f"y must have shape (n,) or (n, {self.n_outputs}) for {self.kind}, got {ya.shape}")
        return [np.ascontiguousarray(Xa[:, j]) for j in range(self.n_inputs)] + [
            np.ascontiguousarray(T[:, j]) for j in range(self.n_outputs)
        ]

    def value_and_grad(self, X: Any, y: Any, *, reduce: str = "mean") -> tuple[float, list[float]]:
        """The loss over the batch ``(X, y)`` and its gradients, also added into each parameter's ``.grad``.

        Args:
            X: inputs, shape (n, n_inputs).
            y: targets, see :meth:`args`.
            reduce: ``"mean"`` (as the ``nn.losses`` functions) or ``"sum"``.

        Returns:
            ``(loss, grads)``, grads in ``params`` order.

        Raises:
            ValueError: for bad shapes or an empty batch.
        """
        return self.compiled.value_and_grad(self.args(X, y), reduce=reduce)


def compile_loss(
    model: Any,
    loss: Any,
    n_inputs: int,
    *,
    n_outputs: int | None = None,
    l1: float = 0.0,
    l2: float = 0.0,
) -> CompiledLoss:
    """Compile ``loss(model(x), target)`` for one sample, to train ``model`` on batches.

    Args:
        model: anything with ``parameters()`` and ``__call__(list_of_Values)``
            returning a Value or a list of Values.
        loss: one of :data:`LOSS_KINDS` by name, or a function whose
            ``__name__`` is one of them (``nn.losses.mse`` ...).  Per sample:
            mse ``(z - t)**2``, l1 ``|z - t|``, hinge ``relu(1 - t z)``
            (targets -1/+1), bce ``-(t log z + (1 - t) log(1 - z))`` with
            log clamped at -100, bce_with_logits ``softplus(z) - t z`` (each
            averaged over the outputs), cross_entropy ``logsumexp(z) -
            z[class]``.  The batch mean of these equals the ``nn.losses``
            function of the same name.
        n_inputs: number of model inputs.
        n_outputs: number of model outputs (default: found by calling the model once).
        l1: if nonzero, ``l1 * sum(|p| for p in parameters)`` is added to the
            loss (computed once per batch, not per sample).
        l2: likewise ``l2 * sum(p * p for p in parameters)``.

    Returns:
        A :class:`CompiledLoss`.

    Raises:
        TypeError, ValueError: for an unknown loss or bad counts.
        TraceError: if the model branches on data in Python.
    """
    kind = loss if isinstance(loss, str) else getattr(loss, "__name__", None)
    if kind not in LOSS_KINDS:
        raise ValueError(f"unknown loss {loss!r}; compile_loss knows {', '.join(LOSS_KINDS)}")
    n_inputs = _count(n_inputs, "n_inputs")
    for what, coef in (("l1", l1), ("l2", l2)):
        if isinstance(coef, bool) or not isinstance(coef, numbers.Real) or not math.isfinite(coef):
            raise TypeError(f"{what} must be a finite real number, got {coef!r}")
    l1, l2 = float(l1), float(l2)
    params = list(model.parameters())
    ex = [0.1 * (i + 1) for i in range(n_inputs)]
    if n_outputs is None:
        from .value import Value

        n_outputs = len(_model_outputs(model, [Value(v) for v in ex]))
    n_outputs = _count(n_outputs, "n_outputs")
    if kind == "cross_entropy" and n_outputs < 2:
        raise ValueError(f"cross_entropy needs a model with at least 2 outputs (class logits), got {n_outputs}")
    t_ex = [1.0] + [0.0] * (n_outputs - 1) if kind == "cross_entropy" else [1.0] * n_outputs

    def per_sample(*a: Any) -> Any:
        outs = _model_outputs(model, list(a[:n_inputs]))
        if len(outs) != n_outputs:
            raise ValueError(f"the model returned {len(outs)} outputs, expected n_outputs={n_outputs}")
        total = _loss_terms(kind, outs, list(a[n_inputs:]))
        # The penalties depend on no argument: the replay computes them once per batch.
        if l1 and params:
            pen = abs(params[0])
            for p in params[1:]:
                pen = pen + abs(p)
            total = total + l1 * pen
        if l2 and params:
            pen = params[0] * params[0]
            for p in params[1:]:
                pen = pen + p * p
            total = total + l2 * pen
        return total

    # The second example flips the inputs' signs and takes another class or target.
    t_check = [0.0, 1.0] + [0.0] * (n_outputs - 2) if kind == "cross_entropy" else [-1.0] * n_outputs
    check = [-(v + 1.0) for v in ex] + t_check
    compiled = compile(per_sample, ex + t_ex, params=params, check_args=check)
    return CompiledLoss(compiled, kind, n_inputs, n_outputs)
