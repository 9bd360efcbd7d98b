"""The TextWorld patch (memoised template parsing) and the lock every call into TextWorld holds.

Both are process-wide by nature: the patch replaces functions of TextWorld's own modules, and TatSu's
parser state is shared by the whole process (ARCHITECTURE.md, "Process-wide state").
"""

from __future__ import annotations

import copy
import functools
import threading
from collections import OrderedDict
from typing import Any

_TEXTGEN_CACHE_INSTALLED = False
_TRANSLATIONS: OrderedDict[tuple[str, str, bool, bool], tuple[Any, str]] = OrderedDict()
TRANSLATIONS_KEPT = 64  # games whose translation is kept (a few hundred KB each)
_translate: Any = None  # fast-downward's own pddl2sas, once the cache is installed


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
    _install_translation_cache()
    _TEXTGEN_CACHE_INSTALLED = True


def _install_translation_cache() -> None:
    """Memoise fast-downward's PDDL-to-SAS translation of a game (half an episode's CPU before this).

    TextWorld builds a game's ``PddlState`` at ``load`` and again at every ``reset``, and each build
    translates the domain and problem twice (plain, and optimised for its replanner): four translations
    of 0.3-0.9 s each before the first step, for one game. The translation is a function of its texts;
    we keep the last ``TRANSLATIONS_KEPT`` results and hand out a deep copy of the task (10 ms) with the
    SAS text, so a game loads with one translation of each kind, and a game played again (training
    rollouts, repeated runs) with none. Holds ``TEXTWORLD_LOCK`` like every call into TextWorld.
    """
    global _translate
    import fast_downward

    if getattr(fast_downward.pddl2sas, "_learnact_cached", False):
        return
    _translate = fast_downward.pddl2sas

    def cached_pddl2sas(domain: str, problem: str, verbose: bool = False, optimize: bool = False):
        key = (domain, problem, bool(verbose), bool(optimize))
        with TEXTWORLD_LOCK:
            if key in _TRANSLATIONS:
                _TRANSLATIONS.move_to_end(key)
            else:
                _TRANSLATIONS[key] = _translate(domain, problem, verbose=verbose, optimize=optimize)
                while len(_TRANSLATIONS) > TRANSLATIONS_KEPT:
                    _TRANSLATIONS.popitem(last=False)
            task, sas = _TRANSLATIONS[key]
            return copy.deepcopy(task), sas

    cached_pddl2sas._learnact_cached = True  # type: ignore[attr-defined]
    fast_downward.pddl2sas = cached_pddl2sas


def clear_translation_cache() -> None:
    """Forget every memoised translation (benchmarks time a game's first load with it)."""
    with TEXTWORLD_LOCK:
        _TRANSLATIONS.clear()


# TextWorld parses game logic and text templates with TatSu, whose parser state is shared by the
# whole process: two games loading or stepping at once in threads (parallel episodes of an
# evaluation) crashed with "IndexError: pop from empty list" in tatsu/contexts.py. Every call into
# TextWorld holds this lock; a step takes ~13 ms, so episodes waiting on an LLM hardly ever wait here.
TEXTWORLD_LOCK = threading.RLock()
