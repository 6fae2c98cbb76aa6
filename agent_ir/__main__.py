"""Allow ``python -m agent_ir``."""

from agent_ir.cli.main import main

raise SystemExit(main())
