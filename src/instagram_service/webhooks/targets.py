"""Where outgoing webhooks may go: http(s) only, and public addresses unless allowed.

The check runs when a subscription is saved and again before every delivery (DNS changes).
A delivery then connects to the address that was checked, not to a second lookup, so a
rebinding DNS server cannot swap in a private address between the check and the request.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

from instagram_service.errors import ServiceError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
ALLOW_HINT = "set IGS_WEBHOOK_ALLOW_PRIVATE_TARGETS=true to allow private targets"


class TargetRefused(ServiceError):
    status_code = 422


@dataclass
class Target:
    url: str  # the URL to connect to (its host replaced by the checked address when pinned)
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, Any] = field(default_factory=dict)


def parse_target(url: str) -> SplitResult:
    """Syntax checks only: scheme, host, port, no credentials."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https"):
        raise TargetRefused(f"webhook URL must use http or https, not {parts.scheme or 'none'!r}")
    if not parts.hostname:
        raise TargetRefused("webhook URL has no host")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("webhook URL must not carry credentials (user:password@)")
    try:
        parts.port  # noqa: B018 (raises on an invalid port)
    except ValueError as exc:
        raise TargetRefused(f"webhook URL has an invalid port: {exc}") from None
    return parts


def is_public_address(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    # is_global is False for private, loopback, link-local, shared (100.64/10), reserved, ...
    return address.is_global and not address.is_multicast


async def resolve(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise TargetRefused(f"webhook URL host {host!r} cannot be resolved: {exc}") from None
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise TargetRefused(f"webhook URL host {host!r} has no address")
    return addresses


async def check_target(url: str, *, allow_private: bool) -> Target:
    """Refuse a URL we must not call; return how to reach it safely."""
    parts = parse_target(url)
    if allow_private:
        return Target(url.strip())
    host = parts.hostname
    assert host is not None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = await resolve(host, port)
    for address in addresses:
        if not is_public_address(address):
            raise TargetRefused(
                f"webhook URL host {host!r} is a private, loopback, link-local or reserved "
                f"address ({address}); {ALLOW_HINT}"
            )
    pinned = addresses[0]
    netloc = f"[{pinned}]" if pinned.version == 6 else str(pinned)
    if parts.port is not None:
        netloc += f":{parts.port}"
    target = Target(
        urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, "")),
        headers={"Host": parts.netloc},
    )
    if parts.scheme == "https":
        # TLS still verifies the certificate against the name, not the address.
        target.extensions["sni_hostname"] = host
    return target
