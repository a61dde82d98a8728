"""batch-tui: a terminal explorer for Azure Batch, with a local Azure Batch emulator."""

__version__ = "0.1.0"
