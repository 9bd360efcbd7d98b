"""Graph pictures: the learning loop's back-edge is visible in Mermaid and in the PNG."""

from __future__ import annotations

import pytest

from graphs.registry import GRAPHS, build_graph
from learnact.viz.draw import back_edges, draw_graph, picture_of, to_mermaid, to_svg


def test_back_edges_are_the_edges_that_close_a_cycle():
    nodes = ["__start__", "a", "b", "c", "__end__"]
    edges = [("__start__", "a"), ("a", "b"), ("b", "c"), ("c", "a"), ("b", "b"), ("c", "__end__")]
    assert back_edges(nodes, edges) == {("c", "a"), ("b", "b")}
    assert back_edges(nodes, [("__start__", "a"), ("a", "b"), ("a", "c"), ("b", "c")]) == set()  # a diamond is no loop


def test_learn_mermaid_draws_the_revision_loop_as_a_loop_edge(tmp_path):
    text = draw_graph("learn", "mermaid", tmp_path)
    assert text.startswith("flowchart TD")
    assert "revise_candidate ==>|loop| gather" in text
    assert "score --> identify_errors" in text and "identify_errors -.-> revise_candidate" in text
    assert "identify_errors -.-> finalize" in text  # the stop rules are decided with the errors
    loop_index = [
        line.strip() for line in text.splitlines() if "-->" in line or "-.->" in line or "==>" in line or ".->" in line
    ].index("revise_candidate ==>|loop| gather")
    assert f"linkStyle {loop_index} stroke:" in text  # the red style hits the loop edge, not another one
    assert " end(" not in text and "\n    end" not in text  # `end` is a Mermaid keyword


def test_learn_picture_shows_the_creation_subgraphs_repair_loop(tmp_path):
    text = draw_graph("learn", "mermaid", tmp_path)
    assert (
        "create_candidate__repair__fix ==>|loop| create_candidate__repair__check" in text
    )  # the repair loop, drawn as a loop
    assert (
        'create_candidate__repair__check["create_candidate:repair:check"]' in text
    )  # ids without ':', the name as the label
    assert "create_candidate:" not in text.replace('"create_candidate:', "")  # no raw ':' in an id or edge


def test_learn_png_is_a_real_png_with_the_loop(tmp_path):
    pytest.importorskip("pygraphviz", reason="PNG pictures need the viz extra (pygraphviz)")
    path = draw_graph("learn", "png", tmp_path)
    data = open(path, "rb").read()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 5_000
    svg = to_svg(picture_of(build_graph("learn").get_graph(), "learn"))
    assert svg.startswith("<svg") and ">loop<" in svg


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_every_graph_has_a_mermaid_picture(name, tmp_path):
    text = draw_graph(name, "mermaid", tmp_path)
    assert "__start__" in text and "__end__" in text


def test_act_step_loop_is_marked():
    text = to_mermaid(picture_of(build_graph("act").get_graph(), "act"))
    assert "==>|loop" in text and "decide" in text


def test_unknown_graph_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="no graph named 'nope'"):
        draw_graph("nope", "mermaid", tmp_path)
