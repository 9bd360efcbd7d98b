"""The framework's own code under one import name: the command line (``learnact.cli``), model clients and the
embedded runtime (``learnact.llm``), settings (``learnact.settings``), the learned-action library and its
sandbox (``learnact.actions``) and the report and pictures (``learnact.viz``).

The folders a user edits stay at the top level, where the design puts them: ``graphs/``, ``nodes/``,
``environments/``, ``prompts/``, ``tests/`` and ``run.py``."""
