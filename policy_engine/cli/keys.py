"""``policy-engine keys create|list|revoke``: manage the API keys in ``PE_KEYS_FILE``.

``create`` prints the new key once, on stdout (the only place it ever appears); ``list``
shows ids, roles and dates, never keys; ``revoke`` takes effect in a running service at
its next request.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import get_args

import click

from policy_engine.access import Role
from policy_engine.cli.support import fail as _fail
from policy_engine.cli.support import settings_or_fail
from policy_engine.errors import ConfigError
from policy_engine.keystore import KeyStore


def _store() -> KeyStore:
    try:
        return KeyStore(settings_or_fail().keys_file)
    except ConfigError as exc:
        _fail(str(exc))


@click.group()
def keys() -> None:
    """Create, list and revoke API keys (stored hashed in PE_KEYS_FILE)."""


@keys.command("create")
@click.option(
    "--role",
    required=True,
    type=click.Choice(get_args(Role)),
    help="gateway (POST /decide), auditor (GET /audit/...) or admin.",
)
@click.option("--label", default="", help="A note for `keys list`, e.g. the gateway's name.")
def create(role: Role, label: str) -> None:
    """Make a key; print it once (store it now: only its digest is kept)."""
    try:
        key, entry = _store().create(role, label=label)
    except ConfigError as exc:
        _fail(str(exc))
    click.echo(key)
    click.echo(f"created {entry.id} ({entry.role}); the key above is not shown again", err=True)


@keys.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per key.")
@click.option("--all", "show_all", is_flag=True, help="Include revoked keys.")
def list_keys(as_json: bool, show_all: bool) -> None:
    """Key ids, roles, creation and revocation times; never the keys."""
    try:
        entries = _store().entries()
    except ConfigError as exc:
        _fail(str(exc))
    shown = [e for e in entries if show_all or e.active]
    for entry in shown:
        if as_json:
            record = {k: v for k, v in asdict(entry).items() if k != "digest"}
            click.echo(json.dumps(record))
        else:
            state = f"revoked {entry.revoked}" if entry.revoked else "active"
            click.echo(
                f"{entry.id}  {entry.role:<8} created {entry.created}  {state}  {entry.label}"
            )
    if not shown and not as_json:
        click.echo("no keys; make one with `policy-engine keys create --role gateway`", err=True)


@keys.command("revoke")
@click.argument("key_id")
def revoke(key_id: str) -> None:
    """Revoke the key KEY_ID (as `keys list` shows it); a running service refuses it at once."""
    try:
        entry = _store().revoke(key_id)
    except ConfigError as exc:
        _fail(str(exc))
    click.echo(f"revoked {entry.id} ({entry.role}) at {entry.revoked}")
