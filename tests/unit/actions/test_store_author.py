"""Who wrote a version (``LearnedAction.author``, issue 28): the learner's versions are stored as before, a person's
carry the author through the store, a dict round trip and the next version the learner makes."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from learnact.actions import ActionLibrary, ActionLibraryError, ActionStore

CODE = "def go(a):\n    return move(a)\n"
EDIT = "def go(a):\n    move(a)\n    return move(a)\n"


def edited() -> ActionLibrary:
    lib, _ = ActionLibrary.from_code(CODE).with_update(EDIT, iteration=0, reason="edited by a person")
    return ActionLibrary(tuple(replace(a, author="person") for a in lib.all_functions))


def test_the_learners_versions_are_recorded_as_before(tmp_path):
    lib = ActionLibrary.from_code(CODE)
    assert "author" not in lib.to_dict()["actions"][0]
    ActionStore(tmp_path).save(lib, iteration=0, reason="created")
    (record,) = [json.loads(line) for line in (tmp_path / "history.jsonl").read_text().splitlines()]
    assert "author" not in record and "written by" not in (tmp_path / "go" / "v1.py").read_text()


def test_a_persons_version_keeps_its_author_and_the_learners_next_one_does_not(tmp_path):
    lib = edited()
    assert ActionLibrary.from_dict(lib.to_dict()) == lib
    store = ActionStore(tmp_path)
    store.save(lib, iteration=0, reason="reviewed")
    store.save(lib, iteration=0, reason="reviewed")  # a resumed save: nothing twice, no clash
    assert store.load().get("go").author == "person" and store.versions("go") == [2]
    assert (tmp_path / "go" / "v2.py").read_text().splitlines()[0].endswith("· written by: person")
    learner, _ = lib.with_update(CODE, iteration=1, reason="update")
    assert learner.get("go").author == "" and learner.get("go").version == 3
    with pytest.raises(ActionLibraryError, match="already stored with different content"):
        store.save(ActionLibrary(tuple(replace(a, author="") for a in lib.all_functions)), iteration=0, reason="again")
