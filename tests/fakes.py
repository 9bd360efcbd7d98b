"""A scripted LangChain chat model for unit tests: the reply is picked by the calling node, then made from the prompt.

Parallel graph branches call the model in any order, so a reply list (FakeListChatModel) would
be racy; a function of the messages is deterministic whatever the order. Every call carries the calling
node's tag (``learn.create``, ``learn.fix``, ``learn.demonstrate``, ``learn.revise``, ``act.decide``,
``react.decide``, ``code_as_policy.write``, ``reflexion.reflect``): a model scripted with a mapping
node -> reply (:func:`by_node`) answers each node with its own reply and fails on a node it has no reply for,
so that editing a prompt's wording cannot silently change which reply a test gets. A plain reply function
(system, user) serves a model only one node calls; one taking a third parameter ``node`` gets the tag.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable, Mapping
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

Reply = str | Callable[[str, str], str]  # a fixed text, or a function of (system text, user text)


def answer(respond: Callable[..., str], system: str, user: str, node: str | None) -> str:
    """``respond``'s reply, given the node's tag when it takes one (a parameter named ``node``)."""
    wants_node = "node" in inspect.signature(respond).parameters
    return respond(system, user, node) if wants_node else respond(system, user)


def by_node(replies: Mapping[str, Reply]) -> Callable[[str, str, str | None], str]:
    """A reply function that answers each node (its tag) with its own reply; a node with none fails the test."""

    def respond(system: str, user: str, node: str | None) -> str:
        if node not in replies:
            raise AssertionError(f"no scripted reply for node {node!r}; scripted: {', '.join(sorted(replies))}")
        reply = replies[node]
        return reply(system, user) if callable(reply) else reply

    return respond


class ScriptedChatModel(BaseChatModel):
    respond: Callable[..., str]  # (system text, user text[, node]) -> reply
    calls: list[dict[str, Any]] = []

    model_config = {"arbitrary_types_allowed": True}

    def __init__(self, respond: Callable[..., str] | Mapping[str, Reply], **kwargs: Any):
        """``respond``: node -> reply (see :func:`by_node`), or a reply function of (system, user[, node])."""
        if isinstance(respond, Mapping):
            respond = by_node(respond)
        super().__init__(respond=respond, calls=[], **kwargs)
        self._lock = threading.Lock()

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(self, messages: list[BaseMessage], stop=None, run_manager=None, **kwargs: Any) -> ChatResult:
        system = "\n".join(str(m.content) for m in messages if m.type == "system")
        user = "\n".join(str(m.content) for m in messages if m.type != "system")
        node = ((run_manager.metadata if run_manager is not None else None) or {}).get("node")
        text = answer(self.respond, system, user, node)
        if stop:
            for s in stop:
                if s in text:
                    text = text[: text.index(s)]
        with self._lock:
            self.calls.append({"system": system, "user": user, "reply": text, "kwargs": kwargs, "node": node})
        usage = {"input_tokens": len(system + user) // 4, "output_tokens": max(1, len(text) // 4)}
        usage["total_tokens"] = usage["input_tokens"] + usage["output_tokens"]
        message = AIMessage(content=text, usage_metadata=usage)
        return ChatResult(generations=[ChatGeneration(message=message)])


def calls_of(model: ScriptedChatModel, node: str) -> list[dict[str, Any]]:
    """The calls ``node`` made to ``model``, oldest first."""
    return [c for c in model.calls if c["node"] == node]


# The node tag of the calls that render each prompt template (nodes/act.py, create.py, learning/checks.py, revise.py,
# reflexion.py, code_policy.py).
NODE_OF_TEMPLATE = {
    "act": "act.decide",
    "act_compact": "act.decide",
    "react": "react.decide",
    "react_compact": "react.decide",
    "create_actions": "learn.create",
    "fix_actions": "learn.fix",
    "demonstrate": "learn.demonstrate",
    "revise_actions": "learn.revise",
    "reflect": "reflexion.reflect",
    "code_as_policy": "code_as_policy.write",
    "describe_action": "learn.describe",
}


def node_of_prompt(system: str, user: str = "") -> str | None:
    """The node tag of a request that arrives without one (over HTTP, at the stub server): the node whose template's
    system text, up to its first placeholder, opens ``system`` (the longest such opening); failing that, the paper
    template (``--prompt-set paper``: mostly one user message) all of whose fixed parts ``user`` holds in order (the
    one with the most fixed text). Read from the templates themselves, so rewording a prompt changes nothing here."""
    found = [(len(text), node) for node, text in _template_openings() if text and system.strip().startswith(text)]
    if found:
        return max(found)[1]
    found = [(sum(map(len, parts)), node) for node, parts in _paper_parts() if _in_order(parts, user)]
    return max(found)[1] if found else None


def _in_order(parts: tuple[str, ...], text: str) -> bool:
    at = 0
    for part in parts:
        at = text.find(part, at)
        if at < 0:
            return False
        at += len(part)
    return True


@functools.cache
def _paper_parts() -> tuple[tuple[str, tuple[str, ...]], ...]:
    from prompts import PromptSet
    from prompts.loader import PAPER_TEMPLATE_DIR, PLACEHOLDER

    prompts = PromptSet(prompt_set="paper")
    out = []
    for name, node in NODE_OF_TEMPLATE.items():
        if (PAPER_TEMPLATE_DIR / f"{name}.md").is_file():
            parts = tuple(p.strip() for p in PLACEHOLDER.split(prompts.get(name).user)[::2] if p.strip())
            out.append((node, parts))
    return tuple(out)


@functools.cache
def _template_openings() -> tuple[tuple[str, str], ...]:
    from prompts import PromptSet
    from prompts.loader import PLACEHOLDER

    prompts = PromptSet()
    return tuple(
        (node, PLACEHOLDER.split(prompts.get(name).system)[0].strip()) for name, node in NODE_OF_TEMPLATE.items()
    )
