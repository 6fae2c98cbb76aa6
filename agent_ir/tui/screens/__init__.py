"""The console's screens, one per module: they compose widgets and route messages."""
