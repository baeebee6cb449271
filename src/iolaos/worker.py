"""``iolaos worker``: one process that runs the periodic jobs of a deployment on intervals from settings.

Jobs: the lost-contact sweep (``IOLAOS_WORKER_SWEEP_SECONDS``), the retention purge
(``IOLAOS_WORKER_PURGE_SECONDS``), notification delivery (``IOLAOS_WORKER_NOTIFY_SECONDS``, docs/notifications.md)
and signed audit checkpoints (``IOLAOS_WORKER_CHECKPOINT_SECONDS`` with
``IOLAOS_WORKER_CHECKPOINT_KEY`` and ``IOLAOS_WORKER_CHECKPOINT_DIR``). A failing job is logged and tried again
at its next turn; it never stops the others. Run exactly one worker per deployment (the jobs are safe to
repeat, but one is enough). SIGTERM/SIGINT stop it between jobs.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

import typer
from sqlalchemy.engine import Engine

from iolaos.config import Settings, get_settings
from iolaos.db import make_engine
from iolaos.field.jobs import expire, purge, sweep
from iolaos.journal import checkpoint as checkpoints
from iolaos.logging import configure_logging
from iolaos.notifications.channels import build_senders
from iolaos.notifications.delivery import deliver_due, worker_name
from iolaos.wiring import wire

log = logging.getLogger("iolaos.worker")


@dataclass
class Job:
    """One periodic job: its name, its interval in seconds and what it does."""

    name: str
    interval: float
    run: Callable[[], object]
    due: float = 0.0


def latest_checkpoint(folder: Path) -> Path | None:
    """The newest ``checkpoint-*.json`` in ``folder`` (names sort by time)."""
    found = sorted(folder.glob("checkpoint-*.json"))
    return found[-1] if found else None


def checkpoint(settings: Settings) -> Path:
    """Verify the chain against the previous checkpoint (if any) and write a new signed one; returns its path."""
    assert settings.worker_checkpoint_key is not None and settings.worker_checkpoint_dir is not None
    folder = settings.worker_checkpoint_dir
    folder.mkdir(parents=True, exist_ok=True)
    previous = latest_checkpoint(folder)
    out = folder / f"checkpoint-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}.json"
    engine = make_engine(settings)
    try:
        checkpoints.take(engine, key=settings.worker_checkpoint_key, out=out, previous=previous)
    except checkpoints.CheckpointError as exc:
        raise RuntimeError(f"audit checkpoint failed: {exc}") from None
    finally:
        engine.dispose()
    return out


def build_jobs(engine: Engine, settings: Settings) -> list[Job]:
    """The jobs enabled by the settings (an interval of 0 turns a job off)."""
    jobs: list[Job] = []
    if settings.worker_sweep_seconds:
        jobs.append(Job("lost_contact_sweep", settings.worker_sweep_seconds, lambda: sweep(engine, settings)))
        jobs.append(Job("shift_expiry", settings.worker_sweep_seconds, lambda: expire(engine)))
    if settings.worker_purge_seconds:
        jobs.append(Job("retention_purge", settings.worker_purge_seconds, lambda: purge(engine, settings)))
    if settings.worker_notify_seconds:
        senders, name = build_senders(settings), worker_name()
        log.info("notification channels: %s", ", ".join(sorted(senders)) or "none configured")
        jobs.append(Job("notifications", settings.worker_notify_seconds,
                        lambda: deliver_due(engine, settings, senders, worker=name)))
    if settings.worker_checkpoint_seconds:
        if settings.worker_checkpoint_key is None or settings.worker_checkpoint_dir is None:
            log.warning("audit checkpoints off: set IOLAOS_WORKER_CHECKPOINT_KEY and IOLAOS_WORKER_CHECKPOINT_DIR")
        else:
            jobs.append(Job("audit_checkpoint", settings.worker_checkpoint_seconds, lambda: checkpoint(settings)))
    return jobs


def run_job(job: Job) -> bool:
    """Run one job, logging its outcome and duration; False when it failed."""
    began = time.monotonic()
    try:
        result = job.run()
    except Exception:  # one failed job must not stop the others
        log.exception("job %s failed", job.name, extra={"job": job.name})
        return False
    log.info("job %s done in %.2f s: %s", job.name, time.monotonic() - began, result,
             extra={"job": job.name, "duration_s": round(time.monotonic() - began, 3)})
    return True


def run(settings: Settings, *, once: bool = False, stop: threading.Event | None = None) -> int:
    """Loop over the jobs until stopped (``once``: run each once and return); returns the number of failures."""
    stop = stop or threading.Event()
    wire(settings)  # the lost-contact sweep's alerts notify like the API's, and write their events at commit
    engine = make_engine(settings)
    jobs = build_jobs(engine, settings)
    failures = 0
    log.info("worker started: %s", ", ".join(f"{j.name} every {j.interval:g} s" for j in jobs) or "no jobs")
    try:
        while not stop.is_set():
            now = time.monotonic()
            for job in jobs:
                if stop.is_set():
                    break
                if job.due <= now:
                    failures += not run_job(job)
                    job.due = time.monotonic() + job.interval
            if once or not jobs:
                break
            stop.wait(max(0.0, min(j.due for j in jobs) - time.monotonic()))
    finally:
        engine.dispose()
        log.info("worker stopped")
    return failures


def command(once: bool = typer.Option(False, "--once", help="run every enabled job once, then exit")) -> None:
    """Run the periodic jobs (lost-contact sweep, retention purge, audit checkpoints) on their intervals."""
    settings = get_settings()
    configure_logging(settings)
    stop = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping after the current job", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    failures = run(settings, once=once, stop=stop)
    if once and failures:
        raise typer.Exit(code=1)
