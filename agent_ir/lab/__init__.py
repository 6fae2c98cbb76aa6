"""The lab: local emulators of the provider APIs, seeded from a world file.

Importing this package is cheap; the emulators (and moto) load only when a lab starts.
"""
