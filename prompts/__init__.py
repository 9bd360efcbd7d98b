"""Prompt templates (one per node) and per-domain material, swappable without code."""

from .loader import (
    NODE_PLACEHOLDERS,
    DomainMaterial,
    PromptError,
    PromptSet,
    Template,
    load_domain_material,
    load_learned_example,
    parse_override,
)
from .paper_material import load_paper_material

__all__ = [
    "NODE_PLACEHOLDERS",
    "DomainMaterial",
    "PromptError",
    "PromptSet",
    "Template",
    "load_domain_material",
    "load_learned_example",
    "load_paper_material",
    "parse_override",
]
