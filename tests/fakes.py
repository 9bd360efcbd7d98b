"""A scripted LangChain chat model for unit tests: the reply is a function of the prompt.

Parallel graph branches call the model in any order, so a reply list (FakeListChatModel) would
be racy; a function of the messages is deterministic whatever the order. A reply function that
takes a third parameter ``node`` also gets the calling node's tag (``learn.create``, ``learn.fix``,
``learn.demonstrate``, ``act.decide`` ...), which is steadier to pick replies by than prompt wording.
"""
from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult


class ScriptedChatModel(BaseChatModel):
    respond: Callable[..., str]  # (system text, user text[, node]) -> reply
    calls: list[dict[str, Any]] = []

    model_config = {"arbitrary_types_allowed": True}

    def __init__(self, respond: Callable[[str, str], str], **kwargs: Any):
        super().__init__(respond=respond, calls=[], **kwargs)
        self._lock = threading.Lock()
        self._wants_node = "node" in inspect.signature(respond).parameters

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(self, messages: list[BaseMessage], stop=None, run_manager=None, **kwargs: Any) -> ChatResult:
        system = "\n".join(str(m.content) for m in messages if m.type == "system")
        user = "\n".join(str(m.content) for m in messages if m.type != "system")
        node = ((run_manager.metadata if run_manager is not None else None) or {}).get("node")
        text = self.respond(system, user, node) if self._wants_node else self.respond(system, user)
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
