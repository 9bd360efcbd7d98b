"""ActionStore: every version on disk, exact reload, snapshots, diffs, never overwriting."""

from __future__ import annotations

import json

import pytest

from learnact.actions import ActionLibrary, ActionLibraryError, ActionStore, load_actions_file

V1 = '''def carry(obj, src, dst, gripper):
    """Carry a ball."""
    pick(obj, src, gripper)
    move(src, dst)
    return drop(obj, dst, gripper)


def _helper(x):
    return x
'''
V2 = V1.replace("    move(src, dst)\n", "    move(src, dst)  # go\n")


def lineage():
    lib1 = ActionLibrary.from_code(V1)
    lib2 = lib1.with_note("carry", "Start in src.", iteration=1, reason="plan: robby was elsewhere")
    lib3, _ = lib2.with_update(V2, iteration=2, reason="update: comment")
    return lib1, lib2, lib3


def test_every_version_is_written_readably_and_reloads_exactly(tmp_path):
    store = ActionStore(tmp_path / "library")
    lib1, lib2, lib3 = lineage()
    assert not store.has_history()
    tags = [
        store.save(lib, iteration=i, reason=f"round {i}", scores={"s": i / 2})
        for i, lib in enumerate((lib1, lib2, lib3))
    ]
    assert tags == ["s1", "s2", "s3"] and store.has_history()
    assert store.versions("carry") == [1, 2, 3] and store.versions("_helper") == [1]
    assert store.load() == lib3 and store.load("s1") == lib1 and store.load(2) == lib2
    v2 = (tmp_path / "library" / "carry" / "v2.py").read_text()
    assert v2.startswith("# carry v2 (parent v1) · iteration 1 · reason: plan: robby was elsewhere")
    assert "# note: Start in src." in v2 and "def carry(obj, src, dst, gripper):" in v2
    compile(v2, "v2.py", "exec")  # a readable, valid Python file
    history = [json.loads(line) for line in (tmp_path / "library" / "history.jsonl").read_text().splitlines()]
    assert [(h["name"], h["version"], h["parent_version"]) for h in history] == [
        ("carry", 1, None),
        ("_helper", 1, None),
        ("carry", 2, 1),
        ("carry", 3, 2),
    ]
    assert history[2]["scores"] == {"s": 0.5} and history[2]["notes"] == ["Start in src."]


def test_saving_the_same_library_twice_adds_no_version(tmp_path):
    store = ActionStore(tmp_path)
    lib1, _, _ = lineage()
    store.save(lib1, iteration=0, reason="a")
    store.save(lib1, iteration=1, reason="b")
    assert store.versions("carry") == [1] and len(store.snapshots()) == 2


def test_a_stored_version_is_never_overwritten(tmp_path):
    store = ActionStore(tmp_path)
    store.save(ActionLibrary.from_code(V1), iteration=0, reason="a")
    other = ActionLibrary.from_code(V1.replace("Carry a ball.", "Something else."))
    with pytest.raises(ActionLibraryError, match="never overwritten"):
        store.save(other, iteration=1, reason="b")
    assert store.load().get("carry").description == "Carry a ball."


def test_diff_shows_code_and_note_changes(tmp_path):
    store = ActionStore(tmp_path)
    for i, lib in enumerate(lineage()):
        store.save(lib, iteration=i, reason="r")
    d12 = store.diff("carry", 1, 2)
    assert "+# note: Start in src." in d12 and "--- carry/v1.py" in d12
    d23 = store.diff("carry", 2, 3)
    assert "-    move(src, dst)\n" in d23 and "+    move(src, dst)  # go\n" in d23
    assert store.diff("carry", 3, 3) == ""


def test_load_actions_file_for_a_py_file_and_a_store_folder(tmp_path):
    py = tmp_path / "mine.py"
    py.write_text('"""Hand-written actions."""\n\n' + V1)
    lib = load_actions_file(py)
    assert lib.names == ("carry",) and lib.get("carry").description == "Carry a ball."
    store = ActionStore(tmp_path / "lib")
    _, lib2, _ = lineage()
    store.save(lib2, iteration=1, reason="r")
    assert load_actions_file(tmp_path / "lib") == lib2
    with pytest.raises(ActionLibraryError):
        load_actions_file(tmp_path / "missing.py")
    with pytest.raises(ActionLibraryError, match="not an action library folder"):
        load_actions_file(tmp_path)
    with pytest.raises(ActionLibraryError, match="no action library saved"):
        ActionStore(tmp_path / "empty").load()
