"""The command-line face of agent-ir."""
