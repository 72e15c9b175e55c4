"""Domain and kink notices (``autograd_core.notices``) from the registry's ``valid_domain`` and ``kinks``."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest

from autograd_core import GradcheckError, Value, gradcheck, gradgradcheck, maximum, primitives, register
from autograd_core.notices import notices, op_notices
from autograd_core.primitives import Condition, get


@pytest.fixture
def temp_op() -> Iterator[None]:
    """Ops registered by the test are removed afterwards, so no other test draws them from the registry."""
    before = set(primitives.names())
    yield
    for name in set(primitives.names()) - before:
        primitives._REGISTRY.pop(name, None)


KINK = "the derivative there is a convention (a subgradient), central differences need not agree with it"


@pytest.mark.parametrize(
    ("op", "at", "want"),
    [
        ("log", -1.0, "log: input -1 is outside its domain (x > 0; x = 0 gives -inf)"),
        ("log", 0.0, "log: input 0 is outside its domain (x > 0; x = 0 gives -inf)"),
        ("sqrt", -1.0, "sqrt: input -1 is outside its domain (x >= 0)"),
    ],
)
def test_notices_name_the_op_the_input_and_the_domain(op: str, at: float, want: str) -> None:
    assert notices(getattr(Value(at), op)()) == [want]


@pytest.mark.parametrize("op", ["relu", "abs"])
def test_notices_name_a_kink_at_zero(op: str) -> None:
    x = Value(0.0)
    f = abs(x) if op == "abs" else x.relu()
    assert notices(f) == [f"{op}: input 0 is at its kink (x = 0): {KINK}"]


def test_notices_of_two_input_ops_list_both_inputs() -> None:
    assert notices(Value(1.0) / Value(0.0)) == ["div: inputs (1, 0) are outside its domain (y != 0)"]
    assert notices(maximum(Value(2.0), Value(2.0))) == [f"maximum: inputs (2, 2) are at its kink (x = y): {KINK}"]


def test_notices_come_once_per_op_and_reason_in_graph_order() -> None:
    x, y = Value(-1.0), Value(-4.0)
    f = x.log() + y.log() + x.sqrt() + Value(0.0).relu() + Value(0.0).relu()
    assert notices(f) == [
        "log: input -1 is outside its domain (x > 0; x = 0 gives -inf)",
        "sqrt: input -1 is outside its domain (x >= 0)",
        f"relu: input 0 is at its kink (x = 0): {KINK}",
    ]


def test_notices_are_empty_where_every_op_is_defined_and_smooth() -> None:
    x = Value(2.0)
    assert notices((x.log() + x.sqrt() + (x - 1.0).relu() + abs(x) + x ** Value(0.5)) / x) == []


def test_notices_of_pow_follow_its_real_domain() -> None:
    assert notices(Value(-8.0) ** 3.0) == []  # a negative base with a whole exponent is real
    assert notices(Value(0.0) ** 2.0) == []
    (note,) = notices(Value(-8.0) ** 0.5)
    assert note.startswith("pow_const: input -8 (exponent=0.5) is outside its domain (x > 0")
    (note,) = notices(Value(0.0) ** Value(-1.0))
    assert note.startswith("pow: inputs (0, -1) are outside its domain (x > 0, or x = 0 with y >= 0")


def test_notices_of_elu_and_leaky_relu_see_their_params() -> None:
    x = Value(0.0)
    assert notices(x.elu(1.0)) == []  # alpha = 1: both sides have slope 1, no kink
    assert notices(x.elu(2.0)) == [f"elu: input 0 (alpha=2) is at its kink (x = 0): {KINK}"]
    assert notices(x.leaky_relu(0.1)) == [f"leaky_relu: input 0 (slope=0.1) is at its kink (x = 0): {KINK}"]


def test_notices_skip_an_input_that_is_already_nan() -> None:
    assert op_notices(get("log"), [math.nan]) == []
    assert notices(Value(-1.0).log().log()) == ["log: input -1 is outside its domain (x > 0; x = 0 gives -inf)"]


def test_notices_reject_a_non_value() -> None:
    with pytest.raises(TypeError, match="notices\\(\\) needs a Value, got float"):
        notices(1.0)


def test_register_accepts_valid_domain_and_kinks_for_a_users_op(temp_op: None) -> None:
    cbrt_abs = register(
        "test_notices_cbrt_abs",
        lambda x: abs(x) ** (1 / 3) if x == x else x,
        lambda g, out, x: (g * (1 / 3) * abs(x) ** (-2 / 3) * (1 if x > 0 else -1),),
        arity=1,
        valid_domain=[("x finite", math.isfinite)],
        kinks=[Condition("x = 0", lambda x: x == 0)],
    )
    assert notices(cbrt_abs(Value(0.0))) == [f"test_notices_cbrt_abs: input 0 is at its kink (x = 0): {KINK}"]
    assert notices(cbrt_abs(Value(math.inf))) == ["test_notices_cbrt_abs: input inf is outside its domain (x finite)"]
    plain = register("test_notices_plain", lambda x: 2 * x, lambda g, out, x: (2 * g,), arity=1)
    assert get("test_notices_plain").kinks == () and get("test_notices_plain").valid_domain == ()
    assert notices(plain(Value(0.0))) == []


@pytest.mark.parametrize(
    ("kinks", "match"),
    [
        ("x = 0", "kinks must be a list of \\(text, predicate\\) pairs"),
        ([("x = 0",)], "each kinks entry must be a \\(text, predicate\\) pair"),
        ([("x = 0", 3)], "the predicate of kinks entry 'x = 0' must be callable"),
        ([("", lambda x: x == 0)], "a kinks entry needs a non-empty text"),
    ],
)
def test_register_rejects_malformed_kinks(kinks: object, match: str, temp_op: None) -> None:
    with pytest.raises(TypeError, match=match):
        register("test_notices_bad", lambda x: x, lambda g, out, x: (g,), arity=1, kinks=kinks)


def test_gradcheck_failure_report_appends_the_kink_note() -> None:
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x: x.relu(), [0.0])
    lines = str(info.value).splitlines()
    assert lines[0].startswith("first derivative: input 0 (x0) at (x0=0.0): analytic 0.0 != numerical 0.5")
    assert lines[1:] == [f"note: relu: input 0 is at its kink (x = 0): {KINK}"]


def test_gradcheck_failure_report_appends_the_domain_note() -> None:
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x: x.sqrt() * 2.0, [-1.0])
    assert str(info.value).splitlines()[1:] == ["note: sqrt: input -1 is outside its domain (x >= 0)"]
    with pytest.raises(GradcheckError) as info:
        gradgradcheck(lambda x: x.log() * x, [-1.0])
    assert "note: log: input -1 is outside its domain" in str(info.value)


def test_gradcheck_failure_without_a_notice_keeps_its_one_line_message(temp_op: None) -> None:
    wrong = register("test_notices_wrong", lambda x: x * x, lambda g, out, x: (g * x,), arity=1)
    with pytest.raises(GradcheckError) as info:
        gradcheck(wrong, [1.5])
    assert "\n" not in str(info.value)
