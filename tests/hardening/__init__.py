"""Tests that the app is hard to break: soak, terminal safety, secrets, read-only."""
