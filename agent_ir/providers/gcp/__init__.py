"""The Google Cloud adapter (google-auth, IAM and Resource Manager REST over httpx)."""
