"""GBNF grammars for llama.cpp's constrained decoding: the reply must be one action call.

``call_grammar({"pick": 3, "move": 2})`` admits exactly ``pick('a', 'b', 'c')`` or ``move('a', 'b')``
(single-quoted arguments, ", " between them). The ``root`` rule comes first on its own line so callers
can wrap it (nodes/act.py renames it to add a ``Think:`` alternative).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

_FREE_ARG = r"""arg ::= "'" [^'\n\\]+ "'" """.strip()


def gbnf_literal(text: str) -> str:
    """``text`` as a GBNF string literal."""
    escaped = (
        text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    )
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
    arities: dict[str, int | None] = (
        dict(action_names) if isinstance(action_names, Mapping) else {n: None for n in action_names}
    )
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
        lines.append(
            "arg ::= " + " | ".join(gbnf_literal(_python_quoted(v)) for v in values)
            if values is not None
            else _FREE_ARG
        )
    return "\n".join(lines) + "\n"


def rename_root(grammar: str, name: str) -> str:
    """``grammar`` with its ``root`` rule renamed, so a caller can put a new root around it."""
    return re.sub(r"^root(\s*::=)", name + r"\1", grammar, count=1, flags=re.MULTILINE)


def choice_grammar(
    calls: Iterable[str], action_names: Mapping[str, int] | None = None, arg_values: Iterable[str] | None = None
) -> str:
    """A grammar admitting exactly one of the literal ``calls`` (e.g. the environment's currently valid
    primitive calls), or one call to any of ``action_names`` (learned actions; arguments free, or one
    of ``arg_values`` each)."""
    literals = sorted(set(calls))
    if not literals and not action_names:
        raise ValueError("choice_grammar needs at least one call or action name")
    alternatives = ["choice"] if literals else []
    lines = [f"choice ::= {' | '.join(gbnf_literal(c) for c in literals)}"] if literals else []
    if action_names:
        alternatives.append("named")
        lines.append(rename_root(call_grammar(action_names, arg_values), "named").rstrip("\n"))
    return "\n".join([f"root ::= {' | '.join(alternatives)}", *lines]) + "\n"


def pool_grammar(
    pools: Mapping[str, Sequence[Sequence[str]]],
    refused: Mapping[str, Iterable[tuple[str, ...]]] | None = None,
    action_names: Mapping[str, int] | None = None,
    arg_values: Iterable[str] | None = None,
) -> str:
    """One call ``name(a1, ..., an)`` with each argument from its pool (``pools[name][i]``), except the argument
    tuples ``refused[name]``; or one call to any of ``action_names`` (learned actions, arguments from
    ``arg_values`` or free). Compact where listing every call would not be: ``take`` over 20 objects and 40
    receptacles is two alternations, not 800 literals (llama.cpp checks every vocabulary token against every
    alternative at each step). An action with an empty pool, or all of whose calls are refused, is left out."""
    rules: list[str] = []
    calls: list[str] = []
    for name, arg_pools in sorted(pools.items()):
        if not name.isidentifier():
            raise ValueError(f"action name {name!r} is not a Python identifier")
        excluded = {tuple(t) for t in (refused or {}).get(name, ())}
        if not arg_pools:
            if () not in excluded:
                calls.append(gbnf_literal(name + "()"))
            continue
        args = _pool_args(f"{name}-args", [list(dict.fromkeys(p)) for p in arg_pools], excluded, rules, first=True)
        if args is not None:
            calls.append(f'{gbnf_literal(name + "(")} ({args}) ")"')
    if not calls and not action_names:
        raise ValueError("pool_grammar: no call could be produced")
    alternatives = (["prim"] if calls else []) + (["named"] if action_names else [])
    lines = [f"root ::= {' | '.join(alternatives)}"]
    if calls:
        lines.append("prim ::= " + " | ".join(calls))
    lines += rules
    if action_names:
        lines.append(rename_root(call_grammar(action_names, arg_values), "named").rstrip("\n"))
    return "\n".join(lines) + "\n"


def _pool_args(
    rule: str, pools: list[list[str]], excluded: set[tuple[str, ...]], rules: list[str], first: bool
) -> str | None:
    """The GBNF expression of the arguments over ``pools`` (", " before each but the first) without the
    tuples in ``excluded``; rules it needs are appended to ``rules``. None when it admits nothing."""
    sep = "" if first else ", "

    def lit(v: str) -> str:
        return gbnf_literal(sep + _python_quoted(v))

    head, rest = pools[0], pools[1:]
    if not rest:
        values = [v for v in head if (v,) not in excluded]
        return " | ".join(lit(v) for v in values) if values else None
    by_first: dict[str, set[tuple[str, ...]]] = {}
    for t in excluded:
        if t and t[0] in head:
            by_first.setdefault(t[0], set()).add(t[1:])
    parts = []
    free = [v for v in head if v not in by_first]
    if free and (full := _pool_args(f"{rule}-{len(rules)}", rest, set(), rules, first=False)) is not None:
        name = f"{rule}-rest{len(rules)}"
        rules.append(f"{name} ::= {full}")
        parts.append(f"({' | '.join(lit(v) for v in free)}) {name}")
    for v in head:
        if (
            v in by_first
            and (sub := _pool_args(f"{rule}-{len(rules)}", rest, by_first[v], rules, first=False)) is not None
        ):
            parts.append(f"{lit(v)} ({sub})")
    return " | ".join(parts) or None


class GrammarError(ValueError):
    """A GBNF text llama.cpp would reject. Sending it anyway crashes llama-cpp-python's server
    (a failed grammar parse leaves a NULL sampler that it then uses), so it is checked here first."""


_ESCAPES = {"x": 2, "u": 4, "U": 8}
_SIMPLE_ESCAPES = set('tnr\\"[]')


class _GbnfChecker:
    """A syntax check that follows llama.cpp's grammar parser (llama-grammar.cpp): rules, literals,
    character classes, groups, repetition, and that every referenced rule and ``root`` are defined."""

    def __init__(self, text: str):
        self.s = text
        self.i = 0
        self.defined: set[str] = set()
        self.used: dict[str, int] = {}

    def fail(self, what: str) -> GrammarError:
        line = self.s.count("\n", 0, self.i) + 1
        return GrammarError(f"invalid GBNF grammar at line {line}: {what}")

    def space(self, newline_ok: bool) -> None:
        while self.i < len(self.s):
            c = self.s[self.i]
            if c == "#":
                while self.i < len(self.s) and self.s[self.i] not in "\r\n":
                    self.i += 1
            elif c in " \t" or (newline_ok and c in "\r\n"):
                self.i += 1
            else:
                return

    def name(self) -> str:
        start = self.i
        while self.i < len(self.s) and (self.s[self.i].isalnum() or self.s[self.i] == "-") and self.s[self.i].isascii():
            self.i += 1
        if self.i == start:
            raise self.fail(f"expecting a rule name at {self.s[start : start + 12]!r}")
        return self.s[start : self.i]

    def char(self, end: str) -> None:
        if self.i >= len(self.s) or self.s[self.i] in "\r\n":
            raise self.fail("unterminated literal" if end == '"' else "unterminated character class")
        if self.s[self.i] == "\\":
            self.i += 1
            c = self.s[self.i : self.i + 1]
            if c in _ESCAPES:
                digits = self.s[self.i + 1 : self.i + 1 + _ESCAPES[c]]
                if len(digits) != _ESCAPES[c] or any(d not in "0123456789abcdefABCDEF" for d in digits):
                    raise self.fail(f"bad \\{c} escape")
                self.i += 1 + _ESCAPES[c]
            elif c in _SIMPLE_ESCAPES:
                self.i += 1
            else:
                raise self.fail(f"unknown escape \\{c}")
        else:
            self.i += 1

    def sequence(self, nested: bool) -> None:
        items = 0
        while self.i < len(self.s):
            c = self.s[self.i]
            if c == '"':
                self.i += 1
                while self.i < len(self.s) and self.s[self.i] != '"':
                    self.char('"')
                if self.i >= len(self.s):
                    raise self.fail("unterminated literal")
                self.i += 1
            elif c == "[":
                self.i += 1
                if self.s[self.i : self.i + 1] == "^":
                    self.i += 1
                while self.i < len(self.s) and self.s[self.i] != "]":
                    self.char("]")
                if self.i >= len(self.s):
                    raise self.fail("unterminated character class")
                self.i += 1
            elif c == "(":
                self.i += 1
                self.space(True)
                self.alternates(nested=True)
                if self.s[self.i : self.i + 1] != ")":
                    raise self.fail("expecting ')'")
                self.i += 1
            elif c == ".":
                self.i += 1
            elif c.isalnum() or c == "-":
                start = self.i
                self.used.setdefault(self.name(), start)
            elif c in "*+?" and items:
                self.i += 1
            elif c == "{" and items:
                end = self.s.find("}", self.i)
                inner = self.s[self.i + 1 : end].replace(" ", "") if end > 0 else ""
                lo, _, hi = inner.partition(",")
                if end < 0 or not lo.isdigit() or (hi and not hi.isdigit()):
                    raise self.fail("bad {m,n} repetition")
                self.i = end + 1
            else:
                return
            items += 1
            self.space(nested)

    def alternates(self, nested: bool) -> None:
        self.sequence(nested)
        while self.s[self.i : self.i + 1] == "|":
            self.i += 1
            self.space(True)
            self.sequence(nested)

    def check(self) -> None:
        self.space(True)
        while self.i < len(self.s):
            rule = self.name()
            self.space(False)
            if self.s[self.i : self.i + 3] != "::=":
                raise self.fail(f"expecting ::= after {rule!r}")
            self.i += 3
            self.space(True)
            self.alternates(nested=False)
            if self.i < len(self.s) and self.s[self.i] not in "\r\n":
                raise self.fail(f"unexpected {self.s[self.i : self.i + 12]!r}")
            self.defined.add(rule)
            self.space(True)
        if "root" not in self.defined:
            raise GrammarError("invalid GBNF grammar: no 'root' rule")
        undefined = sorted(set(self.used) - self.defined)
        if undefined:
            raise GrammarError(f"invalid GBNF grammar: undefined rule {undefined[0]!r}")


def validate_gbnf(grammar: str) -> str:
    """Return ``grammar`` unchanged, or raise ``GrammarError`` with a one-line reason."""
    _GbnfChecker(grammar).check()
    return grammar
