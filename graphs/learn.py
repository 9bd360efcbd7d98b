"""The learning loop.

START -> create_candidate (xK, Send: the creation subgraph, graphs/create.py) -> gather -> rollout (candidates x instances, Send) -> score
score -> identify_errors -> revise_candidate (xK, Send) -> gather -> rollout ... (the loop)
identify_errors -> finalize -> END      (a stop rule: plateau of the best score, round cap, or nothing failed)
gather -> review -> rollout   (Context.review: a person approves, rejects or edits the new code; nodes/review.py)
"""

from __future__ import annotations

from functools import partial

from langgraph.graph import END, START, StateGraph

from nodes.context import Context
from nodes.create import plan_creation
from nodes.learn import (
    finalize,
    gather_candidates,
    identify_errors,
    plan_rollouts,
    rollout,
    route_after_errors,
    score_round,
)
from nodes.learn_state import LearnInput, LearnState
from nodes.review import review_code, route_after_gather
from nodes.revise import revise_candidate

from .act import build_act_graph
from .create import build_creation_graph
from .repair import build_repair_graph


def build_learn_graph(checkpointer=None, rollout_graph=None):
    """``rollout_graph``: the episode graph the candidates are rolled out with (default: Act, never
    checkpointed: it runs inside a rollout node); ``Context.rollout_graph`` overrides it per run."""
    rollout_graph = rollout_graph if rollout_graph is not None else build_act_graph(checkpointer=False)
    graph = StateGraph(LearnState, context_schema=Context, input_schema=LearnInput)
    graph.add_node("create_candidate", build_creation_graph())
    graph.add_node("gather", gather_candidates)
    graph.add_node("rollout", partial(rollout, episode_graph=rollout_graph))
    graph.add_node("score", score_round)
    graph.add_node("identify_errors", identify_errors)
    # An Update goes through the same check-and-repair loop as creation (graphs/repair.py), run by the revision node.
    graph.add_node("revise_candidate", partial(revise_candidate, repair_graph=build_repair_graph(checkpointer=False)))
    graph.add_node("finalize", finalize)
    graph.add_node("review", review_code)  # a person in the loop (Context.review): pauses with interrupt()

    graph.add_conditional_edges(START, plan_creation, ["create_candidate"])
    graph.add_edge("create_candidate", "gather")
    graph.add_conditional_edges("gather", route_after_gather, ["review", "rollout", "score"])
    graph.add_conditional_edges("review", plan_rollouts, ["rollout", "score"])
    graph.add_edge("rollout", "score")
    graph.add_edge("score", "identify_errors")
    graph.add_conditional_edges("identify_errors", route_after_errors, ["revise_candidate", "finalize"])
    graph.add_edge("revise_candidate", "gather")
    graph.add_edge("finalize", END)
    return graph.compile(checkpointer=checkpointer, name="learn")
