"""Us -> the CMS: outgoing webhook subscriptions and their signed deliveries with retries.
Events are recorded by their producers through `events/`; this package only delivers them."""
