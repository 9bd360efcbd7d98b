"""The worked material of the paper's prompt set (``--prompt-set paper``), per task type.

The reference gives every prompt of the learner and of the baselines the task's *own* worked material: for
gripper a learned action that picks, moves and drops, with its usage line, its description, a demonstration
episode, a worked Update case and a worked Plan case, and so on. This project writes its own (in its own words,
on its own observations): ``prompts/paper/domains/<task>.md`` (PDDL) and ``alfworld.md`` shared by the ALFWorld
types, whose sections ``alfworld-<type>.md`` replaces for one type (it may hold only some). A file is a set of
``## <section>`` blocks, one per entry of :data:`SECTIONS`; text before the first one is the file's header (where
it says which reference entries it stands for). ``prompts_dir/paper/domains/`` overrides ours file by file.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from .loader import PromptError

PAPER_DOMAIN_DIR = Path(__file__).resolve().parent / "paper" / "domains"

# section -> what it stands for in the reference (model/learnact_agent/learnact_learner_prompt.py unless named).
SECTIONS = {
    "system": "the agent's system message (learnact_user_prompt.py, system_msg)",
    "action example": "action_example: one call of a basic action",
    "learned example": "tool_example['free_precise']: a learned action and its usage line",
    "description example": "tool_explanation: a function and its description",
    "demonstration example": "tool_in_context_together: a function and an episode that uses it",
    "revision cases": "tool_improve_in_context_both: a worked Update case and a worked Plan case",
    "reflexion example": "reflexion_optimizer_prompt.py, reflexion_prompt_agent[task]: a failed attempt and its note",
    "react reflexion example": "reflexion_optimizer_prompt.py, reflexion_prompt_react_agent[task]: the same with Think lines",
    "react example": "react_py_agent_prompt.py, examples: the example episode with Think lines",
    "program example": "code_as_policy_prompt.py, code_as_policy_prompt_hier_dict[task]: a program for one task",
}
_HEADING = re.compile(r"^## (.+?)\s*$", re.MULTILINE)


def _candidates(name: str, prompts_dir: str | None) -> list[Path]:
    folders = ([Path(prompts_dir) / "paper" / "domains"] if prompts_dir else []) + [PAPER_DOMAIN_DIR]
    return [folder / name for folder in folders]


def _first(name: str, prompts_dir: str | None) -> Path | None:
    return next((c for c in _candidates(name, prompts_dir) if c.is_file()), None)


def load_paper_material(env_name: str, prompts_dir: str | None = None) -> dict[str, str]:
    """``{section: text}`` of ``env_name``'s paper material (every section of :data:`SECTIONS`)."""
    family, _, task = env_name.partition("/")
    base = "alfworld.md" if family == "alfworld" else f"{task}.md"
    path = _first(base, prompts_dir)
    if path is None:
        looked = ", ".join(str(c) for c in _candidates(base, prompts_dir))
        raise PromptError(f"no paper prompt material for {env_name} (looked in {looked})")
    sections = dict(_parse(str(path)))
    own = _first(f"alfworld-{task}.md", prompts_dir) if family == "alfworld" else None
    if own is not None:  # the type's own sections replace the shared ones
        sections.update(_parse(str(own)))
    missing = [s for s in SECTIONS if s not in sections]
    if missing:
        raise PromptError(f"{path}: paper material lacks section(s) {', '.join('## ' + m for m in missing)}")
    return sections


@functools.lru_cache(maxsize=64)
def _parse(path: str) -> dict[str, str]:
    text = Path(path).read_text(encoding="utf-8")
    parts = _HEADING.split(text)
    sections = {name.strip().lower(): body.strip("\n") for name, body in zip(parts[1::2], parts[2::2])}
    unknown = [s for s in sections if s not in SECTIONS]
    if unknown:
        raise PromptError(
            f"{path}: unknown section(s) {', '.join('## ' + u for u in unknown)}; known: {', '.join(SECTIONS)}"
        )
    return sections
