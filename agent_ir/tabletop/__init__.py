"""Tabletop exercises on the lab: exercise files, an adversary probe, scoring and reports."""
