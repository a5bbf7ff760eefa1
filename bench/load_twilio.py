"""Twilio's REST API for a load run: the local contract server
(tests/contracts/twilio_server.py) as a process of its own.

Prints its base URL on the first line of stdout, serves until SIGTERM or
SIGINT, then prints one JSON line: how many requests it answered, how many
messages and calls the hub created, and the contract violations it saw
(their count and the first few, paths only).

    python bench/load_twilio.py --account-sid AC... --auth-token TOKEN
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.contracts.twilio_server import TwilioContractServer  # noqa: E402


def summary(server: TwilioContractServer) -> dict:
    return {
        "requests": len(server.requests),
        "messages": len(server.messages),
        "calls": len(server.calls),
        "violations": len(server.violations),
        "first_violations": [v[:2] for v in server.violations[:5]],
        "self_errors": len(server.self_errors),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--account-sid", required=True)
    parser.add_argument("--auth-token", required=True)
    args = parser.parse_args()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    server = TwilioContractServer(args.account_sid, args.auth_token)
    print(server.start(), flush=True)
    try:
        stop.wait()
    finally:
        server.stop()
    print(json.dumps(summary(server)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
