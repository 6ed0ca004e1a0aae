"""``python -m integrations.sandbox --port 5050``: serve the simulators in the foreground."""

from __future__ import annotations

import argparse
import logging

from .server import Sandbox


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, print the configuration to use, serve until interrupted."""
    parser = argparse.ArgumentParser(description="Serve the video-provider simulators.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5050)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    sandbox = Sandbox(args.host, args.port)
    sandbox.serve_forever(on_ready=lambda: print(
        "\n".join(f"{key}={value}" for key, value in sandbox.env().items()), flush=True
    ))


if __name__ == "__main__":
    main()
