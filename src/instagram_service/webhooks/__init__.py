"""Incoming Instagram webhooks (verified, stored, processed in a task) and signed outgoing
webhooks for a CMS (subscriptions, emission after commit, deliveries with retries)."""
