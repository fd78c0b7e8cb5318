"""Visit one published URL the way an OIT checker would, safely, and say what is wrong with it.

A visit follows redirects (at most :data:`MAX_REDIRECTS`, each one http(s) again), gives up after
``timeout`` seconds, reads at most ``max_bytes`` of the body, and reports the status code, the
content type, the final URL and the problem, if any:

- ``not_http``: not an http(s) URL (``javascript:``, ``file:``, ``ftp:``, a bare word);
- ``blocked``: the host resolves to an address that is not globally routable (private, loopback,
  link-local, the shared 100.64/10 range where some clouds keep their metadata service...). The
  server would otherwise fetch inside its own network for whoever typed the URL (SSRF). The
  connection goes to the very address checked, so a second DNS answer cannot point elsewhere.
  Tests and intranet deployments allow it with ``ITA_LINKCHECK_ALLOW_PRIVATE=1``;
- ``broken``: the server answered 4xx/5xx, or could not be reached;
- ``timeout``: no answer in time;
- ``empty``: 200, but an HTML page with (almost) no visible text, or another file of a few bytes;
- ``other_domain``: the final page is on another agency's domain (not the agency's own site).

Nothing here touches the database; ``services/oit.py`` records the results.
"""

from __future__ import annotations

import html
import http.client
import ipaddress
import re
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Any, Optional
from urllib.parse import urljoin, urlsplit

from .config import get_settings
from .texts import t

MAX_REDIRECTS = 5
DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_BYTES = 2 * 1024 * 1024
MIN_VISIBLE_TEXT = 40  # characters of text an HTML page must show to count as not empty
MIN_BODY_BYTES = 64  # a PDF or a text file smaller than this is empty too
USER_AGENT = "ITA-dashboard link check (+https://github.com/)"

_TAGS = re.compile(r"<(script|style|noscript)\b.*?</\1\s*>|<!--.*?-->|<[^>]+>", re.S | re.I)
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class LinkResult:
    url: str
    ok: bool
    problem: Optional[str] = None  # see the module docstring; None when ok
    status_code: Optional[int] = None
    content_type: Optional[str] = None
    final_url: Optional[str] = None
    size_bytes: Optional[int] = None
    detail: str = ""  # for the log / the admin: the error text


def allow_private() -> bool:
    """``ITA_LINKCHECK_ALLOW_PRIVATE``: an intranet site, or the tests' local server."""
    return get_settings().linkcheck_allow_private


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower().rstrip(".")


def same_site(host: str, site: str) -> bool:
    """``host`` is the agency's ``site`` or a subdomain of it (``www.naoo.go.th`` of ``naoo.go.th``)."""
    host, site = host.lower().removeprefix("www."), site.lower().removeprefix("www.")
    return bool(site) and (host == site or host.endswith("." + site))


def visible_text_length(body: bytes, content_type: str) -> int:
    charset = "utf-8"
    if m := re.search(r"charset=([\w-]+)", content_type or "", re.I):
        charset = m.group(1)
    try:
        text = body.decode(charset, errors="replace")
    except LookupError:
        text = body.decode("utf-8", errors="replace")
    return len(_SPACE.sub(" ", html.unescape(_TAGS.sub(" ", text))).strip())


def _addresses(host: str, port: int) -> list[str]:
    return [info[4][0].split("%")[0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def _public(address: str) -> bool:
    """Globally routable: not private, loopback, link-local, shared (100.64/10), 6to4... (SSRF)."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):  # an IPv4 address carried inside IPv6 is judged as itself
        ip = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None) or ip
    return ip.is_global and not ip.is_multicast


class _Timeout(Exception):
    pass


class _Blocked(Exception):
    pass


def _get(url: str, *, deadline: float, max_bytes: int) -> tuple[int, Any, bytes]:
    """One GET, connected to the very address that was checked (no second DNS answer can slip in),
    read in chunks until ``max_bytes`` + 1 or the deadline. Returns (status, headers, body)."""
    parts = urlsplit(url)
    https = parts.scheme.lower() == "https"
    host, port = parts.hostname or "", parts.port or (443 if https else 80)

    def left() -> float:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _Timeout()
        return remaining

    addresses = _addresses(host, port)
    if not addresses:
        raise OSError(f"no address for {host}")
    if not allow_private() and not all(_public(a) for a in addresses):
        raise _Blocked()
    sock = socket.create_connection((addresses[0], port), timeout=left())
    if https:
        sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(host, port, timeout=left())
    else:
        conn = http.client.HTTPConnection(host, port, timeout=left())
    conn.sock = sock  # connect() is skipped: the request goes to the address checked above
    try:
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conn.request("GET", path, headers={"User-Agent": USER_AGENT, "Accept": "*/*"})
        response = conn.getresponse()
        chunks, size = [], 0
        while size <= max_bytes:
            left()  # the deadline, checked between reads; each read waits at most the socket timeout
            chunk = response.read1(min(65536, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return response.status, response.headers, b"".join(chunks)
    finally:
        conn.close()


def check_url(url: str, *, site: Optional[str] = None, timeout: float = DEFAULT_TIMEOUT,
              max_bytes: int = DEFAULT_MAX_BYTES) -> LinkResult:
    """Visit ``url``; ``site`` is the agency's own host (None: the domain is not judged).

    ``timeout`` bounds the whole visit, redirects included, not each network read: a server that
    trickles a byte at a time is cut off too.
    """
    url = (url or "").strip()
    current = url
    deadline = time.monotonic() + timeout
    for _ in range(MAX_REDIRECTS + 1):
        parts = urlsplit(current)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            return LinkResult(url, False, "not_http", final_url=current, detail=t("link_not_http"))
        try:
            status, headers, body = _get(current, deadline=deadline, max_bytes=max_bytes)
        except _Blocked:
            return LinkResult(url, False, "blocked", final_url=current, detail=t("link_blocked"))
        except (_Timeout, TimeoutError, socket.timeout):
            return LinkResult(url, False, "timeout", final_url=current, detail=t("link_timeout", seconds=timeout))
        except (OSError, http.client.HTTPException, ValueError, UnicodeError) as exc:
            return LinkResult(url, False, "broken", final_url=current, detail=str(exc)[:200] or type(exc).__name__)
        content_type = headers.get("Content-Type", "") or ""
        if status in (301, 302, 303, 307, 308) and headers.get("Location"):
            current = urljoin(current, headers["Location"])
            continue
        if status >= 400:
            return LinkResult(url, False, "broken", status_code=status, final_url=current,
                              content_type=content_type or None, detail=f"HTTP {status}")
        size = len(body)
        common = dict(status_code=status, content_type=content_type or None, final_url=current, size_bytes=min(size, max_bytes))
        is_html = "html" in content_type.lower()
        if (size < MIN_BODY_BYTES and not is_html) or (is_html and visible_text_length(body[:max_bytes], content_type) < MIN_VISIBLE_TEXT):
            return LinkResult(url, False, "empty", detail=t("link_empty"), **common)
        if site and not same_site(host_of(current), site):
            return LinkResult(url, False, "other_domain", detail=t("link_other_domain", host=host_of(current)), **common)
        return LinkResult(url, True, **common)
    return LinkResult(url, False, "broken", final_url=current, detail=t("link_too_many_redirects", n=MAX_REDIRECTS))
