"""API keys: creation, listing, revocation, and the auth dependencies."""
