"""The small-model aids, as one layer over the paper's method.

The core nodes run the reference's method. Each aid is switched by its own ``Context`` field and reached through
one hook; a core node reads the switch (``switches``) first and calls the hook only when it is on, so with every
aid off no code of this package runs (tests/unit/nodes/test_assist.py counts it).

| aid | switch (``Context``) | hook | called from |
|---|---|---|---|
| compact prompt, worked steps | ``agent_prompt == "compact"`` (+ ``recent_steps``) | ``agent_messages`` | nodes/act.py ``act_messages`` |
| grammar | ``use_grammar`` (+ ``valid_actions_only``, ``typed_grammar``) and the embedded model | ``decode`` | nodes/act.py ``_decide`` |
| resampling a refused call | ``resample_refused`` > 0 | ``decode`` | nodes/act.py ``_decide`` |
| creation trials | ``creation_trials`` | ``creation_trials`` | nodes/learning/smoke.py ``sandbox_check`` |
| probes of unused actions | ``probe_unused`` | ``unused_action_failures`` | nodes/learn.py ``identify_errors`` |
| state queries | ``state_queries`` | ``learner_queries`` | nodes/learning/checks.py ``primitives_of`` |
"""
from __future__ import annotations

from .agent_prompt import agent_messages
from .creation_trials import creation_trials
from .decode import decode
from .probes import unused_action_failures
from .state_queries import learner_queries
from .switches import active, compact_prompt, decoding_on, grammar_on, probes_on, queries_on, resample_on, trials_on

__all__ = [
    "active", "agent_messages", "compact_prompt", "creation_trials", "decode", "decoding_on", "grammar_on",
    "learner_queries", "probes_on", "queries_on", "resample_on", "trials_on", "unused_action_failures",
]  # fmt: skip
