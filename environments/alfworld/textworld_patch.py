"""The TextWorld patch (memoised template parsing) and the lock every call into TextWorld holds.

Both are process-wide by nature: the patch replaces functions of TextWorld's own modules, and TatSu's
parser state is shared by the whole process (ARCHITECTURE.md, "Process-wide state").
"""
from __future__ import annotations

import copy
import functools
import threading
from typing import Any

_TEXTGEN_CACHE_INSTALLED = False


def install_textgen_cache() -> None:
    """Memoise TextWorld's grammar-template parsing (about 3x more steps per second).

    TextWorld re-parses the same few template strings with TatSu for every admissible command
    at every step. We cache the parse result per string and hand out deep copies (the symbols
    get a per-use context), and cache ``Rule.parse_conjunctive_query`` (pure). Observations and
    admissible commands are unchanged (benchmarks/bench_alfworld_env.py checks this).
    Process-wide and idempotent; written against textworld 1.7.0 (what alfworld 0.4.2 pulls).
    """
    global _TEXTGEN_CACHE_INSTALLED
    if _TEXTGEN_CACHE_INSTALLED:
        return
    from textworld.envs.pddl import textgen
    from textworld.logic import Rule

    if not hasattr(textgen, "_parse_and_convert") or not hasattr(Rule, "parse_conjunctive_query"):
        return  # another TextWorld version: run uncached rather than patch blindly
    original_parse = textgen._parse_and_convert
    parsed: dict[tuple[str, str], Any] = {}

    def cached_parse(text, rule_name="symbols", **kwargs):
        key = (text, rule_name)
        if key not in parsed:
            parsed[key] = original_parse(text, rule_name=rule_name, **kwargs)
        return copy.deepcopy(parsed[key])

    textgen._parse_and_convert = cached_parse
    original_query = Rule.parse_conjunctive_query.__func__
    Rule.parse_conjunctive_query = classmethod(functools.lru_cache(maxsize=4096)(original_query))
    _TEXTGEN_CACHE_INSTALLED = True


# TextWorld parses game logic and text templates with TatSu, whose parser state is shared by the
# whole process: two games loading or stepping at once in threads (parallel episodes of an
# evaluation) crashed with "IndexError: pop from empty list" in tatsu/contexts.py. Every call into
# TextWorld holds this lock; a step takes ~13 ms, so episodes waiting on an LLM hardly ever wait here.
TEXTWORLD_LOCK = threading.RLock()
