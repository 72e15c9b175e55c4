"""gradcheck and gradgradcheck: ``raise_exception=False`` returns False on a mismatch, as PyTorch's does.

(The checks themselves, their messages and tolerances, are tested with the
registry in tests/test_engine_registry.py.)
"""

from __future__ import annotations

import pytest

from autograd_core import GradcheckError, Value, gradcheck, gradgradcheck


def relu(x: Value) -> Value:
    # At 0 the central difference of relu is 1/2, its analytic derivative 0: a mismatch without a wrong rule.
    return x.relu()


def test_gradcheck_mismatch_raises_by_default() -> None:
    with pytest.raises(GradcheckError, match=r"first derivative: input 0 \(x0\).*analytic 0.0 != numerical 0.5"):
        gradcheck(relu, [0.0])


def test_gradcheck_raise_exception_false_returns_false_on_mismatch() -> None:
    assert gradcheck(relu, [0.0], raise_exception=False) is False


def test_gradcheck_raise_exception_false_returns_true_when_gradients_agree() -> None:
    assert gradcheck(lambda x, y: (x * y).tanh(), [0.5, 2.0], raise_exception=False) is True
    assert gradcheck(relu, [0.3], raise_exception=False) is True


def test_gradcheck_raise_exception_false_returns_false_outside_the_smooth_domain() -> None:
    # log's central difference at 0 is nan: the point cannot be checked.
    with pytest.raises(GradcheckError, match="outside the function's smooth domain"):
        gradcheck(lambda x: x.log(), [0.0])
    assert gradcheck(lambda x: x.log(), [0.0], raise_exception=False) is False


def test_gradgradcheck_raise_exception_false_returns_false_on_mismatch() -> None:
    # relu's first derivative jumps at 0, so its central difference there is about 1 / (2 eps), not 0.
    with pytest.raises(GradcheckError, match="second derivative"):
        gradgradcheck(relu, [0.0])
    assert gradgradcheck(relu, [0.0], raise_exception=False) is False
    assert gradgradcheck(lambda x: x.sin() * x, [0.4], raise_exception=False) is True


def test_gradcheck_raise_exception_false_still_raises_for_bad_arguments() -> None:
    for check in (gradcheck, gradgradcheck):
        with pytest.raises(TypeError, match="must return a Value"):
            check(lambda x: 1.0, [0.5], raise_exception=False)
        with pytest.raises(ValueError, match="eps must be a finite number > 0"):
            check(relu, [0.5], eps=0.0, raise_exception=False)
        with pytest.raises(TypeError, match="raise_exception must be True or False"):
            check(relu, [0.5], raise_exception=0)  # type: ignore[arg-type]
