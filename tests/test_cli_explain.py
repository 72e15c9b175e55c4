"""Tests of ``autograd-core explain`` (``viz.cli.explain``): the steps table, the sums over paths, --wrt, errors."""

from __future__ import annotations

import pytest
from cli_support import one_error_line, run, values

from autograd_core import Value, grad

XYZ = ("explain", "(x+y)*z", "--at", "x=1", "y=-3", "z=4")


def _table(out: str) -> list[list[str]]:
    """The rows of the steps table, each split into its cells (no cell holds a space)."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:2] == ["step", "node"])
    assert lines[start].split() == ["step", "node", "op", "grad", "input", "local", "contribution"]
    rows = []
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        rows.append(line.split())
    return rows


def _edges(rows: list[list[str]]) -> dict[tuple[str, str], tuple[float, float]]:
    """{(node, input): (local, contribution)} from the table, continuation rows under their node."""
    edges = {}
    node = ""
    for cells in rows:
        if len(cells) == 7:
            node, edge = cells[1], cells[4:]
        elif len(cells) == 3:
            edge = cells
        else:
            assert len(cells) == 4 and cells[2] == "leaf", cells
            continue
        edges[(node, edge[0])] = (float(edge[1]), float(edge[2]))
    return edges


def _totals(out: str) -> dict[str, float]:
    """{"∂f/∂x": total} from each explanation's last line ``∂f/∂x = term + term = total`` (any output name)."""
    result = {}
    for line in out.splitlines():
        head, sep, _ = line.partition(" = ")
        if sep and line.startswith("∂") and ":" not in head:
            result[head] = float(line.rpartition(" = ")[2])
    return result


def test_cli_explain_table_has_hand_derived_local_derivatives_and_contributions(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, *XYZ)
    assert code == 0 and err == ""
    assert out.splitlines()[0] == "f(x, y, z) = (x+y)*z  at x = 1, y = -3, z = 4"
    assert values(out)["f"] == -8
    rows = _table(out)
    # Output first, each node after all its users: f, z, then d = x + y (add2), then y and x.
    heads = [(r[0], r[1], r[2], float(r[3])) for r in rows if len(r) in (4, 7)]
    assert heads == [("0", "f", "mul", 1.0), ("1", "z", "leaf", -2.0), ("2", "add2", "add", 4.0),
                     ("3", "y", "leaf", 4.0), ("4", "x", "leaf", 4.0)]  # fmt: skip
    # f = d z: df/dd = z = 4, df/dz = d = -2; d = x + y: dd/dx = dd/dy = 1, each carrying 4.
    assert _edges(rows) == {
        ("f", "add2"): (4.0, 4.0),
        ("f", "z"): (-2.0, -2.0),
        ("add2", "x"): (1.0, 4.0),
        ("add2", "y"): (1.0, 4.0),
    }


def test_cli_explain_writes_the_sum_over_paths_for_every_input(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, *XYZ)
    assert code == 0
    v = _totals(out)
    assert (v["∂f/∂x"], v["∂f/∂y"], v["∂f/∂z"]) == (4, 4, -2)
    assert "  path 1: x -> add2 -> f\n    ∂f/∂add2 · ∂add2/∂x = 4 · 1 = 4\n" in out
    assert "  path 1: y -> add2 -> f\n    ∂f/∂add2 · ∂add2/∂y = 4 · 1 = 4\n" in out
    assert "  path 1: z -> f\n    ∂f/∂z = (-2) = -2\n" in out
    # Inputs in the expression's order, one explanation each.
    heads = [line.partition(":")[0] for line in out.splitlines() if line.startswith("∂f/∂") and "path" in line]
    assert heads == ["∂f/∂x", "∂f/∂y", "∂f/∂z"]


def test_cli_explain_quadratic_adds_its_two_paths(capsys: pytest.CaptureFixture[str]) -> None:
    # Lecture 04's a x^2 + b x + c: x reaches f through x**2 and through b*x; df/dx = 2ax + b.
    code, out, _ = run(capsys, "explain", "a*x**2 + b*x + c", "--at", "a=2", "b=-3", "c=1", "x=1.5", "--wrt", "x")
    assert code == 0
    assert "from x to f (2 paths)" in out
    assert "= 1 · 1 · 2 · 3 = 6\n" in out  # through x**2: d(x**2)/dx = 2x = 3, times a = 2
    assert "= 1 · 1 · (-3) = -3\n" in out  # through b*x: b = -3
    assert out.rstrip().endswith("∂f/∂x = 6 + (-3) = 3")


def test_cli_explain_wrt_explains_only_that_input(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, *XYZ, "--wrt", "z")
    assert code == 0
    v = _totals(out)
    assert v["∂f/∂z"] == -2 and "∂f/∂x" not in v and "∂f/∂y" not in v
    assert len(_table(out)) == 7  # the table still shows the whole backward pass


def test_cli_explain_numbers_are_the_engines(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", "tanh(x*w + b) * x", "--at", "x=0.7", "w=-1.3", "b=0.2")
    assert code == 0
    x, w, b = Value(0.7), Value(-1.3), Value(0.2)
    expected = [g.data for g in grad((x * w + b).tanh() * x, [x, w, b])]
    v = _totals(out)
    got = [v["∂f/∂x"], v["∂f/∂w"], v["∂f/∂b"]]
    assert got == pytest.approx(expected, rel=1e-5)  # printed to 6 significant digits
    assert "from x to f (2 paths)" in out  # x is used twice


def test_cli_explain_many_paths_switch_to_the_memoized_form(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", "x*x*x", "--at", "x=2", "--max-paths", "2")
    assert code == 0
    assert "3 paths from x to f, more than max_paths=2" in out and "path 1:" not in out
    assert "  ∂f/∂x = 1·4 + 2·2 + 2·2 = 12   (users: f, mul1, mul1)" in out
    code, out, _ = run(capsys, "explain", "x*x*x", "--at", "x=2", "--max-paths", "3")
    assert code == 0 and "path 3:" in out and out.rstrip().endswith("∂f/∂x = 4 + 4 + 4 = 12")


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--wrt", "q"], "--wrt q: the expression has no variable 'q'; its variables are x, y, z"),
        (["--wrt", ""], "its variables are x, y, z"),
        (["--max-paths", "-1"], "--max-paths must be between 0 and 10000, got -1"),
        (["--max-paths", "many"], "invalid int value: 'many'"),
        (["--at", "w=1"], "which the expression does not use"),
    ],
)
def test_cli_explain_bad_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], needle: str
) -> None:
    code, out, err = run(capsys, *XYZ, *argv)
    assert code == 2 and needle in one_error_line(err)
    assert out == ""  # nothing printed before the error


def test_cli_explain_constant_or_missing_expression_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "explain", "2+3")
    assert code == 2 and "no variables, so there is no derivative to explain" in one_error_line(err)
    code, _, err = run(capsys, "explain")
    assert code == 2 and "missing the expression, e.g. autograd-core explain" in one_error_line(err)


def test_cli_explain_expression_may_start_with_minus(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", "-x*y", "--at", "x=2", "y=5", "--wrt", "x")
    assert code == 0 and _totals(out) == {"∂f/∂x": -5}


def test_cli_explain_output_is_not_named_like_a_variable(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", "f*g", "--at", "f=3", "g=5")
    assert code == 0
    assert _totals(out) == {"∂out/∂f": 5, "∂out/∂g": 3}
    assert [r[1] for r in _table(out) if len(r) in (4, 7)] == ["out", "g", "f"]
