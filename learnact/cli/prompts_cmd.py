"""``run.py prompts`` and ``run.py prompts show NODE``."""

from __future__ import annotations

from prompts import NODE_PLACEHOLDERS, PromptSet

from .errors import OneLineParser


def prompts_command(argv: list[str]) -> int:
    p = OneLineParser(prog="run.py prompts", description="List prompt templates or show one")
    p.add_argument("action", nargs="?", choices=["list", "show"], default="list")
    p.add_argument("node", nargs="?")
    p.add_argument("--prompts", help="folder of overriding templates")
    p.add_argument(
        "--prompt-set",
        choices=["default", "paper"],
        default="default",
        help="paper: the paper's templates (prompts/paper)",
    )
    args = p.parse_args(argv)
    prompts = PromptSet(args.prompts, prompt_set=args.prompt_set)
    if args.action == "show":
        if not args.node:
            p.error("prompts show needs a NODE")
        t = prompts.get(args.node)
        print(f"# {t.node} ({t.source})\n=== system ===\n{t.system.strip()}\n=== user ===\n{t.user.strip()}")
        return 0
    for node, (required, optional) in NODE_PLACEHOLDERS.items():
        t = prompts.get(node)
        print(f"{node:16} {t.source}")
        print(f"{'':16} required: {', '.join(sorted(required))}; optional: {', '.join(sorted(optional)) or '-'}")
    return 0
