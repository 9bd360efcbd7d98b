"""The small-model aids, as one layer over the paper's method.

The core nodes run the reference's method. Each aid is switched by its own ``Context`` field and reached through
one hook; a core node reads the switch (``switches``) first and calls the hook only when it is on, so with every
aid off no code of this package runs (tests/unit/nodes/test_assist.py counts it).

Hooks: ``agent_messages`` (the compact prompt), ``decode`` (grammar, resampling), ``creation_trials``,
``unused_action_failures`` (probes), ``learner_queries`` (state queries); which core node calls each, under which
switch: ARCHITECTURE.md, "The small-model aids".
"""

from __future__ import annotations

from .agent_prompt import agent_messages
from .creation_trials import creation_trials
from .decode import decode
from .probes import unused_action_failures
from .state_queries import learner_queries
from .switches import active, compact_prompt, decoding_on, grammar_on, probes_on, queries_on, resample_on, trials_on

__all__ = [
    "active",
    "agent_messages",
    "compact_prompt",
    "creation_trials",
    "decode",
    "decoding_on",
    "grammar_on",
    "learner_queries",
    "probes_on",
    "queries_on",
    "resample_on",
    "trials_on",
    "unused_action_failures",
]
