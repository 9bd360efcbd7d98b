"""The CLI; filled in as the graphs land."""
from __future__ import annotations

import argparse


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="run.py", description="LearnAct as LangGraph workflows")
    p.add_argument("--graph", choices=["learn", "act", "evaluate"], default="learn")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    print(f"graph {args.graph!r} is not implemented yet")
    return 2
