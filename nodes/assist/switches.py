"""Which aids are on: read from the run's per-aid settings (``Context`` fields), never from the model's name alone
(the grammar also needs the embedded model, the only one that takes one). The core nodes read these before
calling a hook, so with an aid off none of its code runs."""

from __future__ import annotations

from typing import Any

from learnact.llm.models import is_local

AIDS = ("compact_prompt", "grammar", "resample_refused", "creation_trials", "probe_unused", "state_queries")


def compact_prompt(ctx: Any) -> bool:
    """The agent's compact prompt with worked steps (``agent_prompt="compact"``; else the paper's prompt)."""
    return getattr(ctx, "agent_prompt", "paper") == "compact"


def agent_is_local(ctx: Any) -> bool:
    """Whether the agent is the embedded llama.cpp model, without building it (``Context.agent`` makes the model
    its plain fields give on first use; that one is local exactly when its spec says ``local``)."""
    live = getattr(ctx, "agent_model", None)
    return is_local(live) if live is not None else ctx.model_spec("agent").model == "local"


def grammar_on(ctx: Any) -> bool:
    """A grammar constrains the agent's reply: ``grammar`` and the agent is the embedded model (any other
    ignores grammars, so none is built for it)."""
    return bool(getattr(ctx, "grammar", False)) and agent_is_local(ctx)


def resample_on(ctx: Any) -> bool:
    """A reply repeating a refused call is sampled again (``resample_refused`` > 0)."""
    return int(getattr(ctx, "resample_refused", 0) or 0) > 0


def decoding_on(ctx: Any) -> bool:
    """The agent's step goes through the decoding aids (nodes/assist/decode.py)."""
    return grammar_on(ctx) or resample_on(ctx)


def trials_on(ctx: Any) -> bool:
    """Creation trials (``creation_trials``)."""
    return bool(getattr(ctx, "creation_trials", False))


def probes_on(ctx: Any) -> bool:
    """Probes of actions the agent never called (``probe_unused``)."""
    return bool(getattr(ctx, "probe_unused", False))


def queries_on(ctx: Any) -> bool:
    """The learner is shown the state queries (``state_queries``)."""
    return bool(getattr(ctx, "state_queries", False))


def active(ctx: Any) -> list[str]:
    """The names (``AIDS``) of the aids on for ``ctx``: empty means the paper's method with no assist code."""
    on = {
        "compact_prompt": compact_prompt(ctx),
        "grammar": grammar_on(ctx),
        "resample_refused": resample_on(ctx),
        "creation_trials": trials_on(ctx),
        "probe_unused": probes_on(ctx),
        "state_queries": queries_on(ctx),
    }
    return [name for name in AIDS if on[name]]
