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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.cli")
    commands = parser.add_subparsers(dest="command", required=True)
    openapi = commands.add_parser("export-openapi", help="write the OpenAPI document")
    openapi.add_argument("target", type=Path, nargs="?", default=Path("openapi/openapi.json"))
    args = parser.parse_args(argv)
    if args.command == "export-openapi":
        export_openapi(args.target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
