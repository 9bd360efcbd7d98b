"""Entry points for ``langgraph dev`` (see langgraph.json): every graph, compiled at import.

The LangGraph server looks the names up in this module's ``__dict__`` (a lazy module
``__getattr__`` is not seen) and brings its own checkpointer, so the graphs are compiled
without one. Compiling is cheap: it only wires nodes, no model or environment is touched.

A run needs only its input and a context of plain fields (``nodes.context.Context``: ``model``,
``base_url``, ...; the request's ``context`` or Studio's context panel): the chat models, episodes,
usage tracker and rollout graph are made from them inside the server (README, "LangGraph Studio").
"""
from __future__ import annotations

from viz.draw import compiled_graph

learn = compiled_graph("learn")
act = compiled_graph("act")
react = compiled_graph("react")
code_as_policy = compiled_graph("code_as_policy")
reflexion = compiled_graph("reflexion")
evaluate = compiled_graph("evaluate")
