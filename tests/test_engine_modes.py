"""Recording modes per context: what a node records depends only on the calling context's mode.

Covers ``no_grad`` / ``enable_grad`` seen from asyncio tasks and copied
contexts, independence from other threads' blocks, and ``set_grad_enabled``
as a function, a block and a decorator.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable
from typing import Any

import pytest

from autograd_core import Value, enable_grad, is_grad_enabled, no_grad, set_grad_enabled


def _recorded() -> tuple[bool, bool]:
    """(is_grad_enabled(), whether a fresh op node kept its op and parents) in the calling context."""
    v = Value(1.0) * 2
    return is_grad_enabled(), v.op == "mul" and len(v.parents) == 2


def _with_other_thread_in_no_grad(fn: Callable[[], Any]) -> Any:
    """Run ``fn`` here while another thread sits inside a ``no_grad()`` block."""
    inside = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with no_grad():
            inside.set()
            release.wait(10)

    t = threading.Thread(target=hold)
    t.start()
    try:
        assert inside.wait(10)
        return fn()
    finally:
        release.set()
        t.join()


def test_modes_asyncio_task_created_in_no_grad_records_nothing_after_the_block() -> None:
    async def main() -> tuple[bool, bool]:
        with no_grad():
            task = asyncio.get_running_loop().create_task(_async_recorded())
        # The block has closed before the task runs; the task copied its mode when created.
        assert is_grad_enabled()
        return await task

    async def _async_recorded() -> tuple[bool, bool]:
        return _recorded()

    assert asyncio.run(main()) == (False, False)


def test_modes_context_copied_in_no_grad_agrees_with_is_grad_enabled() -> None:
    with no_grad():
        ctx = contextvars.copy_context()
    assert ctx.run(_recorded) == (False, False)
    assert _recorded() == (True, True)


def test_modes_copied_context_does_not_depend_on_other_threads() -> None:
    with no_grad():
        ctx = contextvars.copy_context()
    alone = ctx.run(_recorded)
    beside_block = _with_other_thread_in_no_grad(lambda: ctx.run(_recorded))
    assert alone == beside_block == (False, False)


def test_modes_plain_context_records_while_another_thread_is_in_no_grad() -> None:
    assert _with_other_thread_in_no_grad(_recorded) == (True, True)


def test_modes_enable_grad_inside_copied_no_grad_context_records() -> None:
    with no_grad():
        ctx = contextvars.copy_context()

    def inner() -> tuple[bool, bool]:
        with enable_grad():
            return _recorded()

    assert ctx.run(inner) == (True, True)


def test_set_grad_enabled_as_a_function_switches_this_context_only() -> None:
    def body() -> list[tuple[bool, bool]]:
        seen = [_recorded()]
        set_grad_enabled(False)
        seen.append(_recorded())
        other: list[tuple[bool, bool]] = []
        t = threading.Thread(target=lambda: other.append(_recorded()))
        t.start()
        t.join()
        seen.extend(other)
        set_grad_enabled(True)
        seen.append(_recorded())
        return seen

    # A copied context, so a failure cannot leave this test's thread with recording off.
    got = contextvars.copy_context().run(body)
    assert got == [(True, True), (False, False), (True, True), (True, True)]


def test_set_grad_enabled_as_a_block_restores_the_enclosing_mode() -> None:
    with set_grad_enabled(False):
        inside = _recorded()
        with set_grad_enabled(True):
            nested = _recorded()
        back = _recorded()
    assert (inside, nested, back, _recorded()) == ((False, False), (True, True), (False, False), (True, True))
    with no_grad():
        with set_grad_enabled(True):
            enabled = _recorded()
        after = _recorded()
    assert (enabled, after) == ((True, True), (False, False))


def test_set_grad_enabled_as_a_decorator_leaves_the_caller_mode_alone() -> None:
    @set_grad_enabled(False)
    def frozen() -> tuple[bool, bool]:
        return _recorded()

    assert _recorded() == (True, True)  # making the decorator did not switch recording off
    assert frozen() == (False, False)
    assert _recorded() == (True, True)
    with no_grad():

        @set_grad_enabled(True)
        def live() -> tuple[bool, bool]:
            return _recorded()

        assert live() == (True, True)
        assert _recorded() == (False, False)


def test_set_grad_enabled_rejects_a_non_bool_mode() -> None:
    with pytest.raises(TypeError, match=r"set_grad_enabled\(mode\) needs True or False, got int"):
        set_grad_enabled(0)  # type: ignore[arg-type]
    assert is_grad_enabled()
