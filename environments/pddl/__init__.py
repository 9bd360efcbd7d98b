"""PDDL robotic planning: the environment (:mod:`.env`), problem generators and the difficulty ladder."""

from .ladder import LadderError, instance_size, ladder

__all__ = ["LadderError", "instance_size", "ladder"]
