"""The engine: inventory, graph, planner, executor, journal, restore."""
