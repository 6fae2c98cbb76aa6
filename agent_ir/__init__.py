"""agent-ir: incident response for AI agents across Entra ID, AWS, Google Cloud and Okta."""

__version__ = "0.1.0"
