"""Which exceptions are the user's to fix (one line) and which are bugs (traceback)."""
from __future__ import annotations


def describe_user_error(exc: BaseException) -> str | None:
    from environments import DataNotFoundError, EnvNameError
    from prompts import PromptError

    from .runs import RunError

    user_errors: tuple[type[BaseException], ...] = (DataNotFoundError, EnvNameError, PromptError, RunError, FileNotFoundError)
    try:
        from llm.errors import ModelError

        user_errors += (ModelError,)
    except ImportError:  # pragma: no cover - llm is part of the project
        pass
    try:
        from actions import ActionLibraryError

        user_errors += (ActionLibraryError,)
    except ImportError:
        pass
    if type(exc).__name__ == "UserError" or isinstance(exc, user_errors):
        return str(exc)
    return None
