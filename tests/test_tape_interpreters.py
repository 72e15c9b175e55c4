"""The tape's two interpreters: the scalar one (ScalarProgram) on its own, and the batch one's fixed part."""

from __future__ import annotations

import numpy as np
import pytest

from autograd_core import Value, ops
from autograd_core.tape import ScalarProgram, trace


def test_scalar_program_appends_values_and_adds_gradients() -> None:
    # slots: 0 = x, 1 = y; 2 = x * y; 3 = tanh(slot 2); 4 = slot 3 ** 2
    prog = ScalarProgram([(ops.MUL, (0, 1), ()), (ops.TANH, (2,), ()), (ops.POW_CONST, (3,), (2.0,))], first_out=2)
    vals = [0.5, -1.5]
    prog.forward(vals)
    x, y = Value(0.5), Value(-1.5)
    out = (x * y).tanh() ** 2
    assert vals[4] == out.data
    grads = [0.0] * 5
    grads[4] = 1.0
    prog.backward(vals, grads)
    out.backward()
    assert grads[:2] == [x.grad, y.grad]


def test_scalar_program_rejects_a_rule_with_a_wrong_result_naming_the_op() -> None:
    spec = ops.OpSpec("bad_rule_tape", 1, lambda x: x, lambda g, o, x: g, "bad", (((-1.0, 1.0),),))
    prog = ScalarProgram([(spec, (0,), ())], first_out=1)
    vals = [0.25]
    prog.forward(vals)
    with pytest.raises(ValueError, match="'bad_rule_tape' returned a float"):
        prog.backward(vals, [0.0, 1.0])


def test_batch_replay_runs_non_varying_ops_once_in_the_fixed_program() -> None:
    w = Value(0.75)
    tape = trace(lambda x: x * w + (w * w).tanh(), [1.0], [w])
    # w * w and its tanh do not depend on the argument: they form the fixed program, one group per level.
    assert [g.spec.name for g in tape.fixed_groups()] == ["mul", "tanh"]
    xs = np.array([1.0, -2.0, 3.0])
    state = tape.forward_batch([xs], [0.75], 3)
    arg_g, par_g = tape.backward_batch(state)
    expected_par = 0.0
    for x in xs:
        xv, wv = Value(float(x)), Value(0.75)
        out = xv * wv + (wv * wv).tanh()
        out.backward()
        assert arg_g[0][list(xs).index(x)] == pytest.approx(xv.grad, rel=1e-14)
        expected_par += wv.grad
    assert par_g[0] == pytest.approx(expected_par, rel=1e-13)
