"""ActionLibrary: AST parsing, helpers, rendering, immutable updates, notes, JSON round trip."""

from __future__ import annotations

import json

import pytest

from learnact.actions import ActionLibrary, ActionLibraryError, LearnedAction

CARRY = '''def carry(obj, src, dst, gripper):
    """Carry a ball from one room to another with one gripper.

    More text that is not the description.
    """
    pick(obj, src, gripper)
    move(src, dst)
    return _drop(obj, dst, gripper)


def _drop(obj, room, gripper):
    return drop(obj, room, gripper)


def shuttle(a: str, b: str = "roomb", *rest) -> str:
    move(a, b)
'''


def test_functions_helpers_descriptions_and_signatures():
    lib = ActionLibrary.from_code(CARRY)
    assert lib.names == ("carry", "shuttle")
    assert [h.name for h in lib.helpers] == ["_drop"]
    carry = lib.get("carry")
    assert carry.description == "Carry a ball from one room to another with one gripper."
    assert carry.params == ("obj", "src", "dst", "gripper") and carry.version == 1 and carry.parent_version is None
    shuttle = lib.get("shuttle")
    assert shuttle.signature == "shuttle(a, b='roomb', *rest)"  # annotations are prompt noise
    assert shuttle.accepts(1) and shuttle.accepts(5) and not shuttle.accepts(0)
    assert lib.get("_drop").is_helper and lib.get("missing") is None
    rendered = lib.render_actions()
    assert "- carry(obj, src, dst, gripper): Carry a ball" in rendered and "_drop" not in rendered
    assert "More text" not in rendered


def test_code_round_trips_and_keeps_comments_inside_functions():
    code = "def f(x):\n    # why: a comment\n    return move(x, x)\n"
    lib = ActionLibrary.from_code(code)
    assert "# why: a comment" in lib.code
    assert ActionLibrary.from_code(lib.code) == lib


def test_llm_reply_with_fences_and_a_module_docstring():
    reply = 'Here you go:\n```python\n"""My actions."""\n# helper comment\ndef go(a, b):\n    return move(a, b)\n```\nHope it helps.'
    assert ActionLibrary.from_code(reply).names == ("go",)


@pytest.mark.parametrize(
    ("code", "needle"),
    [
        ("import os\ndef f():\n    pass\n", "line 1: module-level statement 'import os'"),
        ("x = open('/etc/passwd').read()\ndef f():\n    pass\n", "it was not run"),
        ("def f(:\n    pass\n", "syntax error at line 1"),
        ("def f():\n    pass\ndef f():\n    pass\n", "defined twice"),
        ("print('hi')\n", "module-level statement"),
        ("# only a comment\n", "defines no function"),
        ("async def f():\n    pass\n", "module-level statement"),
    ],
)
def test_code_that_cannot_be_a_library_is_refused_clearly(code, needle):
    with pytest.raises(ActionLibraryError, match=None) as info:
        ActionLibrary.from_code(code)
    assert needle in str(info.value)
    assert isinstance(info.value, ValueError)


def test_module_level_code_is_never_run(tmp_path):
    marker = tmp_path / "ran"
    with pytest.raises(ActionLibraryError):
        ActionLibrary.from_code(f"open({str(marker)!r}, 'w').write('x')\ndef f():\n    pass\n")
    assert not marker.exists()


def test_names_colliding_with_primitives_are_an_error():
    with pytest.raises(ActionLibraryError, match="collide with primitive"):
        ActionLibrary.from_code("def move(a, b):\n    pass\n", primitives=("move", "pick"))


def test_update_versions_only_changed_functions_and_keeps_notes():
    lib = ActionLibrary.from_code(CARRY).with_note("carry", "Only call it in src.", iteration=1, reason="plan")
    assert lib.get("carry").version == 2 and lib.get("carry").notes == ["Only call it in src."]
    new_carry = CARRY.replace("    move(src, dst)\n", "    move(src, dst)\n    move(dst, dst)\n")
    updated, changed = lib.with_update(
        new_carry + "\n\ndef extra(x):\n    return move(x, x)\n", iteration=2, reason="fix"
    )
    assert changed == ["carry", "extra"]
    carry = updated.get("carry")
    assert (carry.version, carry.parent_version, carry.iteration, carry.reason) == (3, 2, 2, "fix")
    assert carry.notes == ["Only call it in src."]  # never silently lost
    assert carry.description.startswith("Carry a ball")
    assert updated.get("_drop") is lib.get("_drop") and updated.get("shuttle").version == 1
    assert updated.names == ("carry", "shuttle", "extra")
    # the original value is untouched
    assert lib.get("carry").version == 2 and lib.get("extra") is None


def test_update_without_docstring_keeps_the_old_description():
    lib = ActionLibrary.from_code(CARRY)
    updated, changed = lib.with_update(
        "def carry(obj, src, dst, gripper):\n    move(src, dst)\n", iteration=1, reason="r"
    )
    assert changed == ["carry"] and updated.get("carry").description.startswith("Carry a ball")


def test_notes_and_descriptions_render_for_prompts():
    lib = ActionLibrary.from_code(CARRY)
    lib = lib.with_note("carry", "Robby must be in src.", iteration=1, reason="plan")
    lib = lib.with_descriptions({"shuttle": "Move back and forth.\nignored second line"})
    assert lib.get("shuttle").description == "Move back and forth." and lib.get("shuttle").version == 2
    assert "- shuttle(a, b='roomb', *rest): Move back and forth." in lib.render_actions()
    assert lib.render_notes() == "- carry: Robby must be in src."
    with pytest.raises(ActionLibraryError, match="no such action"):
        lib.with_note("ghost", "x", iteration=1, reason="r")


def test_dict_round_trip_is_exact_and_json_able():
    lib = ActionLibrary.from_code(CARRY).with_note("carry", "note", iteration=3, reason="plan")
    d = json.loads(json.dumps(lib.to_dict()))
    assert ActionLibrary.from_dict(d) == lib
    assert ActionLibrary.from_dict(None) == ActionLibrary.empty() and not ActionLibrary.empty().actions
    assert isinstance(lib.get("carry"), LearnedAction)
    with pytest.raises(ActionLibraryError):
        ActionLibrary.from_dict({"actions": [{"name": "x"}]})


def test_safety_problems_are_reported_up_front():
    lib = ActionLibrary.from_code(
        "def a():\n    import os\n\ndef b(x):\n    return x.__class__\n\ndef ok():\n    return 1\n"
    )
    problems = lib.safety_problems()
    assert set(problems) == {"a", "b"}
    assert "line 2: import" in problems["a"][0] and "__class__" in problems["b"][0]


def test_a_code_text_is_parsed_once_and_each_parse_gives_its_own_values():
    from learnact.actions.library import _parsed

    code = 'def once(x):\n    """Parsed once."""\n    return x\n'
    misses = _parsed.cache_info().misses
    first, second = ActionLibrary.from_code(code), ActionLibrary.from_code(code, iteration=3, reason="again")
    assert _parsed.cache_info().misses == misses + 1
    assert first.get("once").notes is not second.get("once").notes and second.get("once").iteration == 3
    with pytest.raises(ActionLibraryError, match="syntax error"):
        ActionLibrary.from_code("def broken(:\n")
    with pytest.raises(ActionLibraryError, match="syntax error"):  # an error is not cached as a value
        ActionLibrary.from_code("def broken(:\n")


def test_an_update_from_a_checked_library_equals_the_update_from_its_code():
    base = ActionLibrary.from_code("def a(x):\n    return x\n\n\ndef b(y):\n    return y\n").with_note(
        "a", "first", iteration=1, reason="plan"
    )
    checked = ActionLibrary.from_code("def a(x):\n    return [x]\n\n\ndef c(z):\n    return z\n")
    from_value = base.with_update(checked, iteration=2, reason="update")
    from_code = base.with_update(checked.code, iteration=2, reason="update")
    assert from_value == from_code and from_value[1] == ["a", "c"] and from_value[0].get("a").version == 3
