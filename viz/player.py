"""``backward_player``: step through a backward pass, one Graphviz frame per step, in a standalone page.

Each frame is the DOT of :func:`viz.draw_dot` (same node names, same layout
rules) with highlight attributes added through its ``node_attrs`` and
``edge_attrs`` hooks: the node whose step runs, the edges it sends gradient
along (labelled with what they carry), the inputs receiving it, the edges
along which it gathered its own gradient (labelled with each ``+=``) and
every record's gradient as accumulated so far.  Beside the frame is the
step's arithmetic from :func:`autograd_core.steps.format_step` (upstream gradient
x local derivative = contribution, and the ``+=`` where a node gathers from
several users).

The page loads nothing from outside: the SVG frames and the script are
inlined and a Content-Security-Policy of ``default-src 'none'`` forbids any
request.  It opens at the step in its address (``page.html#step=3``) and
exposes the current step as ``document.body.dataset.step`` and its text in
the element with id ``explain``.  ``dot`` always reads its source from
standard input and writes to standard output, so no path is ever passed to it.
"""

from __future__ import annotations

import html
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from autograd_core import Value
from autograd_core.atomic import atomic_write
from autograd_core.steps import Step, backward_steps, format_number, format_step

from .dot import DEFAULT_MAX_NODES, draw_dot, escape_record

__all__ = ["BackwardPlayer", "backward_player"]

_CURRENT_FILL = "#ffd27f"
_RECEIVES_FILL = "#d9f2d9"
_DONE_FILL = "#eeeeee"
_FLOW_COLOR = "#d62728"
_GATHER_COLOR = "#1f77b4"


def _dot_exe() -> str:
    exe = shutil.which("dot")
    if exe is None:
        raise RuntimeError(
            "Graphviz's 'dot' program was not found on PATH; the player renders each frame with it. Install "
            "Graphviz (Debian/Ubuntu: sudo apt-get install graphviz, macOS: brew install graphviz, "
            "conda: conda install -c conda-forge graphviz)"
        )
    return exe


def _run_dot(source: str, fmt: str, timeout: float) -> bytes:
    """``dot -T<fmt>`` on ``source`` through stdin/stdout (no file path reaches dot)."""
    try:
        proc = subprocess.run(
            [_dot_exe(), f"-T{fmt}"], input=source.encode("utf-8"), capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"dot did not finish within {timeout:g} s; draw a smaller graph") from None
    if proc.returncode != 0:
        raise RuntimeError(f"dot -T{fmt} failed with status {proc.returncode}: {proc.stderr.decode(errors='replace')}")
    return proc.stdout


class BackwardPlayer:
    """The backward pass of one output as frames; see :func:`backward_player`.

    Attributes:
        steps: the :class:`~autograd_core.steps.Step` list, output first.
        sources: the DOT source of each frame.
    """

    def __init__(
        self,
        out: Value,
        *,
        rankdir: str = "LR",
        max_nodes: int = DEFAULT_MAX_NODES,
        title: str | None = None,
        interval_ms: int = 1000,
        timeout: float = 60.0,
    ) -> None:
        if not isinstance(out, Value):
            raise TypeError(f"backward_player() argument 'out' must be a Value, got {type(out).__name__}")
        if title is not None and not isinstance(title, str):
            raise TypeError(f"backward_player() argument 'title' must be a str, got {type(title).__name__}")
        if isinstance(interval_ms, bool) or not isinstance(interval_ms, int) or interval_ms < 50:
            raise ValueError(f"interval_ms must be an int of at least 50 (milliseconds per step), got {interval_ms!r}")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds for each dot run, got {timeout!r}")
        # draw_dot checks rankdir and max_nodes (the same error as drawing the graph) before any step is computed.
        draw_dot(out, rankdir=rankdir, max_nodes=max_nodes)
        self.steps: list[Step] = backward_steps(out)
        self.title = title if title is not None else f"backward pass of {self.steps[0].name}"
        self.interval_ms = interval_ms
        self.timeout = timeout
        self._topo: dict[Value, int] = {s.node: s.topo_index for s in self.steps}
        self.sources: list[str] = [self._frame_source(k, rankdir, max_nodes) for k in range(len(self.steps))]
        self._svgs: list[str] | None = None

    def __len__(self) -> int:
        return len(self.steps)

    def __repr__(self) -> str:
        return f"BackwardPlayer({self.title!r}, {len(self.steps)} steps)"

    # ---------------------------------------------------------------- frames

    def _frame_source(self, k: int, rankdir: str, max_nodes: int) -> str:
        steps = self.steps
        cur = steps[k]
        # Each record's gradient as accumulated when step k has run (nodes not reached yet show none).
        shown: dict[int, float] = {}
        for s in steps[: k + 1]:
            shown[s.topo_index] = s.grad
            for p, c in zip(s.inputs, s.contributions):
                t = self._topo[p]
                shown[t] = shown.get(t, 0.0) + c
        receivers = {self._topo[p] for p in cur.inputs}
        by_topo = {s.topo_index: s for s in steps}

        def node_attrs(name: str) -> dict[str, str] | None:
            is_op = name.endswith("op")
            t = int(name[1:-2] if is_op else name[1:])
            s = by_topo[t]
            if is_op:
                if t == cur.topo_index:
                    return {"class": "current-op", "color": _FLOW_COLOR, "penwidth": "2.5"}
                return None
            fields = [escape_record(s.name), f"data {format_number(s.node.data)}"]
            fields.append(f"grad {format_number(shown[t])}" if t in shown else "grad ·")
            attrs = {"label": "{ " + " | ".join(fields) + " }", "style": "filled", "fillcolor": "#ffffff"}
            if t == cur.topo_index:
                attrs.update({"class": "current", "fillcolor": _CURRENT_FILL, "penwidth": "3", "color": _FLOW_COLOR})
            elif t in receivers:
                attrs.update({"class": "receives", "fillcolor": _RECEIVES_FILL})
            elif s.index < k:
                attrs.update({"class": "done", "fillcolor": _DONE_FILL})
            return attrs

        slot_calls: dict[str, int] = {}
        cur_op = f"v{cur.topo_index}op"
        cur_name = f"v{cur.topo_index}"
        # What each user added into the current node, per user op, in operand order (the "+=" edges).
        gathered: dict[str, list[float]] = {}
        for got in cur.gathered:
            gathered.setdefault(f"v{steps[got.step].topo_index}op", []).append(got.amount)
        gathered_calls: dict[str, int] = {}

        def edge_attrs(tail: str, head: str) -> dict[str, str] | None:
            if tail == cur_name and head in gathered:
                j = gathered_calls.get(head, 0)
                gathered_calls[head] = j + 1
                return {
                    "class": "gathers",
                    "color": _GATHER_COLOR,
                    "penwidth": "2",
                    "label": f"+= {format_number(gathered[head][j])}",
                    "fontcolor": _GATHER_COLOR,
                    "fontname": "Helvetica",
                    "dir": "back",
                }
            if tail == cur_op:  # the edge from the op to the current node: the gradient enters the op here
                return {"class": "flow", "color": _FLOW_COLOR, "penwidth": "2.5", "dir": "back"}
            if head != cur_op:
                return None
            # draw_dot emits a node's input edges in operand order: the j-th call is slot j.
            slot = slot_calls.get(head, 0)
            slot_calls[head] = slot + 1
            return {
                "class": "flow",
                "color": _FLOW_COLOR,
                "penwidth": "2.5",
                "label": f"+= {format_number(cur.contributions[slot])}",
                "fontcolor": _FLOW_COLOR,
                "fontname": "Helvetica",
                "dir": "back",  # the gradient flows against the forward edge
            }

        g = draw_dot(
            steps[0].node,
            rankdir=rankdir,
            max_nodes=max_nodes,
            node_attrs=node_attrs,
            edge_attrs=edge_attrs,
        )
        # A graph id prefixes every SVG element id, so frames inlined in one page never share an id.
        g.attr(id=f"f{k}")
        return g.source

    def svgs(self) -> list[str]:
        """Each frame as inline SVG markup (rendered with ``dot`` once, then kept)."""
        if self._svgs is None:
            out = []
            for src in self.sources:
                svg = _run_dot(src, "svg", self.timeout).decode("utf-8")
                out.append(svg[svg.index("<svg") :])  # drop the XML prolog and doctype
            self._svgs = out
        return self._svgs

    def texts(self) -> list[str]:
        """Each step's arithmetic, as shown in the page's ``#explain`` element."""
        name = self.steps[0].name
        return [format_step(s, out_name=name, total=len(self.steps)) for s in self.steps]

    # ------------------------------------------------------------------ page

    def html(self) -> str:
        """The standalone page: every frame inline, the script inline, no external request."""
        frames = []
        for k, (svg, text) in enumerate(zip(self.svgs(), self.texts())):
            frames.append(
                f'<div class="frame" data-step="{k}" hidden>{svg}'
                f'<pre class="text" hidden>{html.escape(text)}</pre></div>'
            )
        last = len(self.steps) - 1
        return _PAGE.format(
            title=html.escape(self.title),
            frames="\n".join(frames),
            last=last,
            interval=self.interval_ms,
            script=_SCRIPT,
            style=_STYLE,
        )

    def _repr_html_(self) -> str:
        # An iframe keeps the page's ids, body dataset and key handlers apart from the notebook's and other players'.
        return (
            f'<iframe srcdoc="{html.escape(self.html(), quote=True)}" sandbox="allow-scripts" '
            'style="width:100%;height:600px;border:1px solid #ddd"></iframe>'
        )

    def save(self, path: str | os.PathLike[str], *, frames: str | os.PathLike[str] | None = None) -> Path:
        """Write the page (atomically); with a directory, or ``frames``, also one PNG per step.

        Args:
            path: an ``.html`` file, or a directory (existing, or ending in
                ``/``: created) that gets ``index.html`` and ``step-000.png``, ...
            frames: a directory for the PNG frames (created if missing), for slides.

        Returns:
            The path of the HTML page.

        Raises:
            TypeError: if ``path`` or ``frames`` is not a path.
            ValueError: if ``path`` is a file name not ending in ``.html``.
            FileNotFoundError: if the directory of an ``.html`` path does not exist.
        """
        for arg, val in (("path", path), ("frames", frames)):
            if val is not None and not isinstance(val, (str, os.PathLike)):
                raise TypeError(
                    f"save() argument {arg!r} must be a path (str or os.PathLike), got {type(val).__name__}"
                )
        raw = os.fspath(path)
        target = Path(raw)
        if target.is_dir() or raw.endswith(("/", os.sep)):
            target.mkdir(parents=True, exist_ok=True)
            page = target / "index.html"
            frame_dir: Path | None = target
        else:
            if target.suffix.lower() not in (".html", ".htm"):
                raise ValueError(
                    f"save() writes an HTML page: the path must end in .html, or name a directory, got {raw!r}"
                )
            page = target
            frame_dir = None
        if frames is not None:
            frame_dir = Path(os.fspath(frames))
            frame_dir.mkdir(parents=True, exist_ok=True)
        atomic_write(page, self.html())
        if frame_dir is not None:
            self.save_pngs(frame_dir)
        return page

    def save_pngs(self, directory: str | os.PathLike[str]) -> list[Path]:
        """Write each frame as ``step-000.png``, ``step-001.png``, ... into ``directory`` (which must exist)."""
        d = Path(os.fspath(directory))
        if not d.is_dir():
            raise FileNotFoundError(f"directory {d} does not exist; create it first")
        width = max(3, len(str(len(self.sources) - 1)))
        written = []
        for k, src in enumerate(self.sources):
            p = d / f"step-{k:0{width}d}.png"
            atomic_write(p, _run_dot(src, "png", self.timeout))
            written.append(p)
        return written


def backward_player(out: Value, **options: Any) -> BackwardPlayer:
    """A step-through view of the backward pass from ``out``: inline in Jupyter, ``.save()`` for a page.

    Step ``k`` (``page.html#step=k``, 0 is the output) shows the graph with
    the node being processed highlighted, the edges it sends gradient along
    (labelled ``+= contribution``), the inputs receiving it, and every
    record's gradient as accumulated so far; beside it, the step's
    arithmetic.  The page has first / previous / next / last / play buttons,
    arrow keys (Home / End, space to play) and a slider.

    Args:
        out: the output Value (no ``.grad`` is touched).
        **options: ``rankdir`` and ``max_nodes`` as for :func:`viz.draw_dot`;
            ``title`` of the page; ``interval_ms`` between steps when playing;
            ``timeout`` in seconds for each ``dot`` run.

    Returns:
        A :class:`BackwardPlayer`.

    Raises:
        TypeError: if ``out`` is not a Value.
        ValueError: for a graph larger than ``max_nodes`` (as ``draw_dot``) or a bad option value.
    """
    return BackwardPlayer(out, **options)


_STYLE = """
body { font-family: Helvetica, Arial, sans-serif; margin: 12px; color: #222; }
h1 { font-size: 18px; margin: 0 0 8px 0; }
#controls { display: flex; gap: 6px; align-items: center; margin-bottom: 8px; flex-wrap: wrap; }
#controls button { font-size: 14px; padding: 3px 10px; }
#slider { width: 260px; }
#main { display: flex; flex-direction: column; gap: 12px; }
#frames { overflow: auto; }
#frames svg { max-width: 100%; height: auto; }
#explain { font-family: Menlo, Consolas, monospace; font-size: 13px; white-space: pre-wrap;
           background: #f7f7f7; border: 1px solid #ddd; padding: 10px; margin: 0; }
"""

_SCRIPT = """
(function () {
  var frames = document.querySelectorAll('#frames .frame');
  var last = frames.length - 1;
  var slider = document.getElementById('slider');
  var counter = document.getElementById('counter');
  var explain = document.getElementById('explain');
  var playBtn = document.getElementById('play');
  var interval = parseInt(document.body.getAttribute('data-interval'), 10);
  var timer = null;
  var current = -1;
  function clamp(k) { return Math.max(0, Math.min(last, k)); }
  function show(k) {
    k = clamp(k);
    if (current >= 0) { frames[current].hidden = true; }
    frames[k].hidden = false;
    current = k;
    slider.value = String(k);
    counter.textContent = 'step ' + k + '/' + last;
    explain.textContent = frames[k].querySelector('.text').textContent;
    document.body.dataset.step = String(k);
    try { history.replaceState(null, '', '#step=' + k); } catch (e) { /* sandboxed: the address stays */ }
  }
  function fromHash() {
    var m = /step=(\\d+)/.exec(location.hash);
    return m ? parseInt(m[1], 10) : 0;
  }
  function stop() { if (timer !== null) { clearInterval(timer); timer = null; } playBtn.textContent = 'play'; }
  function play() {
    if (timer !== null) { stop(); return; }
    if (current === last) { show(0); }
    playBtn.textContent = 'pause';
    timer = setInterval(function () { if (current >= last) { stop(); } else { show(current + 1); } }, interval);
  }
  document.getElementById('first').onclick = function () { stop(); show(0); };
  document.getElementById('prev').onclick = function () { stop(); show(current - 1); };
  document.getElementById('next').onclick = function () { stop(); show(current + 1); };
  document.getElementById('last').onclick = function () { stop(); show(last); };
  playBtn.onclick = play;
  slider.oninput = function () { stop(); show(parseInt(slider.value, 10)); };
  document.addEventListener('keydown', function (e) {
    if (e.target === slider) { return; }
    if (e.key === 'ArrowRight') { stop(); show(current + 1); e.preventDefault(); }
    else if (e.key === 'ArrowLeft') { stop(); show(current - 1); e.preventDefault(); }
    else if (e.key === 'Home') { stop(); show(0); e.preventDefault(); }
    else if (e.key === 'End') { stop(); show(last); e.preventDefault(); }
    else if (e.key === ' ') { play(); e.preventDefault(); }
  });
  window.addEventListener('hashchange', function () { var k = fromHash(); if (k !== current) { show(k); } });
  show(fromHash());
})();
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; \
style-src 'unsafe-inline'; img-src data:">
<title>{title}</title>
<style>{style}</style>
</head>
<body data-interval="{interval}">
<h1>{title}</h1>
<div id="controls">
<button id="first" title="first step (Home)">first</button>
<button id="prev" title="previous step (left arrow)">previous</button>
<button id="next" title="next step (right arrow)">next</button>
<button id="last" title="last step (End)">last</button>
<button id="play" title="play / pause (space)">play</button>
<input id="slider" type="range" min="0" max="{last}" value="0" aria-label="step">
<span id="counter"></span>
</div>
<div id="main">
<div id="frames">
{frames}
</div>
<pre id="explain"></pre>
</div>
<script>{script}</script>
</body>
</html>
"""
