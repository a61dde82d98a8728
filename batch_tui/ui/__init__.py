"""Provides the Textual user interface of batch-tui."""
