"""``iolaos audit …``: checks of the tamper-evident journal, signed checkpoints and the application's role.

Exit codes: 0 all good; 1 the chain or a checkpoint shows tampering (or a signature does not verify);
2 a file or the database could not be used as asked.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session

from iolaos.config import Settings, get_settings
from iolaos.db import make_engine
from iolaos.journal import checkpoint as cp_mod
from iolaos.journal.roles import RoleError, grant_app_role
from iolaos.journal.service import read_head, snapshot_engine, verify_chain

app = typer.Typer(help="The tamper-evident audit journal.", no_args_is_help=True)


def _fail(message: str, code: int) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code=code)


def _progress(total: int, interval: float) -> Callable[[int], None]:
    """A batch callback printing records verified and records/s to stderr at most every ``interval`` s."""
    start = last = time.perf_counter()
    done = 0

    def step(n: int) -> None:
        nonlocal done, last
        done += n
        now = time.perf_counter()
        if now - last >= interval:
            last = now
            share = f" ({done / total:.0%})" if total else ""
            print(f"verified {done:,} of {total:,} records{share}, {done / (now - start):,.0f} records/s",
                  file=sys.stderr, flush=True)

    return step


@app.command("verify")
def audit_verify(
    checkpoint: Annotated[Path | None, typer.Option(
        help="signed checkpoint file: also detect a truncated tail or a recomputed chain")] = None,
    public_key: Annotated[Path | None, typer.Option(
        help="PEM public key to check the checkpoint's signature with (recommended; default: the key embedded "
             "in the checkpoint, which proves only that the file is intact)")] = None,
    progress_interval: Annotated[float, typer.Option(
        help="seconds between progress lines on stderr", hidden=True)] = 1.0,
) -> None:
    """Walk the audit chain; exit 1 naming the first broken record."""
    anchor = cp = None
    if checkpoint is not None:
        try:
            cp = cp_mod.read_checkpoint(checkpoint)
            given = cp_mod.load_public_key(public_key) if public_key is not None else None
        except cp_mod.CheckpointError as exc:
            raise _fail(f"error: {exc}", 2) from None
        try:
            used = cp_mod.verify_signature(cp, given)
        except cp_mod.SignatureError as exc:
            raise _fail(f"CHECKPOINT REJECTED: {exc}", 1) from None
        if given is not None:
            typer.echo(f"checkpoint signature valid (public key {public_key}, {cp_mod.fingerprint(used)})")
        else:
            typer.echo(f"checkpoint signature valid against the key embedded in it ({cp_mod.fingerprint(used)}): "
                       "this proves the file is intact, not who signed it; pass --public-key to prove that")
        anchor = (cp.seq, cp.head_hash)
    elif public_key is not None:
        raise _fail("error: --public-key needs --checkpoint", 2)

    engine = make_engine(get_settings())
    snapshot = snapshot_engine(engine)
    try:
        with Session(snapshot) as session:
            head_seq, _, epoch = read_head(session)
            if cp is not None and cp.epoch != epoch:
                raise _fail(f"CHECKPOINT REJECTED: it belongs to journal epoch {cp.epoch}, this database's journal "
                            f"is epoch {epoch} (re-created or replaced database?)", 1)
            start = time.perf_counter()
            result = verify_chain(session, anchor=anchor, on_batch=_progress(head_seq, progress_interval))
            elapsed = time.perf_counter() - start
    finally:
        snapshot.dispose()
        engine.dispose()
    rate = f"{result.checked / elapsed:,.0f} records/s" if elapsed > 0 else "-"
    if not result.ok:
        raise _fail(f"BROKEN at record {result.broken_seq}: {result.reason} "
                    f"({result.checked:,} records before it verified)", 1)
    covered = f"; checkpoint seq {cp.seq} of {cp.created_at} matches" if cp is not None else ""
    typer.echo(f"ok: {result.checked:,} records in {elapsed:.2f} s ({rate}), head {result.head_seq} "
               f"{result.head_hash}{covered}")


@app.command("keygen")
def audit_keygen(
    out: Annotated[Path, typer.Option(help="private key file to write (PEM, mode 0600); public key goes to FILE.pub")],
    force: Annotated[bool, typer.Option(help="replace an existing key")] = False,
) -> None:
    """Create an Ed25519 key pair for signing checkpoints; keep the private key off the database server."""
    try:
        pub = cp_mod.generate_key(out, overwrite=force)
    except (cp_mod.CheckpointError, OSError) as exc:
        raise _fail(f"error: {exc}", 2) from None
    typer.echo(f"private key: {out} (mode 0600)")
    typer.echo(f"public key: {pub} ({cp_mod.fingerprint(cp_mod.load_public_key(pub))})")


@app.command("checkpoint")
def audit_checkpoint(
    key: Annotated[Path, typer.Option(help="Ed25519 private key (from `iolaos audit keygen`)")],
    out: Annotated[Path, typer.Option(help="checkpoint file to write; keep it outside the database server")],
    previous: Annotated[Path | None, typer.Option(
        help="an earlier checkpoint the chain must still match before a new one is signed")] = None,
) -> None:
    """Verify the chain, then write a signed checkpoint of its head (seq, hash, epoch)."""
    write_checkpoint(get_settings(), key=key, out=out, previous=previous)


def write_checkpoint(settings: Settings, *, key: Path, out: Path, previous: Path | None) -> None:
    """The checkpoint command for a given database (exit 1: tampering shown, 2: a file could not be used)."""
    engine = make_engine(settings)
    try:
        signed, public = cp_mod.take(engine, key=key, out=out, previous=previous)
    except cp_mod.Refused as exc:
        raise _fail(str(exc), 1) from None
    except cp_mod.CheckpointError as exc:
        raise _fail(f"error: {exc}", 2) from None
    finally:
        engine.dispose()
    typer.echo(f"checkpoint {out}: seq {signed.seq}, head {signed.head_hash}, epoch {signed.epoch}, "
               f"key {cp_mod.fingerprint(public)}")


@app.command("grant-app-role")
def audit_grant_app_role(
    role: Annotated[str, typer.Argument(help="existing LOGIN role the service connects as (not the owner)")],
) -> None:
    """PostgreSQL: grant ROLE the application's privileges, append-only on audit_record (run after upgrades)."""
    engine = make_engine(get_settings())
    try:
        with engine.begin() as conn:
            granted = grant_app_role(conn, role)
    except RoleError as exc:
        raise _fail(f"error: {exc}", 2) from None
    finally:
        engine.dispose()
    for name, privileges in granted.items():
        typer.echo(f"{name:<28} {privileges}")
    typer.echo(f"role {role}: append-only on audit_record (UPDATE, DELETE, TRUNCATE revoked)")
