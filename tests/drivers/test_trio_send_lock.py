"""The trio link's writers' lock: one holder, waiters served in arrival order, a
waiter cancelled while parked never holds it."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from stomp_trio._link import _SendLock

pytestmark = pytest.mark.trio


async def test_a_free_lock_is_taken_without_a_task_switch() -> None:
    lock = _SendLock()
    before = trio.lowlevel.current_statistics().tasks_runnable
    async with lock:
        assert lock.locked()
        assert trio.lowlevel.current_statistics().tasks_runnable == before
    assert not lock.locked()


async def test_waiters_get_the_lock_in_arrival_order_one_at_a_time() -> None:
    lock = _SendLock()
    order: list[str] = []
    holders = 0

    async def writer(name: str) -> None:
        nonlocal holders
        async with lock:
            holders += 1
            assert holders == 1  # never two at once
            assert lock.locked()  # handed on, not released and retaken
            order.append(name)
            await trio.lowlevel.checkpoint()  # let the others run (and find it held)
            holders -= 1

    with trio.fail_after(5):  # a lock never handed on would hang here
        async with trio.open_nursery() as nursery, lock:
            for name in "abc":
                nursery.start_soon(writer, name)
                await trio.testing.wait_all_tasks_blocked()
            assert lock.waiting == 3
    assert order == ["a", "b", "c"]
    assert not lock.locked()
    assert lock.waiting == 0


async def test_a_waiter_cancelled_while_waiting_never_holds_the_lock() -> None:
    lock = _SendLock()
    order: list[str] = []
    doomed = trio.CancelScope()

    async def writer(name: str) -> None:
        async with lock:
            order.append(name)

    async def cancelled_writer() -> None:
        with doomed:
            await writer("cancelled")

    with trio.fail_after(5):  # a lock never handed on would hang here
        async with trio.open_nursery() as nursery, lock:
            nursery.start_soon(cancelled_writer)
            await trio.testing.wait_all_tasks_blocked()
            nursery.start_soon(writer, "after")  # queued behind the one to be cancelled
            await trio.testing.wait_all_tasks_blocked()
            assert lock.waiting == 2
            doomed.cancel()
            await trio.testing.wait_all_tasks_blocked()
            assert lock.waiting == 1  # the cancelled one left the queue
    assert order == ["after"]
    assert not lock.locked()


async def test_a_cancelled_task_does_not_take_a_free_lock() -> None:
    lock = _SendLock()
    with trio.CancelScope() as scope:
        scope.cancel()
        async with lock:
            raise AssertionError("entered despite the cancellation")  # pragma: no cover
    assert not lock.locked()
