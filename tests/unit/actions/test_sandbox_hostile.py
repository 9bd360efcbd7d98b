"""The hostile corpus: nothing escapes the sandbox, and the executor keeps working after each attempt.

Each case is one learned function ``evil`` run through ``Executor.run``; it must end with the
expected error kind, must not touch the parent (no file written, parent state intact), must
leave the environment as it was except for primitives it legitimately applied, and a benign
call right after must work.
"""

from __future__ import annotations

import os
import textwrap

import pytest
from sandbox_fakes import ToyGripper

from environments.base import PrimitiveSpec
from learnact.actions import ActionLibrary, Executor, Limits

BENIGN = '''
def carry(obj, src, dst, gripper):
    """Carry a ball."""
    pick(obj, src, gripper)
    move(src, dst)
    return drop(obj, dst, gripper)
'''
LIMITS = Limits(wall_s=1.5, memory_mb=128, output_chars=5_000, recursion=100, max_primitive_calls=10)
MARKER = "/tmp/learnact_sandbox_escape_marker"

# (id, body of evil(), expected error kind)
CORPUS = [
    ("import", "import os\nos.system('touch " + MARKER + "')", "forbidden"),
    ("from_import", "from os import system\nsystem('touch " + MARKER + "')", "forbidden"),
    ("open", "open('" + MARKER + "', 'w').write('x')", "forbidden"),
    ("dunder_import", "__import__('os').system('touch " + MARKER + "')", "forbidden"),
    ("builtins", "return __builtins__", "forbidden"),
    ("eval", "return eval('1 + 1')", "forbidden"),
    ("exec", "exec('x = 1')", "forbidden"),
    ("compile", "return compile('1', 'f', 'eval')", "forbidden"),
    ("subclasses", "return ().__class__.__bases__[0].__subclasses__()", "forbidden"),
    ("function_globals", "return carry.__globals__", "forbidden"),
    ("getattr", "return getattr(carry, '__globals__')", "forbidden"),
    ("type", "return type(carry)", "forbidden"),
    ("generator_frame", "g = (x for x in [1])\nreturn g.gi_frame.f_back.f_globals", "forbidden"),
    (
        "traceback_frame",
        "try:\n    1 / 0\nexcept Exception as e:\n    return e.__traceback__.tb_frame.f_back",
        "forbidden",
    ),
    ("tb_attr", "try:\n    1 / 0\nexcept Exception as e:\n    t = e.args\n    return t.tb_frame", "forbidden"),
    ("code_consts", "return carry.co_consts", "forbidden"),
    ("format_attr", "return '{0.__class__}'.format(1)", "forbidden"),
    ("format_nested_spec", "return '{0:{1.__class__}}'.format(1, 2)", "forbidden"),
    ("str_format_globals", "return str.format('{0.__globals__}', carry)", "forbidden"),
    ("format_reference", "f = '{0.__class__}'.format\nreturn f(1)", "forbidden"),
    ("format_map", "return '{x.real}'.format_map({'x': 1})", "forbidden"),
    ("mro", "return (1).mro()", "forbidden"),
    ("class_def", "class A:\n    pass\nreturn A", "forbidden"),
    ("global", "global move\nmove = None", "forbidden"),
    ("fork", "import os\nreturn os.fork()", "forbidden"),
    ("private_attr", "return carry._x", "forbidden"),
    ("infinite_loop", "while True:\n    pass", "timeout"),
    ("cpu_in_c", "return 10 ** (10 ** 9)", "timeout"),
    ("memory_bomb", "return [0] * (10 ** 10)", "memory"),
    ("memory_growth", "keep = []\nwhile True:\n    keep.append('x' * 10 ** 6)", "memory"),
    ("output_bomb", "while True:\n    print('x' * 1000)", "output_limit"),
    ("output_return", "return 'x' * 10 ** 6", "output_limit"),
    ("deep_recursion", "return evil()", "exception"),
    ("huge_exception", "raise ValueError('x' * 10 ** 7)", "exception"),
    ("primitive_flood", "while True:\n    move('rooma', 'roomb')\n    move('roomb', 'rooma')", "primitive_limit"),
    (
        "catch_stop_and_loop",
        "while True:\n    try:\n        move('nowhere', 'roomb')\n    except:\n        pass",
        "invalid_primitive",
    ),
    ("object_as_argument", "return move(carry, 'roomb')", "exception"),
    ("system_exit", "raise SystemExit(0)", "exception"),
]


@pytest.fixture(scope="module")
def marker_clean():
    if os.path.exists(MARKER):
        os.remove(MARKER)
    yield
    assert not os.path.exists(MARKER)


def evil_library(body: str) -> ActionLibrary:
    code = BENIGN + "\n\ndef evil():\n" + textwrap.indent(body, "    ") + "\n"
    return ActionLibrary.from_code(code)


@pytest.mark.parametrize(("body", "kind"), [pytest.param(b, k, id=i) for i, b, k in CORPUS])
def test_hostile_code_is_refused_or_killed_and_the_executor_recovers(body, kind, marker_clean):
    env = ToyGripper()
    before = env.state()
    pid, cwd = os.getpid(), os.getcwd()
    with Executor(env, evil_library(body), limits=LIMITS) as ex:
        r = ex.run("evil()")
        assert not r.ok and r.error is not None, r
        assert r.error.kind == kind, (r.error.kind, r.error.message[:500])
        assert r.is_learned and r.name == "evil" and r.observation
        assert len(r.error.message) < 3 * LIMITS.output_chars + 1000
        assert not os.path.exists(MARKER)
        assert (os.getpid(), os.getcwd()) == (pid, cwd)
        if kind == "primitive_limit":
            assert len(r.trace) == LIMITS.max_primitive_calls == env.steps and all(s.valid for s in r.trace)
            env.reset()
        elif kind == "invalid_primitive":
            assert [s.valid for s in r.trace] == [False] and env.steps == 1
        else:
            assert r.trace == [] and env.steps == 0
        assert env.state() == before
        after = ex.run("carry('ball1', 'rooma', 'roomb', 'left')")
        assert after.ok and len(after.trace) == 3 and env.at["ball1"] == "roomb", after


def test_forbidden_functions_do_not_spoil_the_rest_of_the_library():
    env = ToyGripper()
    lib = evil_library("import os")
    assert "evil" in lib.safety_problems()
    with Executor(env, lib, limits=LIMITS) as ex:
        r = ex.run("evil()")
        assert r.error.kind == "forbidden" and "import is not allowed" in r.error.message
        assert ex.run("carry('ball1', 'rooma', 'roomb', 'left')").ok
        assert ex.workers_started == 1  # a refusal needs no new worker


def test_a_killed_worker_is_replaced():
    env = ToyGripper()
    with Executor(env, evil_library("while True:\n    pass"), limits=LIMITS) as ex:
        assert ex.run("evil()").error.kind == "timeout"
        assert ex.run("evil()").error.kind == "timeout"
        assert ex.run("carry('ball1', 'rooma', 'roomb', 'left')").ok
        assert ex.workers_started == 3


def test_annotations_are_not_evaluated():
    env = ToyGripper()
    lib = ActionLibrary.from_code("def noisy(x: print('annotation ran') = 1) -> print('ran'):\n    return 'fine'\n")
    with Executor(env, lib, limits=LIMITS) as ex:
        r = ex.run("noisy()")
        assert r.ok and r.output == "" and r.observation == "fine"


def test_learned_calls_do_not_share_state_between_calls():
    env = ToyGripper()
    code = "def count(seen=[]):\n    seen.append(1)\n    return str(len(seen))\n"
    with Executor(env, ActionLibrary.from_code(code), limits=LIMITS) as ex:
        assert [ex.run("count()").observation for _ in range(3)] == ["1", "1", "1"]


class ToyWithOpen(ToyGripper):
    """ALFWorld has a primitive named like a forbidden builtin: ``open('drawer 1')``."""

    primitives = (*ToyGripper.primitives, PrimitiveSpec("open", ("receptacle",)))

    def _apply(self, name: str, args: tuple) -> str | None:
        if name == "open" and len(args) == 1:
            return None if args[0] == "drawer 1" else f"there is no {args[0]} here"
        return super()._apply(name, args)


OPENER = "def fetch():\n    open('drawer 1')\n    return open('/etc/passwd')\n"


def test_a_primitive_named_open_is_the_primitive_never_the_builtin():
    """Seen on ALFWorld: every learned action or program calling open('drawer 1') was refused."""
    env = ToyWithOpen()
    library = ActionLibrary.from_code(OPENER)
    assert library.safety_problems(primitives=[p.name for p in env.primitives]) == {}
    with Executor(env, library) as ex:
        result = ex.run("fetch()")
    assert [(t.action, t.valid) for t in result.trace] == [("open('drawer 1')", True), ("open('/etc/passwd')", False)]
    assert result.error.kind == "invalid_primitive" and "root:" not in result.observation  # the environment answered
    # Where `open` is no primitive, the name stays refused.
    assert "fetch" in library.safety_problems(primitives=[p.name for p in ToyGripper.primitives])
    with Executor(ToyGripper(), library) as ex:
        refused = ex.run("fetch()")
    assert refused.error.kind == "forbidden" and "'open' is not allowed" in refused.observation and not refused.trace
