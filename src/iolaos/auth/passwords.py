"""Password hashing with argon2id (RFC 9106 parameters as chosen by argon2-cffi)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from iolaos.errors import InvalidInput

_hasher = PasswordHasher()  # argon2id by default
# Verified against when the account does not exist, so both answers take the same time.
_DUMMY_HASH = _hasher.hash("iolaos-no-such-account")
MIN_LENGTH = 12


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` after checking it is long enough."""
    check_strength(password)
    return _hasher.hash(password)


def check_strength(password: str) -> None:
    """Refuse passwords that are too short or too long (argon2 has no limit, but requests should)."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"password must have at least {MIN_LENGTH} characters", code="weak_password")
    if len(password) > 256:
        raise InvalidInput("password must have at most 256 characters", code="invalid_password")


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; always spends the same work, even with no account."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
