"""What an agent did: one activity timeline over the providers' audit logs.

:mod:`agent_ir.activity.model` is the event vocabulary every provider's reader speaks;
:mod:`agent_ir.activity.timeline` merges the readers' answers for one agent.
"""
