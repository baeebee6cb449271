"""Signed checkpoints of the audit chain, kept outside the database.

The chain alone shows that no record was changed *in place*. Someone with write access to the database can still
cut off its tail (and move the head back), or change an old record and recompute every hash after it: the result
is a chain that verifies. A checkpoint signs (seq, head hash, epoch) with an Ed25519 key held outside the
database; ``verify --checkpoint`` then requires the chain to still reach that seq and carry that hash there.

Only records up to the newest checkpoint are protected this way, so take checkpoints regularly (e.g. hourly from
cron) and keep the files, and the private key, away from the database server. The checkpoint embeds the public
key for convenience; a signature checked against that embedded key proves only that the file is intact, not who
made it. Check against a public key obtained separately (``--public-key``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.engine import Engine
from sqlmodel import Session

from iolaos.journal.audit import canonical_json
from iolaos.journal.service import read_head, snapshot_engine, verify_chain
from iolaos.kit.time import iso, utcnow

FORMAT = "iolaos-audit-checkpoint/1"


class CheckpointError(Exception):
    """A key or checkpoint file that cannot be used (unreadable, malformed, wrong kind of key)."""


class SignatureError(CheckpointError):
    """The checkpoint's signature does not verify: the file was altered or signed with another key."""


class Refused(CheckpointError):
    """Nothing was signed: the chain is broken, or no longer matches the previous checkpoint (tampering)."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """What a checkpoint file holds: the chain head at one moment, signed."""

    seq: int
    head_hash: str
    epoch: str
    created_at: str
    public_key: str  # base64 of the raw 32-byte Ed25519 public key
    signature: str = ""  # base64 of the Ed25519 signature over ``signed_message()``

    def signed_message(self) -> bytes:
        """The exact bytes signed: canonical JSON of every field but the signature, with the format tag."""
        fields = {k: v for k, v in asdict(self).items() if k != "signature"}
        return canonical_json({"format": FORMAT, **fields}).encode("utf-8")

    def to_json(self) -> str:
        """The file's text (pretty JSON, format tag first)."""
        return json.dumps({"format": FORMAT, **asdict(self)}, indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Checkpoint:
        """Parse a checkpoint file's text; raise CheckpointError when it is not one."""
        try:
            raw: Any = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CheckpointError(f"not JSON: {exc}") from None
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise CheckpointError(f"not an {FORMAT} file")
        try:
            cp = cls(seq=raw["seq"], head_hash=raw["head_hash"], epoch=raw["epoch"], created_at=raw["created_at"],
                     public_key=raw["public_key"], signature=raw["signature"])
        except KeyError as exc:
            raise CheckpointError(f"field {exc} missing") from None
        if not isinstance(cp.seq, int) or isinstance(cp.seq, bool) or cp.seq < 0:
            raise CheckpointError("seq must be a non-negative integer")
        if not all(isinstance(v, str) for v in (cp.head_hash, cp.epoch, cp.created_at, cp.public_key, cp.signature)):
            raise CheckpointError("head_hash, epoch, created_at, public_key and signature must be strings")
        return cp


def fingerprint(key: Ed25519PublicKey) -> str:
    """A short, stable name for a public key: the first 16 hex digits of sha256 of its raw bytes."""
    return hashlib.sha256(_raw(key)).hexdigest()[:16]


def _raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_path(private_key_path: Path) -> Path:
    """Where ``generate_key`` puts the public half: ``FILE.pub``."""
    return private_key_path.with_name(private_key_path.name + ".pub")


def generate_key(path: Path, *, overwrite: bool = False) -> Path:
    """Write a new Ed25519 private key to ``path`` (PEM, mode 0600) and its public key to ``path.pub``.

    Returns the public key's path. Refuses to replace an existing key unless ``overwrite``.
    """
    pub_path = public_key_path(path)
    if not overwrite and (path.exists() or pub_path.exists()):
        raise CheckpointError(f"{path} or {pub_path} exists; refusing to overwrite a key")
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    _write_atomic(path, private_pem, mode=0o600)
    _write_atomic(pub_path, public_pem, mode=0o644)
    return pub_path


def _write_atomic(path: Path, data: bytes, *, mode: int) -> None:
    """Write to a temporary file created with ``mode`` in the same folder, then rename over ``path``."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)  # the umask may have narrowed it; never widen beyond ``mode``
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """Read a PEM Ed25519 private key written by ``generate_key``."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise CheckpointError(f"cannot read private key {path}: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointError(f"{path} is not an Ed25519 private key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """Read a PEM Ed25519 public key (a ``.pub`` file written by ``generate_key``)."""
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError, TypeError) as exc:
        raise CheckpointError(f"cannot read public key {path}: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise CheckpointError(f"{path} is not an Ed25519 public key")
    return key


def embedded_key(cp: Checkpoint) -> Ed25519PublicKey:
    """The public key the checkpoint carries."""
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(cp.public_key, validate=True))
    except ValueError as exc:
        raise CheckpointError(f"embedded public key unreadable: {exc}") from None


def sign(*, seq: int, head_hash: str, epoch: str, key: Ed25519PrivateKey) -> Checkpoint:
    """A checkpoint of (seq, head_hash, epoch), signed now with ``key``."""
    unsigned = Checkpoint(seq=seq, head_hash=head_hash, epoch=epoch, created_at=iso(utcnow()),
                          public_key=base64.b64encode(_raw(key.public_key())).decode("ascii"))
    signature = key.sign(unsigned.signed_message())
    return Checkpoint(**{**asdict(unsigned), "signature": base64.b64encode(signature).decode("ascii")})


def verify_signature(cp: Checkpoint, public_key: Ed25519PublicKey | None = None) -> Ed25519PublicKey:
    """Check the signature against ``public_key`` (or, when None, the embedded key); return the key used.

    Raises SignatureError when it does not verify, including when the checkpoint embeds another key than
    the one given.
    """
    key = public_key if public_key is not None else embedded_key(cp)
    if public_key is not None and _raw(public_key) != _raw(embedded_key(cp)):
        raise SignatureError(f"checkpoint was signed with key {fingerprint(embedded_key(cp))}, "
                             f"not with the given key {fingerprint(public_key)}")
    try:
        key.verify(base64.b64decode(cp.signature, validate=True), cp.signed_message())
    except (InvalidSignature, ValueError):
        raise SignatureError("checkpoint signature does not verify: the file was altered") from None
    return key


def write_checkpoint(cp: Checkpoint, path: Path) -> None:
    """Write the checkpoint file atomically (mode 0644: it holds no secret)."""
    _write_atomic(path, cp.to_json().encode("utf-8"), mode=0o644)


def read_checkpoint(path: Path) -> Checkpoint:
    """Read a checkpoint file; raise CheckpointError when it is missing or malformed."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CheckpointError(f"cannot read checkpoint {path}: {exc}") from None
    try:
        return Checkpoint.from_json(text)
    except CheckpointError as exc:
        raise CheckpointError(f"{path}: {exc}") from None


def take(engine: Engine, *, key: Path, out: Path, previous: Path | None) -> tuple[Checkpoint, Ed25519PublicKey]:
    """Verify the chain (against ``previous`` when given), then sign its head into ``out``; returns what was
    signed and the public key. Raises Refused when the journal shows tampering, CheckpointError when a file
    cannot be used."""
    private = load_private_key(key)
    old: Checkpoint | None = None
    anchor = None
    if previous is not None:
        old = read_checkpoint(previous)
        try:
            verify_signature(old, private.public_key())
        except SignatureError as exc:
            raise Refused(f"PREVIOUS CHECKPOINT REJECTED: {exc}") from None
        anchor = (old.seq, old.head_hash)
    snapshot = snapshot_engine(engine)
    try:
        with Session(snapshot) as session:
            head_seq, head_hash, epoch = read_head(session)
            if old is not None and old.epoch != epoch:
                raise Refused(f"PREVIOUS CHECKPOINT REJECTED: epoch {old.epoch}, database {epoch}")
            result = verify_chain(session, anchor=anchor)
    finally:
        snapshot.dispose()
    if not result.ok:
        raise Refused(f"BROKEN at record {result.broken_seq}: {result.reason}; no checkpoint written")
    signed = sign(seq=head_seq, head_hash=head_hash, epoch=epoch, key=private)
    try:
        write_checkpoint(signed, out)
    except OSError as exc:
        raise CheckpointError(f"cannot write {out}: {exc}") from None
    return signed, private.public_key()
