"""Visit one published URL the way an OIT checker would, safely, and say what is wrong with it.

A visit follows redirects (at most :data:`MAX_REDIRECTS`, each one http(s) again), gives up after
``timeout`` seconds, reads at most ``max_bytes`` of the body, and reports the status code, the
content type, the final URL and the problem, if any:

- ``not_http``: not an http(s) URL (``javascript:``, ``file:``, ``ftp:``, a bare word);
- ``blocked``: the host resolves to a private, loopback or link-local address. The server would
  otherwise fetch inside its own network for whoever typed the URL (SSRF); tests and intranet
  deployments allow it with ``ITA_LINKCHECK_ALLOW_PRIVATE=1``;
- ``broken``: the server answered 4xx/5xx, or could not be reached;
- ``timeout``: no answer in time;
- ``empty``: 200, but an HTML page with (almost) no visible text, or no body at all;
- ``other_domain``: the final page is on another agency's domain (not the agency's own site).

Nothing here touches the database; ``services/oit.py`` records the results.
"""

from __future__ import annotations

import html
import ipaddress
import os
import re
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Optional
from urllib.parse import urljoin, urlsplit

MAX_REDIRECTS = 5
DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_BYTES = 2 * 1024 * 1024
MIN_VISIBLE_TEXT = 40  # characters of text an HTML page must show to count as not empty
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
    return os.environ.get("ITA_LINKCHECK_ALLOW_PRIVATE", "").strip().lower() in ("1", "true", "yes")


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


def _private(host: str) -> bool:
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False  # unresolvable: the fetch itself reports it as broken
    for info in infos:
        addr = ipaddress.ip_address(info[4][0].split("%")[0])
        if addr.is_private or addr.is_loopback or addr.is_link_local or addr.is_reserved or addr.is_multicast:
            return True
    return False


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are followed by :func:`check_url` itself, so each hop is checked like the first."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D401 - urllib's API
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def check_url(url: str, *, site: Optional[str] = None, timeout: float = DEFAULT_TIMEOUT,
              max_bytes: int = DEFAULT_MAX_BYTES) -> LinkResult:
    """Visit ``url``; ``site`` is the agency's own host (None: the domain is not judged)."""
    url = (url or "").strip()
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        parts = urlsplit(current)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            return LinkResult(url, False, "not_http", final_url=current, detail="ต้องเป็นลิงก์ http:// หรือ https://")
        if not allow_private() and _private(parts.hostname):
            return LinkResult(url, False, "blocked", final_url=current, detail="ที่อยู่ภายในเครือข่าย ไม่ตรวจ")
        request = urllib.request.Request(current, headers={"User-Agent": USER_AGENT, "Accept": "*/*"})
        try:
            response = _OPENER.open(request, timeout=timeout)
        except urllib.error.HTTPError as exc:
            if exc.code in (301, 302, 303, 307, 308) and exc.headers.get("Location"):
                current = urljoin(current, exc.headers["Location"])
                exc.close()
                continue
            exc.close()
            return LinkResult(url, False, "broken", status_code=exc.code, final_url=current,
                              content_type=exc.headers.get("Content-Type"), detail=f"HTTP {exc.code}")
        except (TimeoutError, socket.timeout):
            return LinkResult(url, False, "timeout", final_url=current, detail=f"ไม่ตอบภายใน {timeout:g} วินาที")
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, (TimeoutError, socket.timeout)):
                return LinkResult(url, False, "timeout", final_url=current, detail=f"ไม่ตอบภายใน {timeout:g} วินาที")
            return LinkResult(url, False, "broken", final_url=current, detail=str(reason)[:200])
        with response:
            status = response.status
            content_type = response.headers.get("Content-Type", "") or ""
            try:
                body = response.read(max_bytes + 1)
            except (TimeoutError, socket.timeout):
                return LinkResult(url, False, "timeout", status_code=status, final_url=current,
                                  content_type=content_type, detail=f"ไม่ตอบภายใน {timeout:g} วินาที")
            except OSError as exc:
                return LinkResult(url, False, "broken", status_code=status, final_url=current, detail=str(exc)[:200])
        size = len(body)
        common = dict(status_code=status, content_type=content_type or None, final_url=current, size_bytes=min(size, max_bytes))
        if size == 0 or ("html" in content_type.lower() and visible_text_length(body[:max_bytes], content_type) < MIN_VISIBLE_TEXT):
            return LinkResult(url, False, "empty", detail="หน้าเว็บว่าง ไม่มีเนื้อหา", **common)
        if site and not same_site(host_of(current), site):
            return LinkResult(url, False, "other_domain", detail=f"อยู่ที่ {host_of(current)} ไม่ใช่เว็บไซต์ของหน่วยงาน", **common)
        return LinkResult(url, True, **common)
    return LinkResult(url, False, "broken", final_url=current, detail=f"เปลี่ยนเส้นทางเกิน {MAX_REDIRECTS} ครั้ง")
