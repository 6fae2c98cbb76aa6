"""The Textual console. Only this package and :mod:`agent_ir.factory` import Textual;
the CLI imports it lazily, when a console is opened."""
