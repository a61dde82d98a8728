"""Provides the explorer's screens, one per module."""
