"""A DNS resolver for tests: names listed in ``HOSTILE_FAKE_DNS`` ("intranet.test=127.0.0.2,...") resolve
to the given address without any network; other names go to Scrapy's normal resolver.

Used as ``-s TWISTED_DNS_RESOLVER=tests.spiders.fakedns.FakeDnsResolver`` to stand in for a public
hostname whose DNS answer points inside the network.
"""
from __future__ import annotations

import os
from typing import Any

from scrapy.resolver import CachingThreadedResolver, dnscache
from twisted.internet import defer


def fake_names() -> dict[str, str]:
    pairs = (p.split("=", 1) for p in os.environ.get("HOSTILE_FAKE_DNS", "").split(",") if "=" in p)
    return {name.strip().lower(): addr.strip() for name, addr in pairs}


class FakeDnsResolver(CachingThreadedResolver):
    def getHostByName(self, name: str, timeout: Any = ()) -> defer.Deferred[str]:  # noqa: N802 - Twisted API
        addr = fake_names().get(name.lower())
        if addr is None:
            return super().getHostByName(name, timeout)
        dnscache[name] = addr
        return defer.succeed(addr)
