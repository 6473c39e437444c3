"""Content filter rules, the rules engine and admin moderation decisions."""
