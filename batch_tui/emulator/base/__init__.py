"""What every layer of the emulator uses: its settings, clock, times, URLs and service errors."""
