"""Decoding aids of the agent's step: the grammar (``grammar``, with ``valid_actions_only`` or ``typed_grammar``;
built only for the embedded llama.cpp model, the one that takes a grammar) and the resampling of a reply that
repeats a refused call (``resample_refused``). nodes/act.py asks through :func:`decode`."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence

from environments import ActionParseError, parse_call
from learnact.llm import grammar as gbnf
from learnact.settings.defaults import DEFAULTS as D

from .switches import grammar_on
from .turns import refused_since_change
from .worked_steps import learned_calls

MAX_LEARNED_LITERALS = 3000

# ask(grammar, key_suffix, temperature) -> the reply's call line (nodes/act.py: one request of the agent)
Ask = Callable[[str | None, str, float | None], str]


def decode(state, ctx, ask: Ask, allow_think: bool) -> str:
    """The hook of the agent's step: the call line of one reply, under the grammar where it is on, sampled again
    (its own key, at ``resample_temperature``) up to ``resample_refused`` times while it repeats a call already
    tried without effect in this state (possible where the grammar cannot exclude it)."""
    refused = refused_since_change(state.get("steps", []))
    grammar = None
    if grammar_on(ctx):
        rt = ctx.episodes.get(state, ctx.sandbox)
        grammar = agent_grammar(rt, valid_only=ctx.valid_actions_only, typed=ctx.typed_grammar, refused=refused)
        grammar = with_think(grammar) if allow_think else grammar
    line = ""
    for attempt in range(ctx.resample_refused + 1):
        line = ask(grammar, f"#resample{attempt}" if attempt else "", D.resample_temperature if attempt else None)
        if line not in refused:
            break
    return line


def offered_arities(rt) -> dict[str, int]:
    arities = {p.name: len(p.params) for p in rt.env.primitives}
    arities.update({a.name: len(a.params) for a in rt.library.actions})
    return arities


def agent_grammar(rt, *, valid_only: bool = False, typed: bool = False, refused: Sequence[str] = ()) -> str:
    """One call to an offered action.

    ``valid_only``: a primitive only as one of the calls valid in the current state. ``typed`` (where the
    environment lists its well-typed calls): any well-typed primitive call except those ``refused`` since
    the state last changed, so the agent is not told what applies but cannot repeat a refused call.
    With either, learned calls take the environment's object names as arguments (their validity shows
    only when they run).
    """
    learned = {a.name: len(a.params) for a in rt.library.actions}
    objects = list(rt.env.objects) or None
    if valid_only:
        valid = rt.env.valid_actions()
        if valid is not None and (valid or learned):
            return gbnf.choice_grammar(valid, learned, objects)
    if typed and (pools := rt.env.call_pools()):
        return typed_pool_grammar(pools, refused, learned, objects)
    if typed and (calls := rt.env.typed_calls()):
        listed = learned_calls(rt.env, rt.library, MAX_LEARNED_LITERALS) if learned else []
        if listed is not None:  # few enough to list: a refused learned call is excluded too
            calls, learned = calls + listed, {}
        allowed = [c for c in calls if c not in set(refused)]
        if allowed or learned:
            return gbnf.choice_grammar(allowed, learned, objects)
    return gbnf.call_grammar(offered_arities(rt))


def typed_pool_grammar(pools, refused: Sequence[str], learned: dict[str, int], objects) -> str:
    """Where the environment gives each primitive's argument pools (ALFWorld: typed names seen so far) rather than
    listing its calls: any call over them except those ``refused`` since the state last changed; learned calls
    take the names seen (else the environment's objects)."""
    excluded: dict[str, list[tuple[str, ...]]] = {}
    for call in refused:
        with contextlib.suppress(ActionParseError):
            name, args = parse_call(call)
            excluded.setdefault(name, []).append(tuple(args))
    seen = sorted({v for arg_pools in pools.values() for pool in arg_pools for v in pool})
    try:
        return gbnf.pool_grammar(pools, excluded, learned or None, seen or objects)
    except ValueError:  # every call refused and no learned action: let the model say anything well-formed
        return gbnf.call_grammar({name: len(arg_pools) for name, arg_pools in pools.items()} | learned)


def with_think(grammar: str) -> str:
    """Extend a one-call GBNF grammar so that a ReAct ``Think: ...`` line is admitted too."""
    return 'root ::= onecall | "Think: " [^\\n]+\n' + gbnf.rename_root(grammar, "onecall")
