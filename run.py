#!/usr/bin/env python
"""Command line entry point: ``python run.py --graph learn|act|evaluate ...``."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from learnact.cli.main import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
