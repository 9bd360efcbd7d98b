"""TextEnv declares, with defaults, every method the nodes call: an environment with only primitives, a goal,
reset and step works in the nodes that once probed for the rest; the contract check wants a TextEnv."""

from __future__ import annotations

from types import SimpleNamespace

from environments.base import PrimitiveSpec, TextEnv
from environments.registry import check_contract
from learnact.actions import ActionLibrary
from nodes.act import _world
from nodes.assist.decode import agent_grammar
from nodes.assist.state_queries import learner_queries as render_queries


class Bare(TextEnv):
    """Only what TextEnv leaves to a subclass."""

    primitives = (PrimitiveSpec("go", ("room",)),)
    goal = "be in the hall"

    def reset(self, *, seed=None, options=None):
        return "You are in the kitchen.", {"valid": True, "success": False, "progress": 0.0, "goal": self.goal}

    def step(self, action):
        return (
            "You are in the hall.",
            1.0,
            True,
            False,
            {"valid": True, "success": True, "progress": 1.0, "goal": self.goal},
        )


def test_the_defaults_say_not_known_here():
    env = Bare()
    assert env.objects == () and env.state is None and env.observe() == "" and env.valid_actions() is None
    assert env.call_pools() is None and env.typed_calls() is None and env.changing_predicates() is None
    assert env.objects_for("room") == () and env.goal_objects() == () and env.facts() == [] and env.state_view() is None


def test_nodes_call_the_declared_methods_of_a_bare_environment():
    env = Bare()
    runtime = SimpleNamespace(env=env, library=ActionLibrary.from_code("def there(room):\n    return go(room)\n"))
    for valid_only, typed in ((True, False), (False, True)):  # nothing listed: any well-formed offered call
        grammar = agent_grammar(runtime, valid_only=valid_only, typed=typed)
        assert '"go("' in grammar and '"there("' in grammar
    assert _world(env) is None  # no state, nothing observed: a step's "no change" cannot be told
    assert render_queries(env) == ""  # no facts: the learner is not told about find()


def test_the_contract_check_wants_a_text_env():
    assert check_contract(Bare()) == []
    duck = SimpleNamespace(primitives=Bare.primitives, goal="g", reset=Bare().reset)
    assert check_contract(duck) == [
        "make() must return an environments.TextEnv (it declares what the nodes call), got SimpleNamespace"
    ]
