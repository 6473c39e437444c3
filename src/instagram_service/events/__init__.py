"""The outbox of outgoing events: producers record them in their own transaction."""
