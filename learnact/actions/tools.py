"""Learned actions as LangChain tools, so any tool-calling agent can use a library.

>>> with as_tools(library, env, primitives=True) as toolset:
...     agent = create_react_agent(model, toolset.tools)
...     agent.invoke({"messages": [("user", env.goal)]})
...     toolset.steps  # one step record per tool call, as in an episode's trace

Every tool call is one agent line run by the project's sandbox :class:`Executor` against the live
environment: a learned action runs in the worker process with its limits, each primitive inside it
stepped in ``env``. The tool returns the observation text; a call that fails (refused, raised, timed
out, hit an invalid primitive) returns the executor's explanation instead of raising, so the agent
can read it and try something else. The caller resets ``env``; the tool set holds no episode state
beyond the steps it records. Inside a run, ``nodes/runner.py`` ``episode_tools`` opens the episode (environment,
library, sandbox) as the episode graphs do and hands its tools over as this adapter.
"""

from __future__ import annotations

import ast
import keyword
import threading
from typing import Any

from langchain_core.tools import StructuredTool
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from environments.base import format_call

from .executor import Executor
from .library import ActionLibrary, LearnedAction


class _Args(BaseModel):
    # Parameter names come from learned code: one called model_name is a field like any other.
    model_config = ConfigDict(protected_namespaces=())


class ToolSet:
    """The tools of one library over one live environment, and the executor behind them.

    ``tools``: one :class:`StructuredTool` per offered learned action (helpers are not offered), then one
    per primitive with ``primitives=True``. ``steps``: a step record (``CallResult.as_step``) per call
    made through any tool, in the order they ran. Use as a context manager or call :meth:`close`.
    ``executor``: the sandbox of an episode opened elsewhere (``nodes/runner.py`` ``episode_tools``: its owner
    starts and closes it); else the tool set makes its own from ``executor_kwargs``.
    """

    def __init__(
        self,
        library: ActionLibrary,
        env,
        *,
        primitives: bool = False,
        executor: Executor | None = None,
        **executor_kwargs: Any,
    ) -> None:
        self.env = env
        self.library = library
        self._owns_executor = executor is None
        self.executor = Executor(env, library, **executor_kwargs) if executor is None else executor
        self.steps: list[dict[str, Any]] = []
        self.last_info: dict[str, Any] = {}
        self.first_observation = ""  # set where the tool set's episode was opened for it (episode_tools)
        # A ToolNode runs the tool calls of one message in threads; the environment takes one step at a time.
        self._lock = threading.RLock()
        self.tools: list[StructuredTool] = [self._learned_tool(a) for a in library.actions]
        if primitives:
            self.tools += [self._primitive_tool(p) for p in env.primitives]

    # ------------------------------------------------------------------ lifetime
    def __enter__(self) -> ToolSet:
        if self._owns_executor:
            self.executor.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_executor:
            self.executor.close()

    @property
    def success(self) -> bool:
        """The environment reported its goal reached after a call made through the tools."""
        return bool(self.last_info.get("success"))

    # ------------------------------------------------------------------ calls
    def run(self, line: str) -> str:
        """Run one agent line (what every tool does); returns what the agent reads, never raises."""
        with self._lock:
            try:
                result = self.executor.run(line)
            except Exception as exc:  # noqa: BLE001 - the agent gets the message, the tool stays usable
                self.executor.close()  # a learned call cut short leaves its worker waiting: the next call starts afresh
                return self._refuse(
                    line, f"the call could not run: {type(exc).__name__}: {exc}", None, kind="tool_error"
                )
            self.last_info.update(result.info or {})
            self.steps.append(result.as_step(len(self.steps), line))
            return result.observation

    def _refuse(self, line: str, message: str, name: str | None, kind: str = "arity") -> str:
        """Record and answer a call that never reached the environment."""
        observation = f"Invalid action: {message}"
        with self._lock:
            self.steps.append(
                {
                    "index": len(self.steps),
                    "action": line,
                    "observation": observation,
                    "ok": False,
                    "is_learned": name is not None,
                    "name": name,
                    "error_kind": kind,
                    "trace": [],
                }
            )
        return observation

    def _learned_tool(self, action: LearnedAction) -> StructuredTool:
        fields = _field_names(action.params)
        required = action.min_args
        spec: dict[str, Any] = {}
        for i, (param, field) in enumerate(zip(action.params, fields)):
            if param.startswith("*"):
                spec[field] = (
                    list[str],
                    Field(default_factory=list, description=f"any number of values for *{param[1:]}"),
                )
            elif i < required:
                spec[field] = (str, Field(description=param))
            else:
                spec[field] = (str | None, Field(default=None, description=f"{param} (optional)"))
        schema = create_model(f"{action.name}_args", __base__=_Args, **spec)

        def call(**kwargs: Any) -> str:
            args: list[Any] = []
            gap = None  # the first optional parameter left out: none after it can be given positionally
            for param, field in zip(action.params, fields):
                value = kwargs.get(field)
                if value is None or value == []:
                    gap = gap or param
                elif gap is not None:
                    message = f"{action.signature}: give {gap} before {param.lstrip('*')}"
                    return self._refuse(f"{action.name}(...)", message, action.name)
                elif param.startswith("*"):
                    args.extend(value)
                else:
                    args.append(value)
            return self.run(format_call(action.name, tuple(args)))

        return StructuredTool(
            name=action.name,
            description=_learned_description(action),
            args_schema=schema,
            func=call,
            handle_validation_error=_validation_message,
        )

    def _primitive_tool(self, primitive) -> StructuredTool:
        fields = _field_names(primitive.params)
        schema = create_model(
            f"{primitive.name}_args",
            __base__=_Args,
            **{f: (str, Field(description=p)) for p, f in zip(primitive.params, fields)},
        )

        def call(**kwargs: Any) -> str:
            return self.run(format_call(primitive.name, tuple(kwargs[f] for f in fields)))

        parts = [primitive.description or primitive.signature]
        parts += [
            f"{label}: {text}"
            for label, text in (("Preconditions", primitive.preconditions), ("Effects", primitive.effects))
            if text
        ]
        return StructuredTool(
            name=primitive.name,
            description=" ".join(parts),
            args_schema=schema,
            func=call,
            handle_validation_error=_validation_message,
        )


def as_tools(library: ActionLibrary, env, *, primitives: bool = False, **executor_kwargs: Any) -> ToolSet:
    """LangChain tools for ``library``'s learned actions (and ``env``'s primitives with ``primitives=True``).

    ``executor_kwargs`` go to :class:`Executor` (``limits=``, ``invalid_primitive=``). Use the result as a
    context manager (``with as_tools(library, env) as toolset: ... toolset.tools``) so that the sandbox worker
    stops at the end, or call ``close()``.
    """
    return ToolSet(library, env, primitives=primitives, **executor_kwargs)


def _learned_description(action: LearnedAction) -> str:
    fn = ast.parse(action.source).body[0]
    doc = ast.get_docstring(fn) if isinstance(fn, ast.FunctionDef) else None
    text = (doc or action.description or f"The learned action {action.signature}.").strip()
    if action.notes:
        text += "\nUsage notes:\n" + "\n".join(f"- {note}" for note in action.notes)
    return text


# Names a schema field cannot take: LangChain passes these to the tool itself or drops them (a keyword, such as
# gripper's ``move(from, to)``), and a BaseModel attribute (model_dump, json ...) breaks or shadows the model.
_TOOL_ARGS = frozenset({"self", "config", "run_manager", "callbacks"})


def _field_names(params: tuple[str, ...]) -> list[str]:
    """Schema field names for parameter names, distinct; calls are positional, so only the schema sees them."""
    names: list[str] = []
    for i, param in enumerate(params):
        name = param.lstrip("*_") or f"arg{i + 1}"  # pydantic refuses a leading underscore
        while name in names or name in _TOOL_ARGS or keyword.iskeyword(name) or hasattr(BaseModel, name):
            name += "_"
        names.append(name)
    return names


def _validation_message(error: Exception) -> str:
    errors = error.errors() if isinstance(error, ValidationError) else []
    found = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'arguments'}: {e['msg']}" for e in errors) or str(error)
    return f"Invalid action: the arguments do not fit the tool: {found}"
