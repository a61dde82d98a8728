"""The state machine: the tick loop, allocation, nodes, scheduling, task runs, job flow,
multi-instance tasks, and job preparation and release."""
