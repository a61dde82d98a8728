"""The emulator's HTTP face: dispatch, SharedKey, faults, and the server that serves it."""
