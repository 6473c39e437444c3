"""SafeDownloader against a real HTTP server on a loopback port, and SSRF attempts."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from instagram_service.media.downloader import (
    HostPolicy,
    SafeDownloader,
    _is_public,
    fetch_with_refresh,
)
from instagram_service.media.errors import DownloadFailed, DownloadRefused, LinkExpired
from instagram_service.settings import Settings
from tests.media.conftest import fixture_bytes

JPEG = fixture_bytes("pillow/orientation/hopper.jpg")
PNG = fixture_bytes("pillow/png/transparent_rgba.png")
MP4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00" * 200
CHUNK = b"\xff\xd8\xff\xe0" + b"\x00" * (64 * 1024 - 4)


@dataclass
class ServerState:
    port: int = 0
    chunks_sent: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    hosts: list[str] = field(default_factory=list)


STATE = ServerState()


async def photo(request: Request) -> Response:
    STATE.hosts.append(request.headers.get("host", ""))
    return Response(JPEG, media_type="image/jpeg")


async def endless(request: Request) -> Response:
    async def body() -> AsyncIterator[bytes]:
        for _ in range(1000):  # 64 MB if nobody stops reading
            STATE.chunks_sent += 1
            yield CHUNK
            await asyncio.sleep(0)

    return StreamingResponse(body(), media_type="image/jpeg")


async def slow(request: Request) -> Response:
    counted = "count" in request.query_params
    STATE.in_flight += counted
    STATE.max_in_flight = max(STATE.max_in_flight, STATE.in_flight)
    await asyncio.sleep(float(request.query_params.get("s", "0.2")))
    STATE.in_flight -= counted
    return Response(JPEG, media_type="image/jpeg")


async def redirect(request: Request) -> Response:
    return RedirectResponse(request.query_params["to"], status_code=302)


async def loop(request: Request) -> Response:
    return RedirectResponse("/loop", status_code=301)


ROUTES = [
    Route("/photo.jpg", photo),
    Route("/photo.png", lambda r: Response(PNG, media_type="image/png")),
    Route("/octet", lambda r: Response(PNG, media_type="application/octet-stream")),
    Route("/big.jpg", lambda r: Response(JPEG + b"\x00" * 3_000_000, media_type="image/jpeg")),
    Route("/endless.jpg", endless),
    Route("/slow.jpg", slow),
    Route("/page.html", lambda r: Response("<html></html>", media_type="text/html")),
    Route(
        "/html-as.jpg",
        lambda r: Response(b"<!DOCTYPE html><html>login</html>", media_type="image/jpeg"),
    ),
    Route("/truncated.png", lambda r: Response(PNG[: len(PNG) // 2], media_type="image/png")),
    Route("/expired.jpg", lambda r: PlainTextResponse("URL signature expired", status_code=403)),
    Route("/forbidden.jpg", lambda r: PlainTextResponse("Forbidden", status_code=403)),
    Route("/video.mp4", lambda r: Response(MP4, media_type="video/mp4")),
    Route("/redirect", redirect),
    Route("/loop", loop),
]


@pytest.fixture(scope="module")
def server() -> Iterator[ServerState]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    STATE.port = sock.getsockname()[1]
    config = uvicorn.Config(Starlette(routes=ROUTES), log_level="warning", lifespan="off")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not uv.started:
        threading.Event().wait(0.01)
    yield STATE
    uv.should_exit = True
    thread.join(5)
    sock.close()


def settings_for(state: ServerState, *extra_hosts: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "download_allowed_hosts": [f"127.0.0.1:{state.port}", *extra_hosts],
        "download_allow_http": True,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def base(state: ServerState) -> str:
    return f"http://127.0.0.1:{state.port}"


class NoNetwork(httpx.AsyncBaseTransport):
    """A transport that fails the test if anything is ever sent."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        raise AssertionError(f"request sent to {request.url}")


def fake_dns(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    calls: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        if host in table:
            return table[host]
        try:
            return [str(__import__("ipaddress").ip_address(host))]
        except ValueError:
            raise OSError(f"no such host {host}") from None

    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve


async def test_downloads_an_image(server: ServerState) -> None:
    downloader = SafeDownloader(settings_for(server))
    result = await downloader.fetch(f"{base(server)}/photo.jpg?oh=sig&oe=123")
    assert result.data == JPEG
    assert result.content_type == "image/jpeg"
    assert result.final_url == f"{base(server)}/photo.jpg?oh=sig&oe=123"
    octet = await downloader.fetch(f"{base(server)}/octet")
    assert octet.content_type == "image/png"
    await downloader.aclose()


async def test_follows_redirects_between_allowed_hosts(server: ServerState) -> None:
    downloader = SafeDownloader(settings_for(server))
    result = await downloader.fetch(f"{base(server)}/redirect?to=/photo.png")
    assert result.data == PNG
    assert result.final_url == f"{base(server)}/photo.png"
    with pytest.raises(DownloadRefused, match="more than 5 redirects"):
        await downloader.fetch(f"{base(server)}/loop")


async def test_connects_to_the_checked_address_and_keeps_the_host_name(
    server: ServerState,
) -> None:
    host = "scontent.cdn.test"
    dns = fake_dns({host: ["127.0.0.1"]})
    settings = settings_for(server, f"{host}:{server.port}")
    downloader = SafeDownloader(settings, resolver=dns)
    result = await downloader.fetch(f"http://{host}:{server.port}/photo.jpg")
    assert result.data == JPEG
    assert server.hosts[-1] == f"{host}:{server.port}"
    assert result.final_url == f"http://{host}:{server.port}/photo.jpg"


async def test_loopback_is_refused_unless_listed_exactly(server: ServerState) -> None:
    downloader = SafeDownloader(Settings(download_allow_http=True))  # default CDN list
    with pytest.raises(DownloadRefused, match="not on the allow-list"):
        await downloader.fetch(f"{base(server)}/photo.jpg")
    other_port = SafeDownloader(settings_for(server))
    with pytest.raises(DownloadRefused, match="not on the allow-list"):
        await other_port.fetch(f"http://127.0.0.1:{server.port + 1}/photo.jpg")
    for url in ("http://localhost/x.jpg", "http://[::1]/x.jpg", "http://2130706433/x.jpg"):
        with pytest.raises(DownloadRefused):
            await downloader.fetch(url)


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.0.0.1", "169.254.169.254", "192.168.1.10", "100.64.0.1", "0.0.0.0", "::1"]
    + ["fd00::1", "fe80::1", "::ffff:10.0.0.1", "64:ff9b::a00:1", "2002:a00:1::"],
)
async def test_a_wildcard_host_resolving_to_a_private_address_is_refused_before_connecting(
    address: str,
) -> None:
    transport = NoNetwork()
    dns = fake_dns({"evil.cdninstagram.com": ["31.13.64.1", address]})
    downloader = SafeDownloader(Settings(), httpx.AsyncClient(transport=transport), resolver=dns)
    with pytest.raises(DownloadRefused, match="private address"):
        await downloader.fetch("https://evil.cdninstagram.com/v/t51/photo.jpg")
    assert transport.requests == []


async def test_hosts_off_the_list_are_not_even_resolved() -> None:
    transport = NoNetwork()
    dns = fake_dns({})
    downloader = SafeDownloader(Settings(), httpx.AsyncClient(transport=transport), resolver=dns)
    for url in (
        "https://evil.example.com/x.jpg",
        "https://cdninstagram.com.evil.com/x.jpg",
        "https://evilcdninstagram.com/x.jpg",
        "https://169.254.169.254/latest/meta-data/",
    ):
        with pytest.raises(DownloadRefused, match="not on the allow-list"):
            await downloader.fetch(url)
    assert dns.calls == []  # type: ignore[attr-defined]
    assert transport.requests == []


async def test_redirects_to_private_addresses_are_refused(server: ServerState) -> None:
    dns = fake_dns({"meta.cdninstagram.com": ["169.254.169.254"]})
    downloader = SafeDownloader(settings_for(server, "*.cdninstagram.com"), resolver=dns)
    for target in (
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/admin",
        f"http://127.0.0.1:{server.port + 1}/photo.jpg",
    ):
        with pytest.raises(DownloadRefused, match="not on the allow-list"):
            await downloader.fetch(f"{base(server)}/redirect?to={target}")
    with pytest.raises(DownloadRefused, match=r"resolves to a private address 169\.254"):
        await downloader.fetch(f"{base(server)}/redirect?to=http://meta.cdninstagram.com/x")
    with pytest.raises(DownloadRefused, match="scheme 'file'"):
        await downloader.fetch(f"{base(server)}/redirect?to=file:///etc/passwd")
    # a caller's client that follows redirects on its own is not allowed to
    lax = SafeDownloader(settings_for(server), httpx.AsyncClient(follow_redirects=True))
    with pytest.raises(DownloadRefused, match="not on the allow-list"):
        await lax.fetch(f"{base(server)}/redirect?to=http://10.0.0.1/admin")


async def test_plain_http_needs_the_setting(server: ServerState) -> None:
    downloader = SafeDownloader(settings_for(server, download_allow_http=False))
    with pytest.raises(DownloadRefused, match="scheme 'http' is not allowed"):
        await downloader.fetch(f"{base(server)}/photo.jpg")
    for url in ("ftp://127.0.0.1/x.jpg", "file:///etc/passwd", "gopher://x", "not a url"):
        with pytest.raises(DownloadRefused):
            await downloader.fetch(url)


async def test_body_over_the_cap_is_aborted_while_streaming(server: ServerState) -> None:
    downloader = SafeDownloader(settings_for(server))
    server.chunks_sent = 0
    with pytest.raises(DownloadRefused, match="over the 200,000 byte cap"):
        await downloader.fetch(f"{base(server)}/endless.jpg", max_bytes=200_000)
    await asyncio.sleep(0.2)
    assert server.chunks_sent < 200  # of 1000: the server was stopped early


async def test_too_large_content_length_is_refused_before_reading(server: ServerState) -> None:
    downloader = SafeDownloader(settings_for(server, download_max_bytes=1_000_000))
    with pytest.raises(DownloadRefused, match=r"is 3,006,412 bytes, over the 1,000,000 byte cap"):
        await downloader.fetch(f"{base(server)}/big.jpg")
    assert len((await downloader.fetch(f"{base(server)}/big.jpg", max_bytes=4_000_000)).data)


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/page.html", "is text/html, not an image"),
        ("/html-as.jpg", r"not an image \(starts with b'<!DOCTYPE"),
        ("/truncated.png", "not a readable PNG image"),
        ("/video.mp4", "is video/mp4, not an image"),
    ],
)
async def test_non_images_are_refused(server: ServerState, path: str, reason: str) -> None:
    downloader = SafeDownloader(settings_for(server))
    with pytest.raises(DownloadRefused, match=reason):
        await downloader.fetch(f"{base(server)}{path}")


async def test_videos(server: ServerState) -> None:
    downloader = SafeDownloader(settings_for(server))
    result = await downloader.fetch(f"{base(server)}/video.mp4", kind="video")
    assert result.data == MP4
    with pytest.raises(DownloadRefused, match="not a video"):
        await downloader.fetch(f"{base(server)}/photo.jpg", kind="video")


async def test_http_errors_and_timeouts_fail(server: ServerState) -> None:
    downloader = SafeDownloader(settings_for(server, download_read_timeout_s=0.1))
    with pytest.raises(DownloadFailed, match="HTTP 403"):
        await downloader.fetch(f"{base(server)}/forbidden.jpg")
    with pytest.raises(DownloadFailed, match="HTTP 404"):
        await downloader.fetch(f"{base(server)}/missing.jpg")
    with pytest.raises(DownloadFailed, match="timed out"):
        await downloader.fetch(f"{base(server)}/slow.jpg?s=1")
    deadline = SafeDownloader(settings_for(server, download_total_timeout_s=0.1))
    with pytest.raises(DownloadFailed, match="took over 0.1 s"):
        await deadline.fetch(f"{base(server)}/slow.jpg?s=1")
    closed_port = SafeDownloader(settings_for(server, f"127.0.0.1:{server.port + 1}"))
    with pytest.raises(DownloadFailed):
        await closed_port.fetch(f"http://127.0.0.1:{server.port + 1}/photo.jpg")


async def test_expired_link_is_refreshed_once(server: ServerState) -> None:
    downloader = SafeDownloader(settings_for(server))
    with pytest.raises(LinkExpired):
        await downloader.fetch(f"{base(server)}/expired.jpg")
    asked: list[int] = []

    async def fresh_url() -> str | None:
        asked.append(1)
        return f"{base(server)}/photo.jpg"

    result = await fetch_with_refresh(downloader, f"{base(server)}/expired.jpg", fresh_url)
    assert result.data == JPEG
    assert asked == [1]

    async def still_expired() -> str | None:
        asked.append(2)
        return f"{base(server)}/expired.jpg"

    with pytest.raises(LinkExpired):
        await fetch_with_refresh(downloader, f"{base(server)}/expired.jpg", still_expired)
    assert asked == [1, 2]  # retried once only

    async def gone() -> str | None:
        return None

    with pytest.raises(LinkExpired):
        await fetch_with_refresh(downloader, f"{base(server)}/expired.jpg", gone)


async def test_concurrency_is_bounded(server: ServerState) -> None:
    downloader = SafeDownloader(settings_for(server, download_concurrency=2))
    server.max_in_flight = 0
    await asyncio.gather(
        *(downloader.fetch(f"{base(server)}/slow.jpg?s=0.1&count=1") for _ in range(6))
    )
    assert server.max_in_flight == 2


def test_host_policy() -> None:
    policy = HostPolicy(["*.cdninstagram.com", "*.fbcdn.net", "127.0.0.1:8900", "emu.local"])
    assert policy.allows("scontent-cdg4-1.cdninstagram.com", 443)
    assert policy.allows("a.b.fbcdn.net", 443)
    assert not policy.allows("cdninstagram.com.evil.net", 443)
    assert not policy.allows("fbcdn.net.evil", 443)
    assert policy.allows("127.0.0.1", 8900)
    assert not policy.allows("127.0.0.1", 8901)
    assert policy.allows("emu.local", 1234)
    assert policy.is_explicit("emu.local", 80)
    assert not policy.is_explicit("x.cdninstagram.com", 443)


def test_public_addresses() -> None:
    import ipaddress

    assert _is_public(ipaddress.ip_address("157.240.1.1"))
    assert _is_public(ipaddress.ip_address("2a03:2880:f003::1"))
    for private in ("10.1.2.3", "172.16.0.1", "127.0.0.2", "169.254.169.254", "224.0.0.1"):
        assert not _is_public(ipaddress.ip_address(private))
    assert not _is_public(ipaddress.ip_address("::ffff:127.0.0.1"))
