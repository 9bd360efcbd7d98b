"""Entry points for ``langgraph dev`` (see langgraph.json): every graph, compiled at import.

The LangGraph server looks the names up in this module's ``__dict__`` (a lazy module
``__getattr__`` is not seen) and brings its own checkpointer, so the graphs are compiled
without one. Compiling is cheap: it only wires nodes, no model or environment is touched.

A run needs only its input and a context of plain fields (``nodes.context.Context``: ``model``,
``base_url``, ...; the request's ``context`` or Studio's context panel): the chat models, episodes and
usage tracker are made from them inside the server, and each graph brings the graphs it runs (README,
"LangGraph Studio").
"""

from __future__ import annotations

from graphs.registry import build_graph

learn = build_graph("learn")
create = build_graph("create")
act = build_graph("act")
react = build_graph("react")
code_as_policy = build_graph("code_as_policy")
reflexion = build_graph("reflexion")
evaluate = build_graph("evaluate")
