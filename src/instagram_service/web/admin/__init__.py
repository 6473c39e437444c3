"""The admin console: server-rendered pages over the domain services, signed session cookies."""
