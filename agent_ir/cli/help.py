"""The end of every ``--help``: one or two examples of the command, and the exit codes."""

from __future__ import annotations

from agent_ir.exit_codes import ExitCode

EXAMPLES: dict[str, tuple[str, ...]] = {
    "": ("agent-ir inventory", "agent-ir revoke invoice-agent --reason 'leaked key' --yes"),
    "console": ("agent-ir console", "agent-ir --config prod.yaml --read-only console"),
    "inventory": ("agent-ir inventory", "agent-ir inventory -o ndjson"),
    "show": ("agent-ir show invoice-agent", "agent-ir show invoice-agent -o json"),
    "activity": (
        "agent-ir activity invoice-agent --since 3d",
        "agent-ir activity invoice-agent --provider aws -o csv > activity.csv",
    ),
    "doctor": ("agent-ir doctor", "agent-ir --config prod.yaml doctor -o json"),
    "plan": (
        "agent-ir plan invoice-agent",
        "agent-ir plan invoice-agent --playbook rotate-credentials --param older_than_days=30",
    ),
    "revoke": (
        "agent-ir revoke invoice-agent --reason 'key leaked in a ticket' --yes",
        "agent-ir revoke invoice-agent --reason R --expect-plan HASH",
        "agent-ir revoke --select 'owner=alice* risk>=high' --reason R --yes",
        "agent-ir revoke --select @suspects.txt --max-agents 500 --reason R --yes",
    ),
    "run": (
        "agent-ir run scope-down --agent invoice-agent --dry-run",
        "agent-ir run cut-delegation --agent invoice-agent --reason R --yes",
        "agent-ir run contain-agent --select 'provider=okta name=crm-*' --dry-run",
    ),
    "resume": ("agent-ir resume IR-20260101-120000-ab12",),
    "restore": ("agent-ir restore IR-20260101-120000-ab12 --yes",),
    "journal": ("agent-ir journal list", "agent-ir journal verify"),
    "journal list": ("agent-ir journal list", "agent-ir journal list -o ndjson"),
    "journal show": (
        "agent-ir journal show IR-20260101-120000-ab12",
        "agent-ir journal show IR-20260101-120000-ab12 --records",
    ),
    "journal export": (
        "agent-ir journal export IR-20260101-120000-ab12 --format ocsf > incident.ocsf.json",
    ),
    "journal sinks": ("agent-ir journal sinks", "agent-ir journal sinks --flush"),
    "report": (
        "agent-ir report IR-20260101-120000-ab12",
        "agent-ir report IR-20260101-120000-ab12 --format json --out incident.json",
        "agent-ir report IR-20260101-120000-ab12 --activity 24h  # with the audit logs around it",
    ),
    "journal verify": (
        "agent-ir journal verify",
        "agent-ir journal verify IR-20260101-120000-ab12",
    ),
    "permissions": (
        "agent-ir permissions contain-agent",
        "agent-ir permissions --aws-policy > responder-policy.json",
    ),
    "playbook": ("agent-ir playbook list", "agent-ir playbook validate my-playbook.yaml"),
    "playbook validate": ("agent-ir playbook validate my-playbook.yaml -o json",),
    "playbook list": ("agent-ir playbook list", "agent-ir playbook list -o ndjson"),
    "playbook schema": ("agent-ir playbook schema > playbook.schema.json",),
    "tabletop": (
        "agent-ir tabletop default-story --playbook contain-agent --agent invoice-agent --yes",
        "agent-ir --config lab.yaml tabletop --join",
    ),
    "lab": ("agent-ir lab serve --config-out lab.yaml", "agent-ir lab check my-world.yaml"),
    "lab serve": (
        "agent-ir lab serve --config-out lab.yaml",
        "agent-ir lab serve --exercise cross-provider-chain --config-out lab.yaml",
    ),
    "lab faults": (
        "agent-ir --config lab.yaml lab faults aws",
        "agent-ir lab faults aws latency_ms=50 throttle_rate=0.2 --config lab.yaml",
    ),
    "lab generate": ("agent-ir lab generate --agents 5000 --providers aws,okta > big.yaml",),
    "lab check": ("agent-ir lab check my-world.yaml -o json",),
    "lab reset": ("agent-ir lab reset",),
    "completion": (
        "agent-ir completion bash > ~/.local/share/bash-completion/completions/agent-ir",
        "agent-ir completion fish > ~/.config/fish/completions/agent-ir.fish",
    ),
}

MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "success; for a run: every step verified, already so, or skipped",
    ExitCode.INTERNAL: "a defect in agent-ir (run again with --debug)",
    ExitCode.USAGE: "bad command-line use",
    ExitCode.BAD_INPUT: "invalid configuration, world or playbook file",
    ExitCode.NOT_FOUND: "unknown agent, incident or playbook",
    ExitCode.PROVIDER: "no provider could answer",
    ExitCode.PARTIAL: "partial: some providers or steps failed, others did not",
    ExitCode.FAILED: "a run's steps failed and none succeeded",
    ExitCode.REFUSED: "refused by a safety rule (confirmation, blast radius, read-only)",
    ExitCode.JOURNAL: "a journal failed verification",
    ExitCode.LAB: "the lab could not start",
    ExitCode.INTERRUPTED: "interrupted",
}


def epilog(command: str) -> str:
    """Examples for ``command`` (a path such as ``"journal list"``), then the exit codes."""
    lines = ["examples:"]
    lines += [f"  {example}" for example in EXAMPLES.get(command, ())]
    lines += ["", "exit codes:"]
    lines += [f"  {int(code):>3}  {MEANINGS.get(code, code.name.lower())}" for code in ExitCode]
    return "\n".join(lines)
