"""Which exceptions are the user's to fix (one line) and which are bugs (traceback)."""

from __future__ import annotations

import argparse
import errno
import sqlite3

from environments import DataNotFoundError, EnvNameError
from learnact.actions import ActionLibraryError
from learnact.llm.errors import ModelError
from nodes.ray_pool import WorkersError
from prompts import PromptError

from .runs import RunError

# OSErrors that say the disk or the permissions are at fault, not the program.
ENVIRONMENT_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT}
CORRUPT_DATABASE = ("malformed", "not a database", "disk I/O error", "readonly database", "database or disk is full")


class UserError(Exception):
    """Bad input: printed as one line, exit code 2."""


# Errors whose message tells the user what to fix; anything else is a bug and keeps its traceback.
USER_ERRORS: tuple[type[BaseException], ...] = (
    UserError,
    DataNotFoundError,
    EnvNameError,
    PromptError,
    RunError,
    FileNotFoundError,
    ModelError,
    ActionLibraryError,
    WorkersError,
)


def describe_user_error(exc: BaseException) -> str | None:
    if isinstance(exc, USER_ERRORS):
        return str(exc)
    if isinstance(exc, OSError) and exc.errno in ENVIRONMENT_ERRNOS:  # a read-only or full disk, permissions
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror or exc}{where} (a read-only or full disk, or permissions; what was finished is on disk)"
    if isinstance(exc, sqlite3.DatabaseError) and any(m in str(exc) for m in CORRUPT_DATABASE):
        return f"a database in the run folder (checkpoints or reply cache) is damaged or cannot be written ({exc}); the JSONL records are untouched"
    return None


def one_line(message: str) -> str:
    """A multi-line message (e.g. a list of problems) as one line: ``first: item; item``."""
    lines = [line.strip().removeprefix("- ") for line in str(message).splitlines() if line.strip()]
    if len(lines) <= 1:
        return lines[0] if lines else ""
    head, rest = lines[0], lines[1:]
    return head + ("" if head.endswith(":") else ":") + " " + "; ".join(rest)


class OneLineParser(argparse.ArgumentParser):
    """argparse with one line for a bad flag instead of the whole usage block (exit code 2 as before)."""

    def error(self, message: str):  # noqa: D401 - argparse's hook
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")
