"""Fixtures and set-up shared by every test folder."""

# Imported first on purpose: a late first import of hypothesis while the garbage collector runs
# has crashed CPython 3.11 ("AST constructor recursion depth mismatch") at the end of a run.
import hypothesis  # noqa: F401
