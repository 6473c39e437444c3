"""Feeds: named public galleries (accounts, categories, display defaults). See README.md."""
