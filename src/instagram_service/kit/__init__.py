"""What every domain's routes share and that knows no domain: pagination, OpenAPI docs,
ASGI header reading."""
