"""`python -m hub.ehr.demo serve`: run the demo EHR as its own process.

    python -m hub.ehr.demo serve --host 127.0.0.1 --port 8001 \\
        --db var/demo-ehr.sqlite3 --seed [--timezone America/New_York] [--no-eligibility] \\
        [--client-id ID (--client-secret SECRET | --client-public-key FILE)]

Prints one line with its FHIR base URL, then serves until SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from hub.ehr.demo.app import FHIR_PREFIX, DemoEhr
from hub.ehr.demo.seed import seed
from hub.ehr.demo.server import make_server, origin
from hub.ehr.demo.store import Store


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m hub.ehr.demo", description="The hub's demo EHR (FHIR R4).")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the demo EHR over HTTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8001)
    serve.add_argument("--db", default="var/demo-ehr.sqlite3", help="the sqlite3 file (created if missing)")
    serve.add_argument("--seed", action="store_true", help="seed the demo practice (or top up its slots) first")
    serve.add_argument("--timezone", default="America/New_York", help="the practice's time zone, for seeded slots")
    serve.add_argument("--no-eligibility", dest="eligibility", action="store_false",
                       help="do not support CoverageEligibilityRequest")
    serve.add_argument("--client-id", help="require SMART backend-services tokens for this client")
    secret = serve.add_mutually_exclusive_group()
    secret.add_argument("--client-secret", help="the client's secret (client_secret_basic)")
    secret.add_argument("--client-public-key", type=Path, help="a PEM file: the client's public key (private_key_jwt)")
    return parser


def _clients(args: argparse.Namespace, parser: argparse.ArgumentParser) -> dict[str, dict] | None:
    has_credential = bool(args.client_secret or args.client_public_key)
    if bool(args.client_id) != has_credential:
        parser.error("--client-id goes with one of --client-secret or --client-public-key")
    if not args.client_id:
        return None
    key = args.client_public_key.read_text() if args.client_public_key else None
    return {args.client_id: {"secret": args.client_secret, "public_key_pem": key}}


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(0)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    clients = _clients(args, parser)
    Path(args.db).parent.mkdir(parents=True, exist_ok=True)
    store = Store(args.db)
    if args.seed:
        seed(store, timezone=args.timezone)
    server = make_server(args.host, args.port, DemoEhr(store, clients=clients, eligibility=args.eligibility))
    signal.signal(signal.SIGTERM, _stop)
    print(f"Demo EHR (FHIR R4) at {origin(server)}{FHIR_PREFIX}", flush=True)
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
