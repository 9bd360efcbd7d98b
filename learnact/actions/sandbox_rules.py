"""What learned code may contain, checked on its AST; and the rewrite that makes it safe to run.

Standard library only: the sandbox worker imports this file by path (it runs with ``python -I -S``
and never sees the project's packages), and the parent uses it for early, readable refusals.

The policy is a whitelist of builtins plus a blacklist of syntax and attribute names:
- no import, class, global, async, match, decorators (they run code at definition time);
- no identifier that starts with ``__`` (dunders are the door to ``__subclasses__``,
  ``__globals__``, ``__builtins__`` ...) and no attribute that starts with ``_``;
- no frame/code/traceback walking attributes (``gi_frame``, ``tb_frame``, ``f_back``, ``co_consts`` ...);
- ``str.format`` can read attributes from its format string (``'{0.__class__}'.format(x)``), so
  ``x.format(...)`` calls are rewritten to a checked formatter and any other use of ``format`` is refused.
"""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Collection

SAFE_BUILTIN_NAMES = (
    "len",
    "range",
    "enumerate",
    "zip",
    "min",
    "max",
    "sorted",
    "list",
    "dict",
    "set",
    "frozenset",
    "tuple",
    "str",
    "int",
    "float",
    "bool",
    "print",
    "isinstance",
    "any",
    "all",
    "abs",
    "sum",
    "reversed",
    "round",
    "map",
    "filter",
    "next",
    "iter",
    "repr",
    "chr",
    "ord",
    "divmod",
    "Exception",
    "ValueError",
    "TypeError",
    "KeyError",
    "IndexError",
    "RuntimeError",
    "AssertionError",
    "StopIteration",
    "LookupError",
    "ZeroDivisionError",
    "NotImplementedError",
)

# Named so that the message says *why*; unknown names would fail with NameError anyway.
FORBIDDEN_NAMES = frozenset(
    {
        "eval",
        "exec",
        "compile",
        "open",
        "globals",
        "locals",
        "vars",
        "getattr",
        "setattr",
        "delattr",
        "hasattr",
        "type",
        "object",
        "input",
        "breakpoint",
        "help",
        "dir",
        "memoryview",
        "super",
        "classmethod",
        "staticmethod",
        "property",
        "exit",
        "quit",
        "id",
        "format",
        "BaseException",
    }
)

# Attributes that walk from a value to frames, code objects or the interpreter.
_FRAME_ATTR = re.compile(r"^(gi|cr|ag|tb|f|co)_")
FORBIDDEN_ATTRIBUTES = frozenset({"mro", "format_map", "with_traceback"})

FORBIDDEN_NODES: dict[type, str] = {
    ast.Import: "import",
    ast.ImportFrom: "import",
    ast.ClassDef: "class definitions",
    ast.Global: "'global'",
    ast.AsyncFunctionDef: "async functions",
    ast.Await: "await",
    ast.AsyncFor: "async for",
    ast.AsyncWith: "async with",
}
if hasattr(ast, "Match"):  # class patterns look attributes up by name
    FORBIDDEN_NODES[ast.Match] = "match statements"

SAFE_FORMAT_NAME = "__sandbox_format__"
FORBIDDEN_STUB_NAME = "__sandbox_forbidden__"


class FormatViolation(Exception):
    """A format string tried to read an attribute."""


def _identifiers(node: ast.AST):
    for field in ("id", "name", "arg"):
        value = getattr(node, field, None)
        if isinstance(value, str):
            yield value
    names = getattr(node, "names", None)
    if isinstance(names, list):
        for n in names:
            yield n if isinstance(n, str) else getattr(n, "name", "")
    if isinstance(node, ast.keyword) and node.arg:
        yield node.arg


def function_problems(fn: ast.FunctionDef, primitives: Collection[str] = ()) -> list[str]:
    """Why ``fn`` may not run in the sandbox (empty list: it may). Messages carry line numbers.

    A forbidden builtin name that is also a primitive (ALFWorld's ``open``) is allowed: in the
    worker it is bound to the primitive's stub, and the builtin is not in the sandbox's builtins.
    """
    problems: list[str] = []
    format_calls = {id(n.func) for n in ast.walk(fn) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)}

    def add(node: ast.AST, what: str) -> None:
        problems.append(f"line {getattr(node, 'lineno', fn.lineno)}: {what} is not allowed")

    if fn.decorator_list:
        add(fn.decorator_list[0], "a decorator")
    for default in [*fn.args.defaults, *(d for d in fn.args.kw_defaults if d is not None)]:
        try:
            ast.literal_eval(default)
        except ValueError:
            add(default, f"the non-literal default value {ast.unparse(default)!r}")
    for node in ast.walk(fn):
        kind = FORBIDDEN_NODES.get(type(node))
        if kind:
            add(node, kind)
            continue
        for ident in _identifiers(node):
            if ident.startswith("__"):
                add(node, f"the name {ident!r} (names starting with '__')")
            elif ident in FORBIDDEN_NAMES and isinstance(node, ast.Name) and ident not in primitives:
                add(node, f"{ident!r}")
        if isinstance(node, ast.Attribute):
            attr = node.attr
            if attr.startswith("_"):
                add(node, f"the attribute {attr!r} (attributes starting with '_')")
            elif _FRAME_ATTR.match(attr) or attr in FORBIDDEN_ATTRIBUTES:
                add(node, f"the attribute {attr!r}")
            elif attr == "format" and id(node) not in format_calls:
                add(node, "'.format' other than as a direct call")
    return problems


def _checked_field(field_name: str) -> None:
    if "." in field_name or "__" in field_name:
        raise FormatViolation(f"format field {{{field_name}}} reads an attribute; use an f-string or + instead")


def check_format_string(fmt: str, depth: int = 0) -> None:
    """Refuse attribute access in a ``str.format`` template (also inside nested format specs)."""
    if depth > 2:
        raise FormatViolation("format string nested too deeply")
    for _, field_name, spec, _ in string.Formatter().parse(fmt):
        if field_name is not None:
            _checked_field(field_name)
        if spec:
            check_format_string(spec, depth + 1)


def safe_format(obj, *args, **kwargs):
    """What ``obj.format(*args, **kwargs)`` becomes inside the sandbox."""
    if obj is str:  # str.format(template, ...)
        if not args or not isinstance(args[0], str):
            raise TypeError("str.format needs a template string")
        check_format_string(args[0])
        return args[0].format(*args[1:], **kwargs)
    if isinstance(obj, str):
        check_format_string(obj)
        return obj.format(*args, **kwargs)
    raise TypeError(f"{type(obj).__name__} has no format method in the sandbox")


class _SandboxRewriter(ast.NodeTransformer):
    """Drop annotations (evaluated at definition time) and route ``.format`` through ``safe_format``."""

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        node.returns = None
        for arg in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs, node.args.vararg, node.args.kwarg]:
            if arg is not None:
                arg.annotation = None
        self.generic_visit(node)
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.func, ast.Attribute) and node.func.attr == "format":
            target = ast.Name(SAFE_FORMAT_NAME, ast.Load())
            return ast.copy_location(ast.Call(target, [node.func.value, *node.args], node.keywords), node)
        return node


def forbidden_stub(fn: ast.FunctionDef, problems: list[str]) -> ast.FunctionDef:
    """A same-named function, at the same lines, whose body only raises the refusal."""
    message = f"{fn.name} was refused by the sandbox: " + "; ".join(problems)
    call = ast.Call(ast.Name(FORBIDDEN_STUB_NAME, ast.Load()), [ast.Constant(message)], [])
    body = [ast.Expr(call)]
    args = ast.arguments(
        posonlyargs=[],
        args=[],
        vararg=ast.arg("args"),
        kwonlyargs=[],
        kw_defaults=[],
        kwarg=ast.arg("kwargs"),
        defaults=[],
    )
    stub = ast.FunctionDef(name=fn.name, args=args, body=body, decorator_list=[], returns=None, type_comment=None)
    return ast.fix_missing_locations(ast.copy_location(stub, fn))


def sandbox_module(code: str, primitives: Collection[str] = ()) -> tuple[ast.Module, dict[str, list[str]]]:
    """The module to compile in the worker: safe functions rewritten, refused ones stubbed.

    Returns (module, {function name: problems}) for the refused functions. Anything that is
    not a function definition at module level is dropped (the library never holds any).
    """
    tree = ast.parse(code)
    body: list[ast.stmt] = []
    refused: dict[str, list[str]] = {}
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        problems = function_problems(node, primitives)
        if problems:
            refused[node.name] = problems
            body.append(forbidden_stub(node, problems))
        else:
            body.append(_SandboxRewriter().visit(node))
    module = ast.Module(body=body, type_ignores=[])
    return ast.fix_missing_locations(module), refused
