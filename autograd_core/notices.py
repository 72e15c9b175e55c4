"""Notices in words: which ops of a graph were evaluated outside their domain or on a kink.

A nan or an infinite result, or a gradient check that cannot agree, often
has one cause the registry already knows: log at a negative input, relu at
its kink.  :func:`notices` walks a graph and reads each op entry's
``valid_domain`` and ``kinks`` (in :mod:`autograd_core.primitives`) at the
values its inputs had, and returns one sentence per (op, reason), for
example ``"log: input -1 is outside its domain (x > 0; x = 0 gives -inf)"``.
The command line prints them as notes; :func:`autograd_core.gradcheck`
appends them to its failure report.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .engine import is_node, topo_order
from .primitives import OpSpec

__all__ = ["notices", "op_notices"]

#: What a kink means for a derivative, said after every kink notice.
KINK_CONSEQUENCE = "the derivative there is a convention (a subgradient), central differences need not agree with it"


def _number(x: float) -> str:
    return f"{x:.12g}"


def _where(spec: OpSpec, inputs: Sequence[float], ctx: Sequence[float]) -> str:
    """``input -1`` or ``inputs (1, 0)``, with the constant params: ``input -8 (exponent=0.5)``."""
    if len(inputs) == 1:
        text = f"input {_number(inputs[0])}"
    else:
        text = f"inputs ({', '.join(_number(v) for v in inputs)})"
    if ctx:
        text += f" ({', '.join(f'{n}={_number(c)}' for n, c in zip(spec.params, ctx))})"
    return text


def op_notices(spec: OpSpec, inputs: Sequence[float], ctx: Sequence[float] = ()) -> list[tuple[str, str]]:
    """The notices for one application of ``spec``, as ``(reason, sentence)`` pairs.

    ``reason`` (the condition's text, marked domain or kink) identifies the
    notice for de-duplication.  An input that is already nan gives no notice:
    the nan came from elsewhere, where it was noticed.

    Args:
        spec: the op's registry entry.
        inputs: the input floats.
        ctx: the op's constant params.
    """
    if any(v != v for v in inputs):
        return []
    found: list[tuple[str, str]] = []
    args = (*inputs, *ctx)
    verb = "is" if len(inputs) == 1 else "are"
    for cond in spec.valid_domain:
        if not cond.test(*args):
            where = _where(spec, inputs, ctx)
            found.append((f"domain: {cond.text}", f"{spec.name}: {where} {verb} outside its domain ({cond.text})"))
    for cond in spec.kinks:
        if cond.test(*args):
            where = _where(spec, inputs, ctx)
            found.append(
                (f"kink: {cond.text}", f"{spec.name}: {where} {verb} at its kink ({cond.text}): {KINK_CONSEQUENCE}")
            )
    return found


def notices(root: Any) -> list[str]:
    """Every domain and kink notice of the graph below ``root``, once per (op, reason), inputs first.

    Returns:
        Sentences such as ``"relu: input 0 is at its kink (x = 0): ..."``, in
        the graph's topological order (the first offending node of each
        (op, reason) gives the values); ``[]`` when every op was evaluated
        where it is defined and smooth.

    Raises:
        TypeError: if ``root`` is not a Value.
    """
    if not is_node(root):
        raise TypeError(f"notices() needs a Value, got {type(root).__name__}")
    seen: set[tuple[str, str]] = set()
    out: list[str] = []
    for node in topo_order(root):
        spec = node.spec
        if spec is None or not (spec.valid_domain or spec.kinks):
            continue
        for reason, sentence in op_notices(spec, [p.data for p in node.parents], node.ctx):
            if (spec.name, reason) not in seen:
                seen.add((spec.name, reason))
                out.append(sentence)
    return out
