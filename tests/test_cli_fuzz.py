"""Random argument vectors against ``viz.cli.main``: exit 0, 1 or 2, one error line, no traceback, quick.

Each example runs in a fresh temporary directory (every path drawn is
relative, so nothing is written elsewhere).  ``train`` always ends with small
``--n``/``--epochs``/``--hidden`` values (the last occurrence wins in argparse)
and runs without matplotlib (its documented "no plots written" note), so no
example trains or draws for long.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
from collections.abc import Iterator

from hypothesis import given, settings
from hypothesis import strategies as st

from viz.cli import main
from viz.cli.messages import MAX_MESSAGE

#: Expressions and their variables, so that many examples are valid commands that do real work.
EXPRESSIONS = {
    "x": ["x"],
    "x*y": ["x", "y"],
    "-x**2": ["x"],
    "--x": ["x"],
    "tanh(x*w + b)": ["x", "w", "b"],
    "max(x, y)": ["x", "y"],
    "maximum(x, y)": ["x", "y"],
    "relu(x)": ["x"],
    "x/y": ["x", "y"],
    "log(x)": ["x"],
    "sqrt(-x)": ["x"],
    "x**3 + sin(x*y)": ["x", "y"],
    "2+3": [],
}
COMMANDS = ["graph", "grad", "check", "train"]
OPTIONS = {
    "graph": ["--at", "-o", "--output", "--rankdir", "--"],
    "grad": ["--at", "--order", "--"],
    "check": ["--at", "--eps", "--atol", "--rtol", "--"],
    "train": [
        "--dataset",
        "--n",
        "--noise",
        "--hidden",
        "--activation",
        "--epochs",
        "--batch-size",
        "--optimizer",
        "--lr",
        "--l2",
        "--val-split",
        "--negative-slope",
        "--seed",
        "--out",
        "--no-compile",
    ],
}
ALL_OPTIONS = sorted({o for opts in OPTIONS.values() for o in opts} | {"--help-me", "-x", "--version-x"})

numbers = st.one_of(
    st.integers(-(10**40), 10**40).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["0", "1", "-1", "1e30", "1e-30", "nan", "inf", "２", "٣", "1_000", "0x10", "", " "]),
)
bindings = st.builds(
    lambda name, value: f"{name}={value}", st.sampled_from(["x", "y", "w", "b", "z", "ｘ", "", "1x", "x y"]), numbers
)
paths = st.builds(
    lambda stem, suffix: stem + suffix,
    st.one_of(
        st.sampled_from(["g", "-g", "--g", "sub/g", "a\nb", "\x1b[31mg", " ", "model", "-", "é" * 200]),
        st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="/\x00"), max_size=300),
    ),
    st.sampled_from([".svg", ".dot", ".json", ".png", "", ".SVG"]),
)
long_strings = st.builds(lambda c, n: c * n, st.sampled_from(["x", "(", "-", "x+", "é", "\n"]), st.integers(0, 10_000))
free_text = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=40)
tokens = st.one_of(
    st.sampled_from(list(EXPRESSIONS)),
    st.sampled_from(ALL_OPTIONS),
    st.sampled_from(["16,16", "0", "2,x", ",", "1,1,1", "100000,100000", "moons", "blobs", "adam", "LR", "relu"]),
    numbers,
    bindings,
    paths,
    long_strings,
    free_text,
)


OPTION_VALUES: dict[str, st.SearchStrategy[str]] = {
    "--order": st.one_of(st.integers(1, 4).map(str), numbers),
    "-o": paths,
    "--output": paths,
    "--rankdir": st.sampled_from(["LR", "TB", "XY"]),
    "--eps": st.sampled_from(["1e-6", "1e-3", "0", "-1", "nan"]),
    "--atol": st.sampled_from(["1e-5", "0", "inf"]),
    "--rtol": st.sampled_from(["1e-3", "1"]),
    "--dataset": st.sampled_from(["moons", "circles", "spirals", "xor", "blobs", "linear", "iris"]),
    "--noise": st.sampled_from(["0", "0.1", "1e30", "-1"]),
    "--activation": st.sampled_from(["relu", "tanh", "sigmoid", "leaky_relu", "swish"]),
    "--optimizer": st.sampled_from(["sgd", "adam", "rmsprop"]),
    "--lr": st.sampled_from(["0.01", "1e10", "0", "nan"]),
    "--l2": st.sampled_from(["0", "1e-4", "1e30"]),
    "--val-split": st.sampled_from(["0.2", "0.5", "1", "0"]),
    "--negative-slope": st.sampled_from(["0.01", "0.1", "-1", "2"]),
    "--seed": st.one_of(st.integers(0, 2**70).map(str), numbers),
    "--out": paths,
}


@st.composite
def argument_vectors(draw: st.DrawFn) -> list[str]:
    """Mostly well-formed commands (real work), some with noise: stray tokens, huge counts, odd values."""
    command = draw(st.sampled_from([*COMMANDS, *COMMANDS, *COMMANDS, "frobnicate", ""]))
    argv = [command] if command else []
    if command in ("graph", "grad", "check"):
        expr = draw(st.sampled_from(list(EXPRESSIONS)))
        argv.append(expr)
        if EXPRESSIONS[expr]:
            argv.append("--at")
            values = st.one_of(st.floats(-3, 3).map(repr), numbers) if draw(st.booleans()) else st.floats(0.1, 3)
            argv.extend(f"{v}={draw(values)}" for v in EXPRESSIONS[expr])
    options = OPTIONS.get(command, ALL_OPTIONS)
    for _ in range(draw(st.integers(0, 3))):
        option = draw(st.sampled_from(options))
        argv.append(option)
        if option in OPTION_VALUES:
            argv.append(draw(OPTION_VALUES[option]))
    if draw(st.booleans()):  # noise: stray tokens anywhere
        for _ in range(draw(st.integers(1, 4))):
            argv.insert(draw(st.integers(0, len(argv))), draw(tokens))
    if draw(st.integers(0, 9)) == 0:  # a huge count of one argument
        argv.extend([draw(st.one_of(bindings, st.sampled_from(["--at", "x=1", "-o"])))] * draw(st.integers(0, 1500)))
    argv = [_relative(a) for a in argv]
    if argv and argv[0] == "train":
        argv += ["--n", "20", "--epochs", "1", "--hidden", "2", "--batch-size", "20", "--no-progress"]
    return argv


def _relative(token: str) -> str:
    """Keep every path inside the example's directory: no absolute paths, no way up."""
    token = token.replace("..", ".")
    return "." + token if token.startswith(("/", "~")) else token


@contextlib.contextmanager
def _in_fresh_directory() -> Iterator[str]:
    old = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            yield tmp
        finally:
            os.chdir(old)


@contextlib.contextmanager
def _without_matplotlib() -> Iterator[None]:
    """``import matplotlib`` fails inside; only that one entry of sys.modules is touched and put back.

    (``mock.patch.dict(sys.modules, ...)`` would also drop every module first imported inside.)
    """
    missing = object()
    saved = sys.modules.get("matplotlib", missing)
    sys.modules["matplotlib"] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        if saved is missing:
            del sys.modules["matplotlib"]
        else:
            sys.modules["matplotlib"] = saved  # type: ignore[assignment]


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with (
        _in_fresh_directory(),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        _without_matplotlib(),  # train's documented no-plots path: fast
    ):
        try:
            code = main(argv)
        except SystemExit as e:  # only --help/--version exit by themselves, with status 0
            code = -1 if e.code != 0 else 0
    return code, out.getvalue(), err.getvalue()


@settings(max_examples=150, deadline=2000)
@given(argument_vectors())
def test_cli_fuzz_random_argument_vectors_exit_cleanly(argv: list[str]) -> None:
    code, out, err = _run(argv)
    assert "Traceback" not in err
    lines = err.splitlines()
    errors = [line for line in lines if line.startswith("autograd-core: error: ")]
    assert all(len(line) <= MAX_MESSAGE + 60 for line in lines), lines
    if code == 2:
        assert lines == errors and len(errors) == 1, err
    elif code == 1:
        # Documented: check found disagreeing gradients, or Graphviz's dot failed (its message on one line).
        command = argv[0] if argv else ""
        assert (command == "check" and "gradients DISAGREE" in out) or (command == "graph" and len(errors) == 1), (
            argv,
            out,
            err,
        )
    else:
        assert code == 0, (code, argv, err)
        assert errors == [] and all(line.startswith("autograd-core: note: ") for line in lines), err


def test_cli_fuzz_harness_sees_errors_and_successes() -> None:
    # The harness itself: a known error is one line and exit 2, a known success exit 0 with a note.
    code, _, err = _run(["grad", "x", "--at", "x=nan"])
    assert code == 2 and err.startswith("autograd-core: error: ") and err.count("\n") == 1
    code, out, err = _run(["graph", "x", "--at", "x=2"])
    assert code == 0 and "df/dx = 1" in out and err.startswith("autograd-core: note: ")
    code, out, err = _run(["train", "--n", "20", "--epochs", "1", "--hidden", "2", "--no-progress"])
    assert code == 0 and "saved model to model.json" in out and "no plots written" in err
