"""``autograd-core train``: train an MLP on a built-in data set, report accuracy, save it, draw it.

``autograd-core train --dataset moons --hidden 16,16 --epochs 40 --out model.json``
trains with :func:`nn.fit`, prints the final model's loss and accuracy on the
training and validation sets, saves the model with :func:`nn.save`, then writes
the loss curve and, for 2-D data, the decision boundary as PNG next to it
(``model.loss.png``, ``model.boundary.png``; skipped with a note when matplotlib
is missing).  The loss follows the data set: ``bce_with_logits`` for two
classes, ``cross_entropy`` for more, ``mse`` for the ``linear`` regression.
Training runs on the compiled path of :func:`nn.fit` (the model traced once,
each batch replayed with numpy); ``--no-compile`` trains on the eager engine.

Only nn's public API is used.  ``nn`` is imported inside the functions that
need it, as matplotlib is: the other commands (``grad``, ``graph``, ``check``)
never load the training stack.  That is no cycle: nn does not import viz.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

from .. import plots
from .command import PROG, CliError, Command
from .limits import MAX_EPOCHS, MAX_LAYERS, MAX_PARAMETERS, MAX_SAMPLES, check_network
from .messages import shown
from .paths import check_name, check_output_path

if TYPE_CHECKING:
    import nn

__all__ = ["COMMAND", "TrainOutcome", "add_arguments", "run_train", "run", "plot_paths"]


def _widths(text: str) -> list[int]:
    parts = [w for w in text.split(",") if w.strip()]
    if len(parts) > MAX_LAYERS:
        raise argparse.ArgumentTypeError(f"--hidden gives {len(parts)} layers, more than the limit of {MAX_LAYERS}")
    try:
        widths = [_ascii_int(w) for w in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--hidden must be comma-separated ints such as 16,16, got {text!r}") from None
    if any(w < 1 for w in widths):
        raise argparse.ArgumentTypeError(f"--hidden widths must be positive, got {text!r}")
    return widths


def _ascii_int(text: str) -> int:
    """``int(text)`` for ASCII digits only (int() also reads full-width and Arabic-Indic digits)."""
    if not text.isascii():
        raise ValueError(f"not ASCII: {text!r}")
    return int(text)


def _ascii_float(text: str) -> float:
    """``float(text)`` for ASCII text only, as :func:`_ascii_int`."""
    if not text.isascii():
        raise ValueError(f"not ASCII: {text!r}")
    return float(text)


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
# The upper bounds are checked here, at parse time, so that no data set, network or loop is
# sized by an absurd number (numpy's "Maximum allowed size exceeded" names no option).
_samples = _number_arg(_ascii_int, lambda v: 1 <= v <= MAX_SAMPLES, f"expected a positive int, at most {MAX_SAMPLES}")
_epochs = _number_arg(_ascii_int, lambda v: 1 <= v <= MAX_EPOCHS, f"expected a positive int, at most {MAX_EPOCHS}")
_positive_float = _number_arg(_ascii_float, lambda v: 0 < v < _INF, "expected a positive finite number")
_non_negative = _number_arg(_ascii_float, lambda v: 0 <= v < _INF, "expected a finite number >= 0")
_fraction = _number_arg(_ascii_float, lambda v: 0 < v < 1, "expected a fraction in (0, 1)")
_seed = _number_arg(_ascii_int, lambda v: v >= 0, "--seed must be an int >= 0")


def _slope(text: str) -> float:
    import nn.layers

    try:
        return nn.layers.check_negative_slope(_ascii_float(text))
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

    model: nn.MLP
    history: nn.History
    X_train: np.ndarray
    y_train: np.ndarray
    out_path: Path
    #: The held-out points, drawn apart from the training points.
    X_val: np.ndarray | None = None
    y_val: np.ndarray | None = None
    #: What was trained on what, for the plots' titles: "moons, MLP(2, [16, 16, 1])".
    title: str = ""


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Add the options of the ``train`` command to ``p``."""
    import nn.layers

    p.add_argument("--dataset", choices=sorted(nn.data.DATASETS), default="moons", help="data set (default: moons)")
    p.add_argument("--n", type=_samples, default=200, help=f"number of samples, at most {MAX_SAMPLES} (default: 200)")
    p.add_argument("--noise", type=_non_negative, default=0.1, help="data noise (default: 0.1)")
    p.add_argument(
        "--hidden",
        type=_widths,
        default=[16, 16],
        help=f"hidden widths, e.g. 16,16 (default); at most {MAX_PARAMETERS:,} parameters in all",
    )
    p.add_argument(
        "--activation", choices=nn.layers.ACTIVATIONS, default="relu", help="hidden activation (default: relu)"
    )
    p.add_argument(
        "--epochs", type=_epochs, default=40, help=f"passes over the data, at most {MAX_EPOCHS} (default: 40)"
    )
    p.add_argument("--batch-size", type=_samples, default=20, help="samples per step (default: 20)")
    p.add_argument("--optimizer", choices=("sgd", "adam"), default="adam", help="optimizer (default: adam)")
    p.add_argument("--lr", type=_positive_float, default=None, help="learning rate (default: 0.02 adam, 0.1 sgd)")
    p.add_argument("--l2", type=_non_negative, default=1e-4, help="L2 penalty coefficient (default: 1e-4)")
    p.add_argument("--val-split", type=_fraction, default=0.2, help="validation fraction (default: 0.2)")
    p.add_argument(
        "--negative-slope",
        type=_slope,
        default=nn.layers.LEAKY_SLOPE,
        help=f"slope of leaky_relu for x < 0 (default: {nn.layers.LEAKY_SLOPE}, PyTorch's; lecture 05 uses 0.1)",
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


def _check_out(path: Path) -> None:
    """Checked before training, so a typo in --out or an unwritable directory does not cost a training run."""
    try:
        # The names of the plots beside the model are longer than its own: check those.
        for p in (path, *plot_paths(path)):
            check_name("--out", p)
        if not path.parent.is_dir():
            raise ValueError(f"--out {shown(path)}: directory {shown(path.parent)} does not exist; create it first")
        if path.is_dir():
            raise ValueError(
                f"--out {shown(path)} is a directory; give a file name such as {shown(path / 'model.json')}"
            )
        if path.suffix.lower() != ".json":
            raise ValueError(
                f"--out {shown(path)}: the model is saved as JSON; give a file name ending in .json, "
                f"such as {shown(path.with_suffix('.json'))}"
            )
        # A plot path that is a directory would otherwise fail only after the model was trained and saved.
        for plot in plot_paths(path):
            if plot.is_dir():
                raise ValueError(
                    f"--out {shown(path)}: {shown(plot)} (where the plot goes) is a directory; "
                    "move it or choose another --out"
                )
        check_output_path("--out", path)
    except CliError as e:
        raise ValueError(str(e)) from None


def run_train(args: argparse.Namespace, out: TextIO | None = None) -> TrainOutcome:
    """Train as ``args`` (from :func:`add_arguments`) say, print the result and save the model.

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
    import nn

    out = sys.stdout if out is None else out
    path = Path(args.out)
    _check_out(path)
    X, y = nn.data.DATASETS[args.dataset](args.n, noise=args.noise, seed=args.seed)
    if args.dataset == "linear":
        loss, nout = "mse", 1
    else:
        classes = int(np.max(y)) + 1
        loss, nout = ("bce_with_logits", 1) if classes == 2 else ("cross_entropy", classes)
    X_train, X_val, y_train, y_val = nn.data.train_test_split(X, y, args.val_split, args.seed)
    # Counted from the shapes before anything is built: an absurd --hidden is refused in a moment.
    try:
        check_network(X.shape[1], args.hidden, nout)
    except CliError as e:
        raise ValueError(str(e)) from None
    model = nn.MLP(
        X.shape[1],
        [*args.hidden, nout],
        args.activation,
        negative_slope=args.negative_slope,
        rng=random.Random(args.seed),
    )
    steps = args.epochs * -(-len(X_train) // args.batch_size)
    opt: nn.optim.Optimizer
    if args.optimizer == "adam":
        lr = args.lr if args.lr is not None else 0.02
        opt = nn.optim.Adam(model.parameters(), lr=lr, schedule=nn.optim.cosine(lr, steps, lr / 10))
    else:
        lr = args.lr if args.lr is not None else 0.1
        opt = nn.optim.SGD(model.parameters(), lr=lr, momentum=0.9, schedule=nn.optim.cosine(lr, steps, lr / 10))
    print(
        f"training MLP({X.shape[1]}, {[*args.hidden, nout]}) on {args.dataset} "
        f"({len(X_train)} train, {len(X_val)} validation) with {args.optimizer}, lr {_number(lr)}, loss {loss}",
        file=out,
    )
    history = nn.fit(
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
        compile=False if args.no_compile else None,
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
    tr = nn.evaluate(model, X_train, y_train, loss=loss, compile=use)
    va = nn.evaluate(model, X_val, y_val, loss=loss, compile=use)
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
        nn.save(model, path)
    except OSError as e:
        raise ValueError(f"--out {shown(path)}: cannot write: {e.strerror or e}") from None
    if existed:
        print(f"overwriting {shown(path)}", file=out)
    print(f"saved model to {shown(path)}", file=out)
    title = f"{args.dataset}, MLP({X.shape[1]}, {[*args.hidden, nout]})"
    return TrainOutcome(model, history, X_train, y_train, path, X_val, y_val, title)


def plot_paths(model_path: Path) -> tuple[Path, Path]:
    """Where the plots go, next to the model: ``m.json`` -> ``m.loss.png``, ``m.boundary.png``."""
    stem = model_path.with_suffix("")
    return stem.with_name(stem.name + ".loss.png"), stem.with_name(stem.name + ".boundary.png")


def run(args: argparse.Namespace, out: TextIO) -> int:
    """Train and save (:func:`run_train`), then draw the loss curve and the decision boundary."""
    try:
        return _train_and_plot(args, out)
    except (ValueError, TypeError) as e:
        # nn and run_train report bad option values, divergence and an unwritable --out this way.
        raise CliError(str(e)) from None
    except OSError as e:
        # run_train reports an unwritable --out as a ValueError; this is the last resort for any other write.
        raise CliError(f"--out {shown(args.out)}: cannot write: {e.strerror or e}") from None


def _train_and_plot(args: argparse.Namespace, out: TextIO) -> int:
    outcome = run_train(args, out)
    try:
        import matplotlib  # noqa: F401  (an optional extra: training still succeeded without it)
    except ImportError:
        hint = "install matplotlib (pip install 'autograd-core[plots]')"
        print(f"{PROG}: note: no plots written: {hint}", file=sys.stderr)
        return 0
    loss_path, boundary_path = plot_paths(outcome.out_path)
    try:
        plots.plot_history(outcome.history, path=loss_path, title=outcome.title or None)
        print(f"wrote {shown(loss_path)}", file=out)
        X = np.asarray(outcome.X_train, dtype=float)
        if X.ndim == 2 and X.shape[1] == 2:
            plots.plot_decision_boundary(
                outcome.model,
                X,
                outcome.y_train,
                X_val=outcome.X_val,
                y_val=outcome.y_val,
                title=f"decision boundary: {outcome.title}" if outcome.title else None,
                path=boundary_path,
            )
            print(f"wrote {shown(boundary_path)}", file=out)
    except OSError as e:
        reason = f"{e.strerror or e} ({shown(str(e.filename)) if e.filename else 'a plot'})"
        raise CliError(f"--out {shown(outcome.out_path)}: cannot write: {reason}") from None
    return 0


COMMAND = Command(
    name="train",
    help="train an MLP (options: autograd-core train --help)",
    add_arguments=add_arguments,
    run=run,
)
