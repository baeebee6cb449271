"""``iolaos notify``: VAPID keys for Web Push, and a look at the outbox."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Annotated

import typer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

app = typer.Typer(help="Notifications (Web Push, e-mail, SMS).", no_args_is_help=True)


@app.command("vapid-keygen")
def vapid_keygen(
    out: Annotated[Path, typer.Option(help="where to write the private key (PEM, readable by its owner only)")] = Path(
        "vapid-private.pem"),
    force: Annotated[bool, typer.Option(help="overwrite an existing key (every browser must subscribe again)")] = False,
) -> None:
    """Generate the VAPID key pair (P-256) that signs Web Push requests; prints the public key for browsers."""
    if out.exists() and not force:
        typer.secho(f"{out} exists; use --force to replace it", err=True, fg=typer.colors.RED)
        raise typer.Exit(2)
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    out.touch(mode=0o600, exist_ok=True)
    out.chmod(0o600)
    out.write_bytes(pem)
    typer.echo(f"wrote {out}")
    typer.echo(f"public key (applicationServerKey): {public_key_b64(key.public_key())}")
    typer.echo(f"set IOLAOS_NOTIFY_VAPID_PRIVATE_KEY={out.resolve()} for the API and the worker")


def public_key_b64(public_key) -> str:
    """The uncompressed P-256 point, base64url without padding, as browsers' pushManager.subscribe() wants it."""
    raw = public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def public_key_from_file(path: Path) -> str:
    """The browser-facing public key of a VAPID private key file."""
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    return public_key_b64(key.public_key())
