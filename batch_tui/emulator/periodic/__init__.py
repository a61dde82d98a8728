"""Timed work besides the engine: job schedules, auto pools and the autoscaler's loop."""
