"""GBNF grammars for llama.cpp's constrained decoding: the reply must be one action call.

``call_grammar({"pick": 3, "move": 2})`` admits exactly ``pick('a', 'b', 'c')`` or ``move('a', 'b')``
(single-quoted arguments, ", " between them). The ``root`` rule comes first on its own line so callers
can wrap it (nodes/act.py renames it to add a ``Think:`` alternative).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

_FREE_ARG = r"""arg ::= "'" [^'\n\\]+ "'" """.strip()


def gbnf_literal(text: str) -> str:
    """``text`` as a GBNF string literal."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f'"{escaped}"'


def _python_quoted(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _call_rule(name: str, arity: int | None) -> str:
    if arity is None:  # unknown arity: zero or more arguments
        return f'{gbnf_literal(name + "(")} args? ")"'
    if arity == 0:
        return gbnf_literal(name + "()")
    return " ".join([gbnf_literal(name + "("), *(["arg", '", "'] * arity)[:-1], '")"'])


def call_grammar(action_names: Iterable[str] | Mapping[str, int], arg_values: Iterable[str] | None = None) -> str:
    """A grammar admitting exactly one call over ``action_names`` (a list, or ``{name: arity}``).

    With ``arg_values`` every argument must be one of them; otherwise any single-quoted text
    without quotes, backslashes or newlines.
    """
    arities: dict[str, int | None] = dict(action_names) if isinstance(action_names, Mapping) else {n: None for n in action_names}
    if not arities:
        raise ValueError("call_grammar needs at least one action name")
    for name, arity in arities.items():
        if not name.isidentifier():
            raise ValueError(f"action name {name!r} is not a Python identifier")
        if arity is not None and (not isinstance(arity, int) or arity < 0):
            raise ValueError(f"arity of {name!r} must be a non-negative integer, got {arity!r}")
    lines = ["root ::= " + " | ".join(f"call{i}" for i in range(len(arities)))]
    lines += [f"call{i} ::= {_call_rule(name, arity)}" for i, (name, arity) in enumerate(sorted(arities.items()))]
    if any(a is None for a in arities.values()):
        lines.append('args ::= arg (", " arg)*')
    values = None if arg_values is None else sorted(set(arg_values))
    if values is not None and not values:
        raise ValueError("arg_values is empty: no argument could be produced")
    if any(a for a in arities.values()) or any(a is None for a in arities.values()):
        lines.append("arg ::= " + " | ".join(gbnf_literal(_python_quoted(v)) for v in values) if values is not None else _FREE_ARG)
    return "\n".join(lines) + "\n"
