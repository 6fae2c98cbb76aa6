"""Evidence that leaves the laptop: the journal as OCSF events, signed chain heads, sinks.

Nothing here is on a containment's critical path: the journal is written first and stays
the source of truth; everything in this package reads it afterwards or beside the run.
"""
