"""The Microsoft Entra ID adapter (MSAL for tokens, Microsoft Graph over httpx)."""
