"""instagram-service: keeps a business's Instagram content on its own website."""

__version__ = "0.1.0"
