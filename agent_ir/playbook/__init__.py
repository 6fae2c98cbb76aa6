"""Playbooks: the YAML format (``model``), its layered loader (``loader``) and JSON Schema."""
