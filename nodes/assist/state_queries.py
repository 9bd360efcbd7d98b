"""State queries (an aid: ``state_queries``): the learner's prompts tell it that a learned action may read the state
with ``find(fact, *known)`` and show the environment's changing facts. nodes/learning/checks.py ``primitives_of``
asks for the text through :func:`learner_queries`; without the aid the prompts' ``queries`` part is empty."""

from __future__ import annotations


def learner_queries(env) -> str:
    """For the learner's prompts: how a learned action reads the state it acts on (the sandbox's
    ``find``), with the facts that can change as they are at the start of ``env``'s task and what find
    returns for two of them. Empty where the state is not symbolic (ALFWorld)."""
    env.reset()
    changing = env.changing_predicates()
    facts = [tuple(f) for f in env.facts() if changing is None or f[0] in changing]
    if not facts:
        return ""
    examples, seen = [], set()
    for f in facts:
        if (
            f[0] not in seen and len(f) >= 2 and len(examples) < 2
        ):  # a fact without arguments (handempty) has nothing to find
            seen.add(f[0])
            examples.append(f"find({', '.join(repr(x) for x in f[:-1])}) returns {f[-1]!r}")
    so = f"so {' and '.join(examples)}. " if examples else ""
    return (
        "\nYour functions may also read the state with find(fact, *known) (it takes no step and changes nothing).\n"
        f"In this environment the true facts that can change look like this at the start of a task:\n"
        f"[{', '.join(map(repr, facts))}]\n"
        f"{so}Use exactly these fact names.\n"
    )
