"""call_grammar / validate_gbnf, and one real constrained request through the local llama.cpp server."""

from __future__ import annotations

import re

import pytest

from learnact.llm.config import ModelSpec
from learnact.llm.grammar import GrammarError, call_grammar, choice_grammar, pool_grammar, validate_gbnf
from learnact.llm.models import invoke_text, make_chat_model
from learnact.llm.usage import UsageTracker


def test_known_arities_and_values():
    grammar = call_grammar({"pick": 3, "move": 2, "look": 0}, ["ball1", "rooma", "left"])
    lines = grammar.splitlines()
    assert lines[0] == "root ::= call0 | call1 | call2"
    assert 'call0 ::= "look()"' in lines
    assert 'call1 ::= "move(" arg ", " arg ")"' in lines
    assert 'call2 ::= "pick(" arg ", " arg ", " arg ")"' in lines
    assert "arg ::= \"'ball1'\" | \"'left'\" | \"'rooma'\"" in lines
    validate_gbnf(grammar)


def test_names_only_allow_any_number_of_free_arguments():
    grammar = call_grammar(["go", "open"])
    assert 'call0 ::= "go(" args? ")"' in grammar and 'args ::= arg (", " arg)*' in grammar
    assert 'arg ::= "\'" [^\'\\n\\\\]+ "\'"' in grammar
    validate_gbnf(grammar)


def test_quotes_in_values_are_escaped():
    grammar = call_grammar({"say": 1}, ['it\'s "x"'])
    assert r'''arg ::= "'it\\'s \"x\"'"''' in grammar
    validate_gbnf(grammar)


def test_root_line_can_be_wrapped_by_callers():
    from nodes.assist.decode import with_think

    validate_gbnf(with_think(call_grammar({"move": 2})))


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ([], "at least one"),
        (["not a name"], "identifier"),
        ({"move": -1}, "non-negative"),
    ],
)
def test_bad_inputs(bad, why):
    with pytest.raises(ValueError, match=why):
        call_grammar(bad)


def test_empty_value_list_is_an_error():
    with pytest.raises(ValueError, match="arg_values is empty"):
        call_grammar({"move": 2}, [])


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("root ::= oops(", "expecting '\\)'"),
        ("root ::= x", "undefined rule 'x'"),
        ('call ::= "a"', "no 'root'"),
        ('root ::= "a', "unterminated literal"),
        ('root ::= "\\q"', "unknown escape"),
        ("root ::= [a-z", "unterminated character class"),
        ('root "a"', "expecting ::="),
    ],
)
def test_validate_rejects_what_llama_cpp_rejects(text, why):
    with pytest.raises(GrammarError, match=why):
        validate_gbnf(text)


def test_validate_accepts_the_usual_constructs():
    validate_gbnf('# comment\nroot ::= ("a" |\n  "b")+ x{1,3} [^\\n]* .\nx ::= "\\x41" | [0-9]?\n')


CHATTY_PROMPT = [
    ("system", "You control a robot. Actions: pick(obj, room, gripper), move(src, dst), drop(obj, room, gripper)."),
    (
        "user",
        "ball1 is in rooma with the robot; both grippers are free. Goal: ball1 in roomb. "
        "Explain your reasoning in detail, then give the next action.",
    ),
]


def test_choice_grammar_admits_the_given_calls_or_a_named_action():
    grammar = choice_grammar(
        ["move('rooma', 'roomb')", "pick('ball1', 'rooma', 'left')", 'go to "desk" 1'], {"carry": 2}
    )
    lines = grammar.splitlines()
    assert lines[0] == "root ::= choice | named"
    assert (
        lines[1]
        == "choice ::= \"go to \\\"desk\\\" 1\" | \"move('rooma', 'roomb')\" | \"pick('ball1', 'rooma', 'left')\""
    )
    assert "named ::= call0" in lines and 'call0 ::= "carry(" arg ", " arg ")"' in lines
    validate_gbnf(grammar)
    only_calls = choice_grammar(["look()"])
    assert only_calls.splitlines() == ["root ::= choice", 'choice ::= "look()"']
    validate_gbnf(only_calls)
    with pytest.raises(ValueError, match="at least one"):
        choice_grammar([], {})


def test_real_local_server_picks_only_a_valid_call(local_llm):
    """The chatty prompt asks for reasoning; the grammar leaves only the two valid calls (``--valid-actions-only``)."""
    model = make_chat_model(ModelSpec(model="local", max_tokens=40), server=local_llm)
    valid = ["move('rooma', 'roomb')", "pick('ball1', 'rooma', 'right')"]
    reply = invoke_text(
        model, CHATTY_PROMPT, stop=["\n"], grammar=choice_grammar(valid), usage=UsageTracker(), node="decide", key="v"
    )
    assert reply in valid


def test_real_local_server_follows_the_grammar(local_llm):
    model = make_chat_model(ModelSpec(model="local", max_tokens=40), server=local_llm)
    values = ["ball1", "rooma", "roomb", "left", "right"]
    grammar = call_grammar({"pick": 3, "move": 2, "drop": 3}, values)
    usage = UsageTracker()
    reply = invoke_text(model, CHATTY_PROMPT, stop=["\n"], grammar=grammar, usage=usage, node="decide", key="g")
    value = "'(?:" + "|".join(values) + ")'"
    assert re.fullmatch(rf"(?:pick|drop)\({value}, {value}, {value}\)|move\({value}, {value}\)", reply), reply
    assert usage.totals()["prompt_tokens"] > 0 and usage.totals()["cost"] == 0.0


def gbnf_regex(grammar: str) -> re.Pattern:
    """The grammars built here (literals, rule names, groups, alternation; no repetition but a character class)
    as one Python regex, to check which strings they admit."""
    rules = dict(line.split(" ::= ", 1) for line in grammar.strip().splitlines())
    token = re.compile(r'"(?:\\.|[^"\\])*"|\[[^\]]*\][+*?]?|[A-Za-z][\w-]*|[()|]|\s+')

    def expand(expr: str) -> str:
        out = []
        for t in token.findall(expr):
            if t.startswith('"'):
                out.append(re.escape(t[1:-1].encode().decode("unicode_escape")))
            elif t.startswith("["):
                out.append(t)
            elif t[0].isalpha():
                out.append(f"(?:{expand(rules[t])})")
            elif t == "(":
                out.append("(?:")
            elif not t.isspace():
                out.append(t)
        return "".join(out)

    return re.compile(expand(rules["root"]))


def test_pool_grammar_admits_typed_calls_except_the_refused_ones():
    pools = {
        "goto": [["cabinet 1", "cabinet 2"]],
        "take": [["mug 1", "apple 1"], ["cabinet 1", "desk 1"]],
        "look": [],
        "put": [[], ["desk 1"]],
    }
    refused = {"take": [("mug 1", "desk 1")], "goto": [("cabinet 2",)], "look": [()]}
    grammar = validate_gbnf(pool_grammar(pools, refused, {"carry": 2}, ["mug 1"]))
    admits = gbnf_regex(grammar).fullmatch
    for call in (
        "goto('cabinet 1')",
        "take('mug 1', 'cabinet 1')",
        "take('apple 1', 'desk 1')",
        "carry('mug 1', 'mug 1')",
    ):
        assert admits(call), call
    for call in (
        "goto('cabinet 2')",
        "take('mug 1', 'desk 1')",
        "look()",
        "put('mug 1', 'desk 1')",
        "take('desk 1', 'mug 1')",
        "carry('x', 'y')",
    ):
        assert not admits(call), call  # refused, an empty pool, out of type, or not a known name
    assert len(grammar) < 1000  # alternations per argument, not one literal per call
    with pytest.raises(ValueError, match="no call"):
        pool_grammar({"goto": [["cabinet 1"]]}, {"goto": [("cabinet 1",)]})
