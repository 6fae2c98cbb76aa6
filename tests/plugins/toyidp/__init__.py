"""toyidp: a tiny identity store (agents holding API keys that can be disabled and enabled)
registered as a fifth provider from the test tree alone, through a real entry point.

``dist/toyidp-0.dist-info`` is what ``pip install`` would leave behind; putting ``dist`` on
``sys.path`` (see :func:`tests.plugins.toyidp.install.registered`) makes ``importlib.metadata``
list the ``toy`` provider in ``agent_ir.providers`` and its lab in ``agent_ir.lab``.
"""
