"""Tests of the ``autograd-core`` entry point (``viz.cli.app``): one parser, one-line errors, exit statuses."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TextIO

import pytest
from cli_support import one_error_line, run

from viz.cli import COMMANDS, CliError, build_parser, main
from viz.cli.command import Command

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["grad", "9**9**9"], "exponent"),
        (["grad", "(" * 5000 + "x" + ")" * 5000], "characters long"),
        (["grad", "x\x01.real", "--at", "x=1"], "syntax error"),
        (["grad", "x.real", "--at", "x=1"], "attribute"),
        (["grad", "__import__('os').system('true')"], "plain name"),
        (["grad", "lambda: 0"], "lambda"),
        (["grad", "", "--at", "x=1"], "empty"),
        (["grad", "x+y", "--at", "x=1"], "no value for y"),
        (["grad", "x", "--at", "x=abc"], "'abc' is not a number"),
        (["grad", "x", "--at", "x"], "expected name=value"),
        (["grad", "x", "--at", "x=1", "y=2"], "does not use"),
        (["grad", "x", "--at", "x=1", "x=2"], "twice"),
        (["grad", "x", "--at", "x=nan"], "finite"),
        (["grad", "x", "--at", "x=1", "--order", "0"], "--order"),
        (["grad", "x", "--at", "x=1", "--order", "two"], "invalid int"),
        (["grad"], "missing the expression"),
        (["check", "2+3"], "no variables"),
        (["check", "x", "--at", "x=1", "--eps", "0"], "--eps"),
        (["graph", "x", "--at", "x=1", "-o", "/nonexistent-dir/g.svg"], "does not exist"),
        (
            ["graph", "x", "--at", "x=1", "-o", "g.png"],
            "must end in .svg (SVG, with the .dot beside it) or .dot, got '.png'",
        ),
        (["graph", "x", "--at", "x=1", "-o", "noext"], "got no suffix"),
        (["graph", "x", "--at", "x=1", "-o", ""], "-o needs a file name ending in .svg or .dot"),
        (["grad", "ｘ+1", "--at", "ｘ=1"], "non-ASCII character 'ｘ'"),
        (["grad", "x+1", "--at", "ｘ=1"], "write the variable name 'ｘ' in ASCII"),
        (["grad", "--ord", "2", "x", "--at", "x=1"], "unrecognized arguments"),  # no abbreviations
        (["grad", "pow(9, pow(9, 9))"], "use the ** operator"),
        (["frobnicate"], "invalid choice"),
        ([], "required"),
    ],
)
def test_cli_errors_exit_2_with_one_line(capsys: pytest.CaptureFixture[str], argv: list[str], needle: str) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("autograd-core: error: ")
    assert needle in err
    assert "Traceback" not in err


def test_cli_console_script_no_traceback_and_minus_expression() -> None:
    exe = shutil.which("autograd-core", path=str(Path(sys.executable).parent))
    assert exe, "the console script autograd-core must be installed in the venv"
    bad = subprocess.run([exe, "grad", "x.__class__", "--at", "x=1"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and bad.stderr.count("\n") == 1
    good = subprocess.run([exe, "grad", "-x**2", "--at", "x=3"], capture_output=True, text=True, timeout=60)
    assert good.returncode == 0 and "df/dx = -6" in good.stdout


def test_cli_console_script_one_line_errors_in_a_fresh_process(tmp_path: Path) -> None:
    exe = shutil.which("autograd-core", path=str(Path(sys.executable).parent))
    assert exe
    for argv in (["grad", "1if x else 0", "--at", "x=1"], ["grad", "0x1for"], ["graph", "x", "--at", "x=1", "-o", "/"]):
        proc = subprocess.run([exe, *argv], capture_output=True, text=True, timeout=60, cwd=tmp_path)
        assert proc.returncode == 2, argv
        one_error_line(proc.stderr)
    good = subprocess.run([exe, "grad", "--x", "--at", "x=3"], capture_output=True, text=True, timeout=60)
    assert good.returncode == 0 and "df/dx = 1" in good.stdout


def test_cli_graph_command_does_not_import_nn(tmp_path: Path) -> None:
    code = "import sys; from viz.cli import main; main(['grad', 'x', '--at', 'x=1']); assert 'nn' not in sys.modules"
    env = {**os.environ}
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, timeout=60)


# --- one parser, one registration list, options added on first use ---------------------------


def test_cli_registers_every_subcommand_in_one_parser(capsys: pytest.CaptureFixture[str]) -> None:
    names = [c.name for c in COMMANDS]
    assert names == ["graph", "grad", "check", "explain", "train"]
    assert list(build_parser().subcommands) == names
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    listed = capsys.readouterr().out
    for c in COMMANDS:
        assert f"{c.name}  " in listed and c.help in listed


def test_cli_subcommand_options_are_added_once_on_first_use(capsys: pytest.CaptureFixture[str]) -> None:
    calls: list[str] = []

    def add_arguments(p: argparse.ArgumentParser) -> None:
        calls.append(p.prog)
        p.add_argument("--name", required=True)

    def hello(args: argparse.Namespace, out: TextIO) -> int:
        print(f"hello {args.name}", file=out)
        return 0

    extra = Command("hello", "say hello", add_arguments, hello)
    parser = build_parser([*COMMANDS, extra])
    assert calls == []  # building the parser runs no command's setup
    args = parser.parse_args(["hello", "--name", "ada"])
    assert calls == ["autograd-core hello"] and args.command == "hello" and args.name == "ada"
    assert "--name" in parser.subcommands["hello"].format_help()
    parser.parse_args(["hello", "--name", "bob"])
    assert calls == ["autograd-core hello"]  # added once
    with pytest.raises(CliError, match="the following arguments are required: --name"):
        build_parser([extra]).parse_args(["hello"])


@pytest.mark.parametrize(
    ("command", "example"),
    [
        ("graph", "autograd-core graph '(x+y)*z' --at x=1 y=-3 z=4 -o graph.svg"),
        ("grad", "autograd-core grad 'x**3' --at x=2"),
        ("check", "autograd-core check 'tanh(x*w + b)' --at x=1 w=0.5 b=0"),
    ],
)
def test_cli_missing_expression_shows_the_commands_own_example(
    capsys: pytest.CaptureFixture[str], command: str, example: str
) -> None:
    code, _, err = run(capsys, command)
    assert code == 2 and f"missing the expression, e.g. {example}\n" in one_error_line(err)


def test_cli_train_help_lists_the_choices_nn_offers(capsys: pytest.CaptureFixture[str]) -> None:
    import nn.data
    import nn.layers

    with pytest.raises(SystemExit) as exc:
        main(["train", "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert "usage: autograd-core train" in text
    assert "{" + ",".join(sorted(nn.data.DATASETS)) + "}" in text
    assert "{" + ",".join(nn.layers.ACTIVATIONS) + "}" in text


def test_cli_python_dash_m_is_the_same_command(tmp_path: Path) -> None:
    good = subprocess.run(
        [sys.executable, "-m", "viz.cli", "grad", "-x**2", "--at", "x=3"], capture_output=True, text=True, timeout=60
    )
    assert good.returncode == 0 and "df/dx = -6" in good.stdout
    bad = subprocess.run([sys.executable, "-m", "viz.cli", "graph"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "autograd-core graph" in one_error_line(bad.stderr)


def test_cli_modules_import_nothing_by_name_string() -> None:
    for path in sorted((ROOT / "viz" / "cli").glob("*.py")):
        text = path.read_text()
        assert "importlib" not in text and "__import__(" not in text, path.name


def test_cli_at_given_twice_adds_up_and_catches_a_duplicate(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["grad", "x*y", "--at", "x=1", "--at", "x=2"]) == 2
    assert "--at gives x twice" in capsys.readouterr().err
    assert main(["grad", "x*y", "--at", "x=3", "--at", "y=2"]) == 0
    out = capsys.readouterr().out
    assert "df/dx = 2" in out and "df/dy = 3" in out
