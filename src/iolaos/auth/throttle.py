"""Sign-in throttling: growing delays per (account, address) and per address, never a hard account lock.

Why not a lock per account: usernames such as ``dispatcher.attica`` are guessable, so a lock that also
refuses the right password lets anyone keep a dispatcher out during a fire (OWASP ASVS V6: anti-automation
must not enable malicious account lockout). Failures are counted per (account, address), so guessing one
account from one address slows that address down on that account only, and per address, so guessing many
accounts from one address slows that address down. The right password from a clean address always passes.
The address is the peer's, or the client named by a trusted proxy (``trusted_proxies``), never a header a
client chose.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlmodel import Session, col

from iolaos.auth.models import LoginFailure
from iolaos.config import Settings
from iolaos.errors import TooManyRequests
from iolaos.kit.time import as_utc


def delay_seconds(failures: int, free: int, settings: Settings) -> float:
    """How long to wait after the latest of ``failures`` recent failures: none for the first ``free``, then
    the base delay doubling with each further failure, up to the maximum."""
    if failures < free or settings.login_base_delay_seconds <= 0:
        return 0.0
    steps = min(failures - free, 40)  # 2**40 seconds is beyond any maximum; avoids float overflow
    return min(settings.login_max_delay_seconds, settings.login_base_delay_seconds * 2.0**steps)


def check(session: Session, settings: Settings, *, account_key: str, address: str, now: datetime) -> None:
    """429 with Retry-After while the (account, address) pair or the address must still wait."""
    since = now - timedelta(minutes=settings.login_window_minutes)
    keys: tuple[tuple[ColumnElement[bool], int], ...] = (
        ((col(LoginFailure.account_key) == account_key) & (col(LoginFailure.client_address) == address),
         settings.login_free_failures_per_account_address),
        (col(LoginFailure.client_address) == address, settings.login_free_failures_per_address),
    )
    wait = 0.0
    for condition, free in keys:
        count, latest = session.execute(
            select(func.count(), func.max(col(LoginFailure.at))).where(condition, col(LoginFailure.at) >= since)).one()
        if count and latest is not None:
            ready = as_utc(latest) + timedelta(seconds=delay_seconds(count, free, settings))
            wait = max(wait, (ready - now).total_seconds())
    if wait > 0:
        raise TooManyRequests("too many failed sign-ins; try again later", code="too_many_attempts",
                              headers={"Retry-After": str(max(1, math.ceil(wait)))})
