"""What a new emulator holds and does on its own: the empty, demo and large scenarios."""
