"""A local news site on 127.0.0.1 whose articles need JavaScript, plus bot-wall pages (all text invented).

Routes:

- ``/js-sitemap.xml?n=N``: news sitemap of ``/js/1`` .. ``/js/N``.
- ``/js/N``: an article shell; its script fetches ``/api/story/N.json`` and writes headline, byline,
  date and paragraphs into the page (plain HTTP sees an empty ``<div class="story">``). It also asks for
  ``/img/N.png``, which the browser should abort.
- ``/plain-sitemap.xml?n=N`` and ``/plain/N``: the same stories rendered on the server (the baseline).
- ``/challenge-sitemap.xml``: ``/cf/1`` and ``/dd/1``.
- ``/cf/N``: a Cloudflare-like 200 interstitial ("Just a moment...") whose script sets a clearance
  cookie and reloads; with the cookie, the article. ``/dd/N``: a DataDome-like 403, always.
  With ``Site.walls_up = False`` both serve their article (the outlet lifted its wall); ``/dd/N`` tells
  story N + 50.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.httpsite import SiteHandler
from tests.httpsite import serve as serve_handler

WORDS = ("lighthouse keeper orchard tramline ferry council archive glacier violin market harbour lantern "
         "bakery regatta meadow quarry observatory pottery chess festival").split()


def story(n: int) -> dict[str, Any]:
    """The invented story number ``n``: headline, author, date and six paragraphs of 16 words."""
    paragraphs = [
        f"{' '.join(WORDS[(n * 3 + i * 5 + k) % len(WORDS)] for k in range(16)).capitalize()} "
        f"(part {i} of dispatch {n})."
        for i in range(6)
    ]
    return {"headline": f"Dispatch {n}: the observatory reopens", "author": "Ines Varga",
            "published": f"2026-10-{10 + n % 18:02d}T08:15:00Z", "paragraphs": paragraphs}


def _head(title: str) -> str:
    return f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'


def server_article(n: int) -> str:
    s = story(n)
    paras = "".join(f"<p>{p}</p>" for p in s["paragraphs"])
    return (f"{_head(s['headline'] + ' | Valley Courier')}</head><body><nav><a href='/'>Home</a></nav><article>"
            f"<h1>{s['headline']}</h1><p class='byline'>By <a href='/a/iv'>{s['author']}</a></p>"
            f"<time datetime='{s['published']}'>October</time><div class='story'>{paras}</div></article>"
            "</body></html>")


def js_article(n: int) -> str:
    # Rendering waits for a fetch, i.e. finishes after DOMContentLoaded, as client-rendered news apps do.
    script = """
fetch('/api/story/N.json').then(r => r.json()).then(s => {
  document.querySelector('article h1').textContent = s.headline;
  const by = document.querySelector('article .byline a'); by.textContent = s.author;
  document.querySelector('article time').setAttribute('datetime', s.published);
  const story = document.querySelector('article .story');
  for (const text of s.paragraphs) { const p = document.createElement('p'); p.textContent = text; story.appendChild(p); }
});""".replace("N.json", f"{n}.json")
    return (f"{_head('Valley Courier')}</head><body><nav><a href='/'>Home</a></nav><div id='app'><article>"
            "<h1></h1><p class='byline'>By <a href='/a/iv'></a></p><time datetime=''></time>"
            f"<img src='/img/{n}.png' alt=''><div class='story'></div></article></div>"
            f"<noscript>Enable JavaScript to read the Valley Courier.</noscript><script>{script}</script></body></html>")


CF_INTERSTITIAL = (_head("Just a moment...") + "<meta name='robots' content='noindex,nofollow'></head><body>"
                   "<div class='main-wrapper'><h1>valley-courier.test</h1><p>Verifying you are human. This may take "
                   "a few seconds.</p></div><script>window._cf_chl_opt={cvId:'3',cType:'managed'};"
                   "setTimeout(function(){document.cookie='cf_clearance=ok; path=/';location.reload();},50);"
                   "</script></body></html>")

DD_BLOCK = (_head("valley-courier.test") + "</head><body><p id='cmsg'>Please enable JS and disable any ad blocker"
            "</p><script>var dd={'rt':'c','cid':'AHrlqAAAAAMA','hsh':'0F1','t':'bv','host':'geo.captcha-delivery.com'}"
            "</script></body></html>")


class Site(SiteHandler):
    hits: dict[str, int] = {}
    walls_up = True
    protocol_version = "HTTP/1.1"  # keep-alive, as real sites: the browser reuses its connection

    def do_GET(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        path, query = url.path, parse_qs(url.query)
        Site.hits[path] = Site.hits.get(path, 0) + 1
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        if path == "/robots.txt":
            return self.reply(200, "User-agent: *\nAllow: /\n", "text/plain")
        if path in ("/js-sitemap.xml", "/plain-sitemap.xml", "/challenge-sitemap.xml"):
            n = int(query.get("n", ["3"])[0])
            urls = {"/js-sitemap.xml": [f"/js/{i}" for i in range(1, n + 1)],
                    "/plain-sitemap.xml": [f"/plain/{i}" for i in range(1, n + 1)],
                    "/challenge-sitemap.xml": ["/cf/1", "/dd/1"]}[path]
            return self.reply(200, sitemap(base, urls), "application/xml")
        kind, _, num = path.strip("/").partition("/")
        if kind == "api" and num.startswith("story/"):
            return self.reply(200, json.dumps(story(int(num[6:].removesuffix(".json")))), "application/json")
        if not num.isdigit():
            return self.reply(404, "<html><body>Not found</body></html>", "text/html")
        n = int(num)
        if kind == "js":
            return self.reply(200, js_article(n), "text/html; charset=utf-8")
        if kind == "plain":
            return self.reply(200, server_article(n), "text/html; charset=utf-8")
        if kind == "img":
            return self.reply(200, "\x89PNG", "image/png")
        if kind == "cf":
            cleared = "cf_clearance=ok" in (self.headers.get("Cookie") or "")
            if Site.walls_up and not cleared:
                return self.reply(200, CF_INTERSTITIAL, "text/html; charset=UTF-8", {"Cache-Control": "no-store"})
            return self.reply(200, server_article(n), "text/html; charset=utf-8")
        if kind == "dd":
            if Site.walls_up:
                return self.reply(403, DD_BLOCK, "text/html;charset=utf-8", {"X-DataDome": "protected"})
            return self.reply(200, server_article(n + 50), "text/html; charset=utf-8")  # not /cf/N's story
        return self.reply(404, "<html><body>Not found</body></html>", "text/html")

    def reply(self, status: int, body: str | bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
        super().reply(status, body.encode("utf-8") if isinstance(body, str) else body, ctype, headers)


def sitemap(base: str, paths: list[str]) -> str:
    entries = "".join(
        f"<url><loc>{base}{p}</loc><news:news><news:publication><news:name>Valley Courier</news:name>"
        f"<news:language>en</news:language></news:publication>"
        f"<news:publication_date>2026-10-20T08:00:00Z</news:publication_date>"
        f"<news:title>{p}</news:title></news:news></url>" for p in paths)
    return ('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">' + entries + "</urlset>")


@contextmanager
def serve() -> Iterator[str]:
    """Run the site on 127.0.0.1 (a free port) in a thread; yields its base URL."""
    Site.hits = {}
    Site.walls_up = True
    with serve_handler(Site) as base:
        yield base
