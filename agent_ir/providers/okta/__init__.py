"""The Okta adapter (the okta SDK, imported lazily)."""
