"""The ``train`` command: train an MLP on a built-in data set, report accuracy, save the model.

``autograd-core train --dataset moons --hidden 16,16 --epochs 40`` (the
console script in :mod:`viz.cli`) calls :func:`add_train_arguments` and
:func:`run_train`, then draws the loss curve and the decision boundary;
``python -m nn.cli`` (:func:`main`) trains without the plots.  The loss
follows the data set: ``bce_with_logits`` for two classes, ``cross_entropy``
for more, ``mse`` for the ``linear`` regression.  Training runs on the
compiled path of :func:`nn.fit` (the model traced once, each batch replayed
with numpy); ``--no-compile`` trains on the eager engine instead.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from .data import DATASETS, train_test_split
from .layers import ACTIVATIONS, LEAKY_SLOPE, MLP, check_negative_slope
from .optim import SGD, Adam, Optimizer, cosine
from .serialize import save
from .train import History, evaluate, fit

__all__ = ["add_train_arguments", "run_train", "TrainOutcome", "build_parser", "main"]


def _widths(text: str) -> list[int]:
    try:
        widths = [int(w) for w in text.split(",") if w.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--hidden must be comma-separated ints such as 16,16, got {text!r}") from None
    if any(w < 1 for w in widths):
        raise argparse.ArgumentTypeError(f"--hidden widths must be positive, got {text!r}")
    return widths


def _number_arg(kind: Callable[[str], Any], ok: Callable[[Any], bool], expected: str) -> Callable[[str], Any]:
    """An argparse ``type``: ``kind(text)`` if ``ok`` accepts it, else the error "<expected>, got '<text>'"."""

    def parse(text: str) -> Any:
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{expected}, got {text!r}") from None
        if not ok(v):
            raise argparse.ArgumentTypeError(f"{expected}, got {text!r}")
        return v

    return parse


_INF = float("inf")
# The comparisons are written so that nan fails every check.
_positive_int = _number_arg(int, lambda v: v >= 1, "expected a positive int")
_positive_float = _number_arg(float, lambda v: 0 < v < _INF, "expected a positive finite number")
_non_negative = _number_arg(float, lambda v: 0 <= v < _INF, "expected a finite number >= 0")
_fraction = _number_arg(float, lambda v: 0 < v < 1, "expected a fraction in (0, 1)")
_seed = _number_arg(int, lambda v: v >= 0, "--seed must be an int >= 0")


def _slope(text: str) -> float:
    try:
        return check_negative_slope(float(text))
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"--negative-slope: {e}") from None


def _number(v: float) -> str:
    """A number as a user would type it: 1e6, 0.02, 1e-5."""
    text = f"{v:g}"
    mantissa, e, exp = text.partition("e")
    return f"{mantissa}e{int(exp)}" if e else text


@dataclass
class TrainOutcome:
    """What :func:`run_train` produced: the trained model, its history, the training data and the saved file."""

    model: MLP
    history: History
    X_train: np.ndarray
    y_train: np.ndarray
    out_path: Path


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    """Add the options of the ``train`` command to ``p`` (used by ``autograd-core train``)."""
    p.add_argument("--dataset", choices=sorted(DATASETS), default="moons", help="data set (default: moons)")
    p.add_argument("--n", type=_positive_int, default=200, help="number of samples (default: 200)")
    p.add_argument("--noise", type=_non_negative, default=0.1, help="data noise (default: 0.1)")
    p.add_argument("--hidden", type=_widths, default=[16, 16], help="hidden widths, e.g. 16,16 (default)")
    p.add_argument("--activation", choices=ACTIVATIONS, default="relu", help="hidden activation (default: relu)")
    p.add_argument("--epochs", type=_positive_int, default=40, help="passes over the data (default: 40)")
    p.add_argument("--batch-size", type=_positive_int, default=20, help="samples per step (default: 20)")
    p.add_argument("--optimizer", choices=("sgd", "adam"), default="adam", help="optimizer (default: adam)")
    p.add_argument("--lr", type=_positive_float, default=None, help="learning rate (default: 0.02 adam, 0.1 sgd)")
    p.add_argument("--l2", type=_non_negative, default=1e-4, help="L2 penalty coefficient (default: 1e-4)")
    p.add_argument("--val-split", type=_fraction, default=0.2, help="validation fraction (default: 0.2)")
    p.add_argument(
        "--negative-slope",
        type=_slope,
        default=LEAKY_SLOPE,
        help=f"slope of leaky_relu for x < 0 (default: {LEAKY_SLOPE}, PyTorch's; lecture 05 uses 0.1)",
    )
    p.add_argument("--seed", type=_seed, default=0, help="seed of data, weights and shuffles, >= 0 (default: 0)")
    p.add_argument(
        "--out",
        default="model.json",
        help="where to save the model, a .json file, overwritten if it exists (default: model.json)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--no-compile",
        action="store_true",
        help="train on the eager engine (one Value graph per sample) instead of the compiled, batched path",
    )


def build_parser(prog: str = "autograd-core train") -> argparse.ArgumentParser:
    """The argument parser of the ``train`` command on its own."""
    p = argparse.ArgumentParser(prog=prog, description="Train an MLP on a built-in data set and save it.")
    add_train_arguments(p)
    return p


def run_train(args: argparse.Namespace, out: TextIO | None = None) -> TrainOutcome:
    """Train as ``args`` (from :func:`add_train_arguments`) say, print the result and save the model.

    Args:
        args: the parsed options.
        out: where to print (default: stdout).

    Returns:
        A :class:`TrainOutcome`.

    Raises:
        ValueError: for option values the data or the model reject, a training run that
            diverged (nothing is saved then), or a model file that cannot be written
            (``--out PATH: cannot write: <reason>``).
    """
    out = sys.stdout if out is None else out
    path = Path(args.out)
    # Checked before training, so a typo in --out does not cost a training run.
    if not path.parent.is_dir():
        raise ValueError(f"--out {path}: directory {path.parent} does not exist; create it first")
    if path.is_dir():
        raise ValueError(f"--out {path} is a directory; give a file name such as {path / 'model.json'}")
    if path.suffix.lower() != ".json":
        raise ValueError(
            f"--out {path}: the model is saved as JSON; give a file name ending in .json, "
            f"such as {path.with_suffix('.json')}"
        )
    X, y = DATASETS[args.dataset](args.n, noise=args.noise, seed=args.seed)
    if args.dataset == "linear":
        loss, nout = "mse", 1
    else:
        classes = int(np.max(y)) + 1
        loss, nout = ("bce_with_logits", 1) if classes == 2 else ("cross_entropy", classes)
    X_train, X_val, y_train, y_val = train_test_split(X, y, args.val_split, args.seed)
    slope = getattr(args, "negative_slope", LEAKY_SLOPE)
    model = MLP(X.shape[1], [*args.hidden, nout], args.activation, negative_slope=slope, rng=random.Random(args.seed))
    steps = args.epochs * -(-len(X_train) // args.batch_size)
    opt: Optimizer
    if args.optimizer == "adam":
        lr = args.lr if args.lr is not None else 0.02
        opt = Adam(model.parameters(), lr=lr, schedule=cosine(lr, steps, lr / 10))
    else:
        lr = args.lr if args.lr is not None else 0.1
        opt = SGD(model.parameters(), lr=lr, momentum=0.9, schedule=cosine(lr, steps, lr / 10))
    print(
        f"training MLP({X.shape[1]}, {[*args.hidden, nout]}) on {args.dataset} "
        f"({len(X_train)} train, {len(X_val)} validation) with {args.optimizer}, lr {_number(lr)}, loss {loss}",
        file=out,
    )
    history = fit(
        model,
        X_train,
        y_train,
        loss=loss,
        optimizer=opt,
        epochs=args.epochs,
        batch_size=args.batch_size,
        val=(X_val, y_val),
        l2=args.l2,
        progress=not args.no_progress,
        seed=args.seed,
        # Automatic rather than True: the MLPs and losses built here always compile,
        # and a future model that cannot would still train, eagerly, and say so.
        compile=False if getattr(args, "no_compile", False) else None,
        # A diverged run cannot recover: stop there rather than train on nan and save nothing useful.
        stop_on_nonfinite=True,
    )
    if history.diverged_epoch is not None:
        bad = history.train_loss[history.diverged_epoch]
        raise ValueError(
            f"training diverged at epoch {history.diverged_epoch + 1} (loss {bad}); lower --lr (now {_number(lr)})"
        )
    if not all(np.isfinite(p.data) for p in model.parameters()):
        # The last step of the last epoch can overflow the weights after a finite loss was recorded.
        raise ValueError(
            f"training diverged at epoch {history.epochs} (weights nan or inf after its last step); "
            f"lower --lr (now {_number(lr)})"
        )
    # History's last train accuracy is a running figure, measured before each step of the
    # last epoch; what the user wants is the final model, scored on both sets after training.
    use = None if history.compiled else False
    tr = evaluate(model, X_train, y_train, loss=loss, compile=use)
    va = evaluate(model, X_val, y_val, loss=loss, compile=use)
    tl, vl = float(tr["loss"] or 0.0), float(va["loss"] or 0.0)
    if tr["accuracy"] is not None and va["accuracy"] is not None:
        print(
            f"final model: train loss {tl:.4f}, accuracy {tr['accuracy']:.1%}; "
            f"validation loss {vl:.4f}, accuracy {va['accuracy']:.1%}",
            file=out,
        )
    else:
        print(f"final model: train loss {tl:.4f}; validation loss {vl:.4f}", file=out)
    if history.compiled:
        print("trained on the compiled path (traced once, each batch replayed with numpy)", file=out)
    else:
        why = "--no-compile" if history.eager_reason == "compile=False" else history.eager_reason
        print(f"trained on the eager path ({why})", file=out)
    existed = path.exists()
    try:
        save(model, path)
    except OSError as e:
        raise ValueError(f"--out {path}: cannot write: {e.strerror or e}") from None
    if existed:
        print(f"overwriting {path}", file=out)
    print(f"saved model to {path}", file=out)
    return TrainOutcome(model, history, X_train, y_train, path)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``train`` command on its own (``python -m nn.cli``).

    Args:
        argv: the arguments after ``train`` (default: ``sys.argv[1:]``).

    Returns:
        The exit status: 0 on success, 2 for a bad option value, a diverged run or an unwritable --out.
    """
    args = build_parser().parse_args(argv)
    try:
        run_train(args)
    except (ValueError, TypeError) as e:
        print(f"autograd-core train: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
