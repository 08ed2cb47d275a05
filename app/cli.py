"""Operator commands: `python -m app.cli <command>`."""

import argparse
import json
import sys
from pathlib import Path


def export_openapi(target: Path) -> None:
    from app.main import create_app

    schema = create_app().openapi()
    target.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {target}")


def rotate_keys() -> None:
    """Re-encrypt every stored ciphertext with the active key (the first of ENCRYPTION_KEYS):
    every column of the encryption's own registry, idempotent answers included."""
    from app.core.crypto import KeyRing, fingerprint
    from app.core.database.engine import create_db_engine
    from app.core.field_encryption import ENCRYPTED_FIELDS, install_field_encryption
    from app.core.key_rotation import rewrite_all, to_active_key
    from app.core.settings import get_settings

    settings = get_settings()
    keys = KeyRing.from_settings(settings)
    install_field_encryption()
    engine = create_db_engine(settings)
    with engine.begin() as connection:
        changed = rewrite_all(connection, to_active_key(keys))
    engine.dispose()
    print(f"keys loaded: {fingerprint(keys)}; active: {keys.active}")
    for table in sorted({model.__tablename__ for model in ENCRYPTED_FIELDS}):
        print(f"re-encrypted {changed[table]} value(s) in {table}")
    print("done: keys other than the active one can now be removed")


def invite_therapist(email: str) -> None:
    """Make a single-use invitation for `email` to open a therapist account (needed when
    THERAPIST_SIGNUP=invite) and print its code: only its keyed hash is stored."""
    from sqlmodel import Session

    from app.auth.service import INVITATION_VALIDITY, invite_therapist
    from app.core.database.engine import create_db_engine
    from app.core.settings import get_settings

    settings = get_settings()
    engine = create_db_engine(settings)
    with Session(engine) as session:
        code = invite_therapist(session, email, settings)
        session.commit()
    engine.dispose()
    print(code)
    days = INVITATION_VALIDITY.days
    print(f"valid {days} days, once, for {email.strip().lower()}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.cli")
    commands = parser.add_subparsers(dest="command", required=True)
    openapi = commands.add_parser("export-openapi", help="write the OpenAPI document")
    openapi.add_argument("target", type=Path, nargs="?", default=Path("openapi/openapi.json"))
    commands.add_parser(
        "rotate-keys", help="re-encrypt every stored ciphertext with the active key"
    )
    invite = commands.add_parser(
        "invite-therapist", help="print a single-use code to register a therapist account"
    )
    invite.add_argument("email")
    args = parser.parse_args(argv)
    if args.command == "export-openapi":
        export_openapi(args.target)
    elif args.command == "rotate-keys":
        rotate_keys()
    elif args.command == "invite-therapist":
        invite_therapist(args.email)
    return 0


if __name__ == "__main__":
    sys.exit(main())
