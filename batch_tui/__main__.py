"""Lets `python -m batch_tui` run the command line."""

from batch_tui.cli import main

raise SystemExit(main())
