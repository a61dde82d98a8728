"""Provides the reusable widgets of the UI: tables, the log viewer, the node heatmap."""
