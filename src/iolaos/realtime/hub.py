"""The per-process hub: reads new events from the journal's table and fans them out to its sockets.

One hub per process, built and started in the app's lifespan. Wake-ups (from this process's commits, or from
other processes through the backend) only say "seq N exists": the hub then reads ``seq > high-water mark``
from the event table in a worker thread, and it also polls on a timer, so a lost wake-up only delays
delivery. Each event is encoded once and offered to the connections subscribed to one of its topics that may
receive it; a connection whose queue is full or whose send stalls is closed (4008) and resumes later.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy.engine import Engine

from iolaos.auth.principal import Principal
from iolaos.config import Settings
from iolaos.journal import service as journal
from iolaos.kit.time import iso, utcnow
from iolaos.realtime import protocol, topics
from iolaos.realtime.backends import Backend, backend_name, make_backend
from iolaos.realtime.connection import Connection
from iolaos.realtime.store import JournalReader, LiveEvent, Resolved, Row, to_live
from iolaos.realtime.tickets import TicketStore, make_ticket_store

log = logging.getLogger("iolaos.realtime")
T = TypeVar("T")

BATCH = 500


class Hub:
    """Reads the event table from a high-water mark and fans events out to this process's connections."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.app_engine = engine
        self.hwm = 0
        self.epoch: str | None = None
        self.backend: Backend | None = None
        self.tickets: TicketStore = make_ticket_store(settings)
        self.connections: set[Connection] = set()
        self._by_topic: dict[str, set[Connection]] = {}
        self._recent: deque[LiveEvent] = deque(maxlen=max(settings.realtime_replay_cache, 1))
        self._ready = asyncio.Event()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._events_pool: ThreadPoolExecutor | None = None  # reads of the event table (never starved)
        self._auth_pool: ThreadPoolExecutor | None = None    # tokens and topic decisions
        self.store = JournalReader(settings, engine)
        self._last_error = 0.0
        # Counters for /metrics (src/iolaos/metrics.py); read only, they change no behaviour.
        self.stats = {"events_read": 0, "events_delivered": 0, "queue_full_closes": 0, "stalled_closes": 0}

    # ----------------------------------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        """Connect the backend, register for this process's commits and start the reading tasks."""
        self._loop = asyncio.get_running_loop()
        self._events_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="iolaos-realtime-events")
        self._auth_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="iolaos-realtime-auth")
        self.backend = make_backend(self.settings)
        await self.backend.start(self._on_wake)
        journal.add_wake_listener(self._on_commit)
        create = self._loop.create_task
        self._tasks = [create(self._read_loop(), name="iolaos-hub-read"),
                       create(self._housekeeping(), name="iolaos-hub-housekeeping"),
                       create(self._revalidate_loop(), name="iolaos-hub-revalidate")]
        log.info("realtime hub started (fan-out: %s)", backend_name(self.settings))

    async def stop(self) -> None:
        """Close every socket (1001), stop the tasks and the backend."""
        journal.remove_wake_listener(self._on_commit)
        for conn in list(self.connections):
            conn.request_close(protocol.GOING_AWAY, protocol.CLOSE_REASONS[protocol.GOING_AWAY])
        for _ in range(20):  # let the endpoints close their sockets
            if not self.connections:
                break
            await asyncio.sleep(0.05)
        for task in self._tasks:
            task.cancel()
        # Every step is bounded: a shutdown must never hang a process (or a test run) on one stuck piece.
        await _bounded(asyncio.gather(*self._tasks, return_exceptions=True), "hub tasks")
        if self.backend is not None:
            await _bounded(self.backend.stop(), "fan-out backend")
        await _bounded(self.tickets.close(), "ticket store")
        for pool in (self._events_pool, self._auth_pool):  # let running reads finish and return connections
            if pool is not None:
                await _bounded(asyncio.to_thread(pool.shutdown, True, cancel_futures=True), "database threads")
        self.store.dispose()

    def _on_commit(self, seq: int) -> None:
        """Journal wake listener (any thread, after a commit that wrote events): wake here and elsewhere."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._on_wake, seq)
        if self.backend is not None:
            self.backend.publish(seq)

    def _on_wake(self, seq: int) -> None:
        """A wake-up (on the loop): read unless we already have ``seq`` (0 means "have a look")."""
        if seq <= 0 or seq > self.hwm:
            self._wake.set()

    async def _db(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a blocking read of the event table in the hub's event threads."""
        assert self._loop is not None
        return await self._loop.run_in_executor(self._events_pool, fn, *args)

    async def _db_auth(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a blocking token or topic check in the hub's auth threads (a flood of them cannot delay events)."""
        assert self._loop is not None
        return await self._loop.run_in_executor(self._auth_pool, fn, *args)

    # ------------------------------------------------------------------------------------------ reading
    async def _read_loop(self) -> None:
        """Catch up on every wake-up and every poll interval; check the head (epoch) on each poll."""
        interval = self.settings.realtime_poll_interval
        checked = time.monotonic()
        while True:
            try:
                if self.epoch is None:
                    self.hwm, self.epoch = await self._db(self.store.read_head)
                    self._ready.set()
                    log.info("realtime hub at seq %d (epoch %s)", self.hwm, self.epoch)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=interval)
                self._wake.clear()
                if time.monotonic() - checked >= interval:  # also when wake-ups keep coming
                    checked = time.monotonic()
                    await self._check_head()
                await self._catch_up()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._complain("reading events failed", exc)
                await asyncio.sleep(interval)

    async def _catch_up(self) -> None:
        while True:
            rows = await self._db(self.store.read_after, self.hwm, BATCH)
            self._dispatch(rows)
            if len(rows) < BATCH:
                return

    async def _check_head(self) -> None:
        """A new epoch (a restore) or a head behind us: everyone resets and we continue from the head."""
        seq, epoch = await self._db(self.store.read_head)
        if epoch == self.epoch and seq >= self.hwm:
            return
        reason = "epoch_changed" if epoch != self.epoch else "restored"
        log.warning("journal %s (epoch %s → %s, seq %d → %d): resetting clients", reason, self.epoch, epoch,
                    self.hwm, seq)
        self.epoch, self.hwm = epoch, seq
        self._recent.clear()
        for conn in list(self.connections):
            if conn.cursor < 0:
                continue
            if conn.replay is not None:
                conn.replay.cancel()
                conn.replay = None
            conn.cursor = seq
            conn.push(protocol.reset(reason, epoch, seq))
            if not conn.live:
                self._go_live(conn)

    def _dispatch(self, rows: list[Row]) -> None:
        """Encode each new event once and offer it to the live connections that may receive it."""
        by_topic, recent = self._by_topic, self._recent
        for row in rows:
            if row[0] <= self.hwm:
                continue
            live = to_live(row)
            recent.append(live)
            matched = [found for topic in live.topics if (found := by_topic.get(topic))]
            targets = matched[0] if len(matched) == 1 else set().union(*matched)
            for conn in targets:
                text = topics.text_for(live, conn.audience)  # who may see it, and its location (issue 14)
                if text is not None:
                    conn.offer(live.seq, text, live.coalesce_key)
                    self.stats["events_delivered"] += 1
            self.stats["events_read"] += 1
            self.hwm = live.seq

    def _cached_after(self, after: int, n: int) -> list[LiveEvent] | None:
        """Up to ``n`` events after ``after`` from memory; None when memory does not reach back that far."""
        recent = self._recent
        if not recent or after + 1 < recent[0].seq:
            return None
        index = after + 1 - recent[0].seq
        if index >= len(recent):
            return []
        if recent[index].seq != after + 1:  # not contiguous: let the table answer
            return None
        return list(itertools.islice(recent, index, index + n))

    # ------------------------------------------------------------------------------------ subscriptions
    def attach(self, principal: Principal, token: str, audience: topics.Audience) -> Connection:
        """Register a new authenticated socket."""
        conn = Connection(principal, token, audience, max_queue=self.settings.realtime_send_queue,
                          coalesce_after=self.settings.realtime_coalesce_after)
        self.connections.add(conn)
        return conn

    def detach(self, conn: Connection) -> None:
        """Forget a socket (its endpoint is closing it)."""
        self.connections.discard(conn)
        self._unindex(conn, conn.topics)
        if conn.close_code == protocol.TOO_SLOW:
            self.stats["queue_full_closes" if conn.close_reason == "send queue full" else "stalled_closes"] += 1
        conn.live = False
        if conn.replay is not None:
            conn.replay.cancel()
            conn.replay = None

    def _index(self, conn: Connection, names: set[str] | list[str]) -> None:
        for name in names:
            self._by_topic.setdefault(name, set()).add(conn)

    def _unindex(self, conn: Connection, names: set[str] | list[str]) -> None:
        for name in list(names):
            found = self._by_topic.get(name)
            if found is not None:
                found.discard(conn)
                if not found:
                    del self._by_topic[name]

    async def subscribe(self, conn: Connection, names: list[str], after: int | None, epoch: str | None) -> None:
        """Authorise topics and answer ``subscribed``; the first subscribe also replays or goes live."""
        await asyncio.wait_for(self._ready.wait(), timeout=10)
        new = [t for t in dict.fromkeys(names) if t not in conn.topics]
        decisions = await self._db_auth(self.store.authorise, conn.principal, new) if new else {}
        allowed = [t for t, reason in decisions.items() if reason is None]
        denied = [{"topic": t, "reason": reason} for t, reason in decisions.items() if reason is not None]
        room = max(self.settings.realtime_max_topics - len(conn.topics), 0)
        denied += [{"topic": t, "reason": "too_many_topics"} for t in allowed[room:]]
        allowed = allowed[:room]
        if conn not in self.connections or conn.close_code is not None:
            return
        if conn.cursor >= 0:  # already streaming: add the topics from the current position on
            conn.topics.update(allowed)
            if conn.live:
                self._index(conn, allowed)
                conn.cursor = max(conn.cursor, self.hwm)
            conn.push(self._subscribed(conn, denied))
            return
        start, why = await self._start_position(after, epoch)
        # A resume replays up to the database head as it is now, not just this hub's high-water mark, which
        # may lag events another instance committed: those belong before the ``live`` marker too.
        if why is None and after is not None:
            conn.replay_until = max(conn.replay_until, (await self._db(self.store.read_head))[0])
        if conn not in self.connections or conn.close_code is not None:
            return
        conn.topics.update(allowed)
        conn.cursor = start
        conn.push(self._subscribed(conn, denied))
        if why is not None:
            conn.push(protocol.reset(why, self.epoch or "", start))
        if start >= max(self.hwm, conn.replay_until):
            self._go_live(conn)
        else:
            conn.replay = asyncio.get_running_loop().create_task(self._replay(conn), name=f"iolaos-replay-{conn.id}")

    def unsubscribe(self, conn: Connection, names: list[str]) -> None:
        """Stop following topics."""
        removed = sorted(t for t in set(names) if t in conn.topics)
        conn.topics.difference_update(removed)
        self._unindex(conn, removed)
        conn.push(protocol.dumps({"type": "unsubscribed", "topics": removed, "reason": "requested"}))

    @staticmethod
    def _subscribed(conn: Connection, denied: list[dict[str, str]]) -> str:
        return protocol.dumps({"type": "subscribed", "topics": sorted(conn.topics), "denied": denied,
                               "after": conn.cursor})

    async def _start_position(self, after: int | None, epoch: str | None) -> tuple[int, str | None]:
        """Where a first subscription starts, and why it is a reset (None: a true resume or live-only)."""
        if after is None:
            return self.hwm, None
        if epoch is not None and epoch != self.epoch:
            return self.hwm, "epoch_changed"
        if after > self.hwm:  # another instance may be ahead of us: ask the table
            head, _ = await self._db(self.store.read_head)
            return (after, None) if after <= head else (self.hwm, "unknown_position")
        if self.hwm - after > self.settings.realtime_max_replay:
            return self.hwm, "too_far_behind"
        if self._cached_after(after, 1) is None and after < self.hwm:
            oldest = await self._db(self.store.read_min)
            if oldest is None or after + 1 < oldest:  # the events after ``after`` are no longer stored
                return self.hwm, "too_far_behind"
        return after, None

    async def _replay(self, conn: Connection) -> None:
        """Send ``seq > cursor`` from memory or the table at the client's pace, then switch to live."""
        step = max(1, min(BATCH, conn.max_queue // 2))
        try:
            while conn.close_code is None:
                await conn.wait_for_room()
                goal = max(self.hwm, conn.replay_until)
                batch = self._cached_after(conn.cursor, step) or []
                if not batch and conn.cursor < goal:  # memory does not reach (or ends before the goal)
                    batch = [to_live(row) for row in await self._db(self.store.read_after, conn.cursor, step)]
                for live in batch:
                    text = conn.wants(live)  # the same decision as live delivery (issue 14)
                    if text is not None:
                        conn.push(text)
                    conn.cursor = live.seq
                goal = max(self.hwm, conn.replay_until)
                if not batch and conn.cursor < goal:  # nothing stored between: nothing to replay
                    conn.cursor = goal
                if conn.cursor >= goal:
                    self._go_live(conn)
                    return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._complain("replay failed", exc)
            conn.request_close(protocol.INTERNAL_ERROR, "replay failed")

    def _go_live(self, conn: Connection) -> None:
        """From now on the hub offers this connection every new event (same loop step as the check)."""
        conn.replay = None
        conn.live = True
        self._index(conn, conn.topics)
        conn.push(protocol.dumps({"type": "live", "seq": conn.cursor}))

    # ---------------------------------------------------------------------------- authentication
    async def authenticate(self, token: str) -> Resolved | None:
        """Resolve a bearer token off the event loop."""
        return await self._db_auth(self.store.resolve, token)

    async def _revalidate_loop(self) -> None:
        """Close sockets whose token stopped working; re-check topics when the account changed."""
        interval = self.settings.realtime_revalidate_interval
        last_full = time.monotonic()
        while True:
            await asyncio.sleep(interval)
            try:
                full = time.monotonic() - last_full >= self.settings.realtime_reauthorise_interval
                last_full = time.monotonic() if full else last_full
                await self._revalidate_once(full)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # database unreachable: keep sockets, try again next round
                self._complain("re-validating tokens failed", exc)

    async def _revalidate_once(self, full: bool) -> None:
        conns = [c for c in self.connections if c.close_code is None]
        if not conns:
            return
        results = await self._db_auth(self.store.resolve_many, {c.token for c in conns})
        # Decisions depend on the account's state and the topics, not on the token: sockets share them.
        decided: dict[tuple[tuple[int, str, int, int | None], frozenset[str]], dict[str, str | None]] = {}
        for conn in conns:
            found = results.get(conn.token)
            if found is None:
                conn.request_close(protocol.UNAUTHENTICATED, "token revoked or expired, or account disabled")
                continue
            principal, audience = found
            changed = (principal.user_id, principal.role, principal.organisation_id,
                       principal.region_id) != conn.principal_key
            conn.principal, conn.audience = principal, audience
            if (changed or full) and conn.topics:
                key = (conn.principal_key, frozenset(conn.topics))
                if key not in decided:
                    decided[key] = await self._db_auth(self.store.authorise, principal, set(key[1]))
                decisions = decided[key]
                refused = sorted(t for t, reason in decisions.items() if reason is not None and t in conn.topics)
                if refused:
                    conn.topics.difference_update(refused)
                    self._unindex(conn, refused)
                    conn.push(protocol.dumps({"type": "unsubscribed", "topics": refused, "reason": "forbidden"}))

    # ------------------------------------------------------------------------------------- housekeeping
    async def _housekeeping(self) -> None:
        """Every half second: close stalled sockets (4008) and send due heartbeats."""
        heartbeat, stall = self.settings.realtime_heartbeat_interval, self.settings.realtime_stall_timeout
        while True:
            await asyncio.sleep(0.5)
            now = time.monotonic()
            stamp: str | None = None
            for conn in list(self.connections):
                if conn.stalled_for(now) > stall:
                    conn.request_close(protocol.TOO_SLOW, "send stalled")
                elif now - conn.last_ping >= heartbeat:
                    conn.last_ping = now
                    stamp = stamp or iso(utcnow())
                    conn.push(protocol.ping(self._safe_point(conn), stamp))

    def _safe_point(self, conn: Connection) -> int | None:
        """A seq the client may resume from: every relevant event up to it is already queued."""
        if conn.live:
            conn.cursor = max(conn.cursor, self.hwm)
        return conn.cursor if conn.cursor >= 0 else None

    def status(self) -> dict[str, Any]:
        """Counters for operators."""
        return {"fanout": backend_name(self.settings),
                "backend_connected": bool(self.backend and self.backend.connected), "epoch": self.epoch,
                "seq": self.hwm, "connections": len(self.connections),
                "live": sum(1 for c in self.connections if c.live),
                "queued": sum(len(c.queue) for c in self.connections), "topics": len(self._by_topic)}

    def _complain(self, what: str, exc: BaseException) -> None:
        """Log a failure at most every 10 s."""
        now = time.monotonic()
        if now - self._last_error >= 10:
            self._last_error = now
            log.warning("realtime hub: %s: %s: %s", what, type(exc).__name__, exc)


async def _bounded(awaitable: Any, what: str, seconds: float = 5.0) -> None:
    """Await ``awaitable`` for at most ``seconds``; log and move on when it does not finish."""
    try:
        await asyncio.wait_for(awaitable, seconds)
    except TimeoutError:
        log.warning("shutdown: %s did not stop within %.0f s; continuing", what, seconds)
