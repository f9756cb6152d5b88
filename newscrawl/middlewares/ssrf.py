"""Never fetch private, loopback, link-local or non-http(s) targets unless a setting allows them.

A crawler that follows links from pages it does not control can be steered at the machine it runs on:
a sitemap entry ``http://169.254.169.254/latest/meta-data/`` (cloud credentials), a 302 from a public
article to ``http://127.0.0.1:6800/`` (scrapyd's API), a ``file:///etc/passwd`` link, or a public
hostname whose DNS answer is ``10.0.0.5``. Scrapy's offsite check does not help: redirects of a start
request keep ``dont_filter`` and bypass it, and spiders without ``allowed_domains`` have none.

Enable with::

    DOWNLOADER_MIDDLEWARES = {"newscrawl.middlewares.ssrf.SsrfGuardMiddleware": 60}

Why 60: process_request runs in ascending order, so at 60 the guard sees every request, redirects and
meta refreshes included (they come back through the scheduler), after Scrapy's offsite filter (50,
cheaper, no DNS) and before robots.txt (100), which would otherwise fetch the forbidden host's
``/robots.txt`` first.

Rules, in order:

1. the scheme must be http or https (``file:``, ``data:``, ``ftp:``, ``s3:`` are refused);
2. a host listed in ``NEWSCRAWL_ALLOW_HOSTS`` passes (entries: hostnames, ``.suffix`` for a domain and
   its subdomains, IP addresses or CIDR networks, comma-separated; default empty);
3. an IP literal (``http://127.0.0.2/``, ``http://[::1]/``, ``http://[::ffff:10.0.0.1]/``) must be a
   public address or inside an allowed network;
4. any other hostname is resolved through the reactor's resolver, the same cached resolver the download
   handler connects with (``DNSCACHE_ENABLED``, on by default, is what keeps the check and the
   connection on the same answer), and every address must pass rule 3. Spellings such as
   ``http://2130706433/`` or ``http://127.1/`` are resolved to 127.0.0.1 here and refused.

Requests answered without the network are not resolved: replay mode (``NEWSCRAWL_REPLAY``) checks only
rules 1-3, and pages read from disk (``meta["newscrawl_file"]``) are never seen (answered at order 1).

A refused request raises IgnoreRequest, logs one WARNING per host and reason, and counts
``newscrawl/ssrf/blocked/<reason>`` with reason one of scheme, no_host, loopback, private, link_local,
multicast, unspecified, reserved. A DNS failure is raised as Scrapy's CannotResolveHostError (retried
like any other) rather than let through: a first answer that fails and a second that points inside the
network is a known rebinding trick.
"""
from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scrapy.exceptions import CannotResolveHostError, IgnoreRequest, NotConfigured
from scrapy.http import Request
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)

STAT = "newscrawl/ssrf/blocked/"
ALLOWED_SCHEMES = frozenset({"http", "https"})

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def address_problem(ip: IPAddress) -> str | None:
    """Why connecting to ``ip`` is refused ("loopback", "private", ...), or None for a public address.

    IPv4 inside IPv6 (``::ffff:127.0.0.1``, 6to4 ``2002:7f00:1::``) is judged by the IPv4 address,
    which is where the packets end up.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        inner = ip.ipv4_mapped or ip.sixtofour
        if inner is not None:
            return address_problem(inner)
    if ip.is_unspecified:
        return "unspecified"  # 0.0.0.0 reaches the local host on Linux
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link_local"  # 169.254.169.254: cloud metadata and credentials
    if ip.is_multicast:
        return "multicast"
    if ip.is_private:
        return "private"
    if not ip.is_global:
        return "reserved"  # 100.64.0.0/10 carrier NAT, 240.0.0.0/4, documentation ranges
    return None


def ip_literal(host: str) -> IPAddress | None:
    """The address when ``host`` is written as one (IPv6 without brackets), else None."""
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])  # drop an IPv6 zone id ("fe80::1%eth0")
    except ValueError:
        return None


@dataclass(frozen=True)
class AllowList:
    """Operator-approved exceptions: hostnames, ``.domain`` suffixes, addresses and networks."""

    networks: tuple[IPNetwork, ...] = ()
    hosts: frozenset[str] = frozenset()
    suffixes: tuple[str, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AllowList:
        """Parse setting entries; raises ValueError on a malformed network ("10.0.0.0/33")."""
        networks: list[IPNetwork] = []
        hosts: set[str] = set()
        suffixes: list[str] = []
        for raw in entries:
            entry = raw.strip().lower().strip("[]")
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
                continue
            except ValueError:
                if "/" in entry:
                    raise ValueError(f"NEWSCRAWL_ALLOW_HOSTS: {raw!r} is not a valid network") from None
            if entry.startswith("."):
                suffixes.append(entry)
            else:
                hosts.add(entry.rstrip("."))
        return cls(tuple(networks), frozenset(hosts), tuple(suffixes))

    def allows_host(self, host: str) -> bool:
        return host in self.hosts or any(host.endswith(s) or host == s[1:] for s in self.suffixes)

    def allows_ip(self, ip: IPAddress) -> bool:
        return any(ip.version == net.version and ip in net for net in self.networks)


class SsrfGuardMiddleware:
    """Downloader middleware refusing requests to non-public targets (see the module docstring)."""

    def __init__(self, crawler: Crawler, allow: AllowList, *, resolve: bool) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.allow = allow
        self.resolve = resolve
        self._warned: set[tuple[str, str]] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("NEWSCRAWL_SSRF_ENABLED", True):
            raise NotConfigured("NEWSCRAWL_SSRF_ENABLED is off: private and file: targets will be fetched")
        allow = AllowList.parse(settings.getlist("NEWSCRAWL_ALLOW_HOSTS"))
        replay = bool(settings.get("NEWSCRAWL_REPLAY"))
        if not replay and not settings.getbool("DNSCACHE_ENABLED", True):
            logger.warning("DNSCACHE_ENABLED is off: the SSRF guard and the download may see different DNS answers")
        if allow.networks or allow.hosts or allow.suffixes:
            logger.info("SSRF guard: also allowing %s", ", ".join(
                [str(n) for n in allow.networks] + sorted(allow.hosts) + list(allow.suffixes)))
        return cls(crawler, allow, resolve=not replay)

    async def process_request(self, request: Request) -> None:
        """Return None for an allowed request; raise IgnoreRequest for a refused one."""
        if request.meta.get("newscrawl_file"):
            return None  # answered from a saved page on disk, never from the network
        parsed = urlparse_cached(request)
        scheme = (parsed.scheme or "").lower()
        if scheme not in ALLOWED_SCHEMES:
            self._refuse(request, scheme or "?", "scheme", f"{scheme or 'no'} scheme")
        host = (parsed.hostname or "").rstrip(".").lower()
        if not host:
            self._refuse(request, "?", "no_host", "no host in URL")
        if self.allow.allows_host(host):
            return None
        literal = ip_literal(host)
        if literal is not None:
            self._check(request, host, literal)
            return None
        if not self.resolve:
            return None  # replay: nothing is connected to, and DNS must not be touched
        for ip in await self._addresses(host):
            self._check(request, host, ip)
        return None

    async def _addresses(self, host: str) -> list[IPAddress]:
        """Every address the download handler may connect to for ``host``."""
        from scrapy.resolver import dnscache
        from twisted.internet import reactor

        try:
            first = await maybe_deferred_to_future(reactor.resolve(host))  # type: ignore[attr-defined]
        except Exception as exc:
            raise CannotResolveHostError(f"{host}: {exc}") from exc
        found = [first]
        cached = dnscache.get(host)
        # CachingHostnameResolver (IPv6-capable) caches a list of address objects: check all of them.
        if isinstance(cached, list):
            found.extend(getattr(a, "host", a) for a in cached)
        out: list[IPAddress] = []
        for value in found:
            ip = ip_literal(str(value))
            if ip is None:
                raise CannotResolveHostError(f"{host}: resolver returned {value!r}")
            out.append(ip)
        return out

    def _check(self, request: Request, host: str, ip: IPAddress) -> None:
        problem = address_problem(ip)
        if problem is not None and not self.allow.allows_ip(ip):
            detail = f"{host} is {ip}" if str(ip) != host else f"{ip}"
            self._refuse(request, host, problem, detail)

    def _refuse(self, request: Request, host: str, reason: str, detail: str) -> None:
        self.stats.inc_value(STAT + reason)
        key = (host, reason)
        level = logging.DEBUG if key in self._warned else logging.WARNING
        self._warned.add(key)
        logger.log(level, "SSRF guard: not fetching %s (%s: %s); allow it explicitly with NEWSCRAWL_ALLOW_HOSTS",
                   request.url[:300], reason, detail)
        raise IgnoreRequest(f"SSRF guard: {reason} target ({detail})")

