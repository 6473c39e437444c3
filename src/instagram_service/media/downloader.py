"""Safe downloads of Instagram media: allow-listed hosts, no private addresses, byte caps.

Every hop (the first URL and each redirect) is checked before any connection is made: scheme,
host against the allow-list, and every address the host resolves to. The request then goes to
the address that was checked (the Host header and TLS SNI keep the name), so a DNS answer that
changes between check and connect cannot point it elsewhere.
"""

from __future__ import annotations

import asyncio
import io
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

import httpx
from PIL import Image, UnidentifiedImageError

from instagram_service.media.errors import DownloadFailed, DownloadRefused, LinkExpired
from instagram_service.media.formats import sniff_image, sniff_video
from instagram_service.media.metrics import DOWNLOAD_BYTES, DOWNLOAD_FAILURES
from instagram_service.settings import Settings

Kind = Literal["image", "video"]
Resolver = Callable[[str, int], Awaitable[list[str]]]
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
EXPIRED_MARKER = b"url signature expired"
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class DownloadResult:
    data: bytes
    content_type: str
    final_url: str


@dataclass(frozen=True, slots=True)
class _Target:
    url: httpx.URL  # as asked for
    address: str  # the checked address to connect to


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        # IPv4 carried inside IPv6 (mapped, 6to4, Teredo, NAT64) must be public too
        embedded = [address.ipv4_mapped, address.sixtofour]
        embedded.append(address.teredo[1] if address.teredo else None)
        if address in _NAT64:
            embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if any(inner is not None and not _is_public(inner) for inner in embedded):
            return False
    return address.is_global and not address.is_multicast


def _describe(url: httpx.URL) -> str:
    """Host and path only: CDN query strings carry signatures and are long."""
    return f"{url.scheme}://{url.netloc.decode()}{url.path}"


class HostPolicy:
    """`*.example.com` allows any subdomain; `host` or `host:port` allows that host exactly,
    private addresses included (how the local emulator gets allowed)."""

    def __init__(self, entries: list[str]) -> None:
        self.wildcards: list[str] = []
        self.exact: set[tuple[str, int | None]] = set()
        for raw in entries:
            entry = raw.strip().lower().rstrip(".")
            if entry.startswith("*."):
                self.wildcards.append(entry[1:])  # ".cdninstagram.com"
            elif entry:
                parts = urlsplit(f"//{entry}")
                self.exact.add((parts.hostname or "", parts.port))

    def is_explicit(self, host: str, port: int) -> bool:
        return (host, port) in self.exact or (host, None) in self.exact

    def allows(self, host: str, port: int) -> bool:
        if self.is_explicit(host, port):
            return True
        try:
            ipaddress.ip_address(host)
            return False  # an address literal never matches a wildcard
        except ValueError:
            return any(host.endswith(suffix) for suffix in self.wildcards)


class SafeDownloader:
    def __init__(
        self,
        settings: Settings,
        http: httpx.AsyncClient | None = None,
        *,
        resolver: Resolver = system_resolver,
    ) -> None:
        self.settings = settings
        self.policy = HostPolicy(settings.download_allowed_hosts)
        self._resolve = resolver
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(
            timeout=httpx.Timeout(
                settings.download_read_timeout_s, connect=settings.download_connect_timeout_s
            ),
            follow_redirects=False,
            trust_env=False,  # no proxy from the environment: we connect to checked addresses
            limits=httpx.Limits(max_connections=max(8, 2 * settings.download_concurrency)),
        )
        self._slots = asyncio.Semaphore(settings.download_concurrency)

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def fetch(
        self, url: str, *, max_bytes: int | None = None, kind: Kind = "image"
    ) -> DownloadResult:
        """The body of `url`, checked; raises DownloadRefused, LinkExpired or DownloadFailed."""
        default_cap = self.settings.download_max_bytes
        if kind == "video":
            default_cap = self.settings.video_max_bytes
        cap = max_bytes or default_cap
        try:
            result = await self._fetch_in_slot(url, cap, kind)
        except LinkExpired:
            DOWNLOAD_FAILURES.labels("expired").inc()
            raise
        except DownloadRefused:
            DOWNLOAD_FAILURES.labels("refused").inc()
            raise
        except DownloadFailed:
            DOWNLOAD_FAILURES.labels("failed").inc()
            raise
        DOWNLOAD_BYTES.inc(len(result.data))
        return result

    async def _fetch_in_slot(self, url: str, cap: int, kind: Kind) -> DownloadResult:
        async with self._slots:
            try:
                async with asyncio.timeout(self.settings.download_total_timeout_s):
                    return await self._fetch(url, cap, kind)
            except TimeoutError:
                raise DownloadFailed(
                    f"download took over {self.settings.download_total_timeout_s:g} s"
                ) from None
            except httpx.TimeoutException as exc:
                raise DownloadFailed(f"download timed out ({type(exc).__name__})") from exc
            except httpx.HTTPError as exc:
                raise DownloadFailed(f"download failed: {exc}") from exc

    async def _fetch(self, url: str, cap: int, kind: Kind) -> DownloadResult:
        current = self._parse(url)
        for _hop in range(self.settings.download_max_redirects + 1):
            target = await self._check(current)
            request = self._http.build_request(
                "GET",
                current.copy_with(host=target.address),
                headers={"Host": current.netloc.decode(), "Accept-Encoding": "identity"},
                extensions={"sni_hostname": current.host},
            )
            response = await self._http.send(request, stream=True, follow_redirects=False)
            try:
                if response.status_code in REDIRECT_STATUSES and "location" in response.headers:
                    current = self._parse(str(current.join(response.headers["location"])))
                    continue
                return await self._accept(current, response, cap, kind)
            finally:
                await response.aclose()
        raise DownloadRefused(f"more than {self.settings.download_max_redirects} redirects")

    def _parse(self, url: str) -> httpx.URL:
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise DownloadRefused(f"invalid URL ({exc})") from None
        allowed = {"https", "http"} if self.settings.download_allow_http else {"https"}
        if parsed.scheme not in allowed:
            raise DownloadRefused(f"scheme {parsed.scheme or 'none'!r} is not allowed")
        if not parsed.host:
            raise DownloadRefused("URL has no host")
        return parsed

    async def _check(self, url: httpx.URL) -> _Target:
        host, port = url.host.lower(), url.port or (443 if url.scheme == "https" else 80)
        if not self.policy.allows(host, port):
            raise DownloadRefused(f"host {url.netloc.decode()!r} is not on the allow-list")
        try:
            addresses = await self._resolve(host, port)
        except OSError as exc:
            raise DownloadFailed(f"cannot resolve {host!r} ({exc})") from None
        if not addresses:
            raise DownloadFailed(f"cannot resolve {host!r}")
        if not self.policy.is_explicit(host, port):
            for address in addresses:
                if not _is_public(ipaddress.ip_address(address.split("%")[0])):
                    raise DownloadRefused(f"host {host!r} resolves to a private address {address}")
        return _Target(url, addresses[0])

    async def _accept(
        self, url: httpx.URL, response: httpx.Response, cap: int, kind: Kind
    ) -> DownloadResult:
        where = _describe(url)
        if response.status_code == 403:
            head = await _read_capped(response, 4096, truncate=True)
            if EXPIRED_MARKER in head.lower():
                raise LinkExpired(f"the signed URL has expired: {where}")
        if response.status_code != 200:
            raise DownloadFailed(f"HTTP {response.status_code} from {where}")
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > cap:
            raise DownloadRefused(f"{where} is {int(length):,} bytes, over the {cap:,} byte cap")
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        generic = content_type in ("application/octet-stream", "binary/octet-stream")
        if not (content_type.startswith(f"{kind}/") or generic):
            article = "an image" if kind == "image" else "a video"
            raise DownloadRefused(f"{where} is {content_type or 'untyped'}, not {article}")
        data = await _read_capped(response, cap)
        if kind == "image":
            sniffed = await asyncio.to_thread(_verify_image, data, self.settings.image_max_pixels)
            content_type = f"image/{sniffed}" if generic else content_type
        elif sniff_video(data[:64]) is None:
            raise DownloadRefused(f"{where} is not a video (unknown container)")
        return DownloadResult(data, content_type, str(url))


async def _read_capped(response: httpx.Response, cap: int, *, truncate: bool = False) -> bytes:
    """Reads the body; stops as soon as it exceeds `cap` (refused, or cut if `truncate`)."""
    buffer = bytearray()
    async for chunk in response.aiter_bytes():
        buffer += chunk
        if len(buffer) > cap:
            if truncate:
                return bytes(buffer[:cap])
            raise DownloadRefused(f"body is over the {cap:,} byte cap")
    return bytes(buffer)


def _verify_image(data: bytes, max_pixels: int) -> str:
    """Magic bytes, then Pillow's header parse and verify(): the bytes are an image."""
    kind = sniff_image(data[:64])
    if kind is None:
        raise DownloadRefused(f"body is not an image (starts with {data[:12]!r})")
    if kind == "heif":
        return kind  # decodable only with pillow-heif: the image pipeline decides
    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
            if width * height > max_pixels:
                raise DownloadRefused(
                    f"image has {width * height / 1e6:.1f} megapixels, over the "
                    f"{max_pixels / 1e6:g} MP limit"
                )
            img.verify()
    except Image.DecompressionBombError as exc:
        raise DownloadRefused(f"image has too many pixels ({exc})") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise DownloadRefused(f"body is not a readable {kind.upper()} image ({exc})") from None
    return kind


async def fetch_with_refresh(
    downloader: SafeDownloader,
    url: str,
    refresh: Callable[[], Awaitable[str | None]],
    *,
    max_bytes: int | None = None,
    kind: Kind = "image",
) -> DownloadResult:
    """Fetch; on an expired CDN link ask `refresh` for a fresh media_url and retry once."""
    try:
        return await downloader.fetch(url, max_bytes=max_bytes, kind=kind)
    except LinkExpired:
        fresh = await refresh()
        if not fresh:
            raise
        return await downloader.fetch(fresh, max_bytes=max_bytes, kind=kind)
