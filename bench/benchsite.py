"""A generated outlet site for benchmarks, served from memory by a small asyncio HTTP/1.1 server.

Pages are ~100 KB like real news pages: navigation, inline scripts and styles, ad slots, JSON-LD,
related links, a footer; a news sitemap lists them; a share of them republish another page's body
(syndicated copies) so deduplication has work to do. Run as a script: ``python bench/benchsite.py N PORTFILE``.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

WORDS = ("harbour council ferry timetable winter storm bridge repair budget vote market square library lantern "
         "festival river tram depot school garden minister parliament coalition inflation rates bank export "
         "factory union strike wages hospital clinic nurses doctors railway airport runway tourism season "
         "election ballot turnout candidate debate court ruling appeal judge police arrest inquiry report").split()


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def article_html(i: int, n_pages: int, body_seed: int) -> bytes:
    rng = random.Random(i)
    body_rng = random.Random(body_seed)
    title = sentence(rng, 9)[:-1]
    paragraphs = "".join(f"<p>{sentence(body_rng, 28)} {sentence(body_rng, 22)}</p>" for _ in range(12))
    nav = "".join(f'<li><a href="/section/{k}">{WORDS[k % len(WORDS)].title()}</a></li>' for k in range(300))
    related = "".join(f'<li><a href="/news/{(i + k) % n_pages}">{sentence(rng, 8)}</a></li>' for k in range(1, 40))
    script = "var cfg=" + json.dumps({f"k{k}": "v" * 40 for k in range(700)}) + ";"
    ld = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle", "headline": title,
                     "datePublished": f"2026-11-{1 + i % 24:02d}T{i % 24:02d}:15:00+00:00",
                     "author": [{"@type": "Person", "name": "Ana Sousa"}, {"@type": "Person", "name": "Li Wei"}],
                     "publisher": {"@type": "Organization", "name": "Bench Gazette"},
                     "articleSection": "World", "keywords": "harbour, council"})
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title} | Bench Gazette</title>
<meta property="og:title" content="{title}"><meta property="og:site_name" content="Bench Gazette">
<meta property="og:type" content="article"><meta name="description" content="{sentence(rng, 20)}">
<link rel="canonical" href="/news/{i}"><script type="application/ld+json">{ld}</script>
<style>{'.c{color:#333;margin:0 auto;padding:4px}' * 900}</style><script>{script}</script></head><body>
<header><nav><ul>{nav}</ul></nav></header><div class="ad-slot"><script>{script[:5000]}</script>Advertisement</div>
<main><article><h1 class="headline">{title}</h1><div class="byline">By <a rel="author" href="/a/1">Ana Sousa</a>
and <a rel="author" href="/a/2">Li Wei</a></div><time datetime="2026-11-24T10:15:00+00:00">Nov 24</time>
<figure><img src="/img/{i}.jpg"><figcaption>A harbour at dusk. Photo: Jane Roe/Bench Gazette</figcaption></figure>
<div class="article-body">{paragraphs}<p>Advertisement</p></div></article>
<aside><h2>Related</h2><ul>{related}</ul></aside></main>
<footer><p>Sign up for our newsletter</p><p>© 2026 Bench Gazette. All rights reserved.</p></footer>
</body></html>""".encode()


SITEMAP_URLS = 10_000  # a larger site gets a sitemap index of news sitemaps this long
PREGENERATED = 10_000  # larger sites are generated page by page on request (50,000 pages would be 5 GB)


class Site:
    """The pages of an n-page site; the last ``dup_share`` of them republish the bodies of the first ones."""

    def __init__(self, n_pages: int, dup_share: float = 0.1) -> None:
        self.n_pages = n_pages
        self.first_copy = n_pages - int(n_pages * dup_share)
        self.pages: dict[str, bytes] = {}
        if n_pages <= PREGENERATED:  # pre-generated: the server answers from memory, as fast as it can
            self.pages = {f"/news/{i}": self.article(i) for i in range(n_pages)}

    def article(self, i: int) -> bytes:
        original = i - self.first_copy if i >= self.first_copy else i
        return article_html(i, self.n_pages, 1_000_000 + original)

    def sitemap(self, part: int | None) -> bytes:
        if part is None and self.n_pages > SITEMAP_URLS:
            parts = "".join(f"<sitemap><loc>{{base}}/news-sitemap-{k}.xml</loc></sitemap>"
                            for k in range((self.n_pages + SITEMAP_URLS - 1) // SITEMAP_URLS))
            return ('<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/'
                    'sitemap/0.9">' + parts + "</sitemapindex>").encode()
        ids = range(self.n_pages) if part is None else \
            range(part * SITEMAP_URLS, min(self.n_pages, (part + 1) * SITEMAP_URLS))
        urls = "".join(f"<url><loc>{{base}}/news/{i}</loc><news:news><news:publication><news:name>Bench</news:name>"
                       f"<news:language>en</news:language></news:publication><news:publication_date>"
                       f"2026-11-24T10:00:00Z</news:publication_date><news:title>t{i}</news:title></news:news></url>"
                       for i in ids)
        return ('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/'
                'schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
                + urls + "</urlset>").encode()

    def get(self, path: str) -> bytes | None:
        if path in self.pages:
            return self.pages[path]
        if path == "/news-sitemap.xml":
            return self.sitemap(None)
        if path.startswith("/news-sitemap-") and path.endswith(".xml") and path[14:-4].isdigit():
            part = int(path[14:-4])
            return self.sitemap(part) if part * SITEMAP_URLS < self.n_pages else None
        if path.startswith("/news/") and path[6:].isdigit() and int(path[6:]) < self.n_pages:
            return self.article(int(path[6:]))
        return None


@contextlib.contextmanager
def running_site(n_pages: int, workdir: Path) -> Iterator[str]:
    """Start this site in a child process (so it does not share the crawler's CPU time); yields its base URL."""
    portfile = workdir / "port"
    server = subprocess.Popen([sys.executable, __file__, str(n_pages), str(portfile)])
    try:
        for _ in range(1200):  # bounded: 60 s for the pages to be generated
            if portfile.exists() and portfile.read_text():
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("bench site did not start")
        yield f"http://127.0.0.1:{portfile.read_text()}"
    finally:
        server.terminate()
        server.wait(timeout=10)


async def serve(site: Site, portfile: str) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                path = head.split(b" ", 2)[1].decode()
                body = site.get(path)
                if body is not None and path.endswith(".xml"):
                    body = body.replace(b"{base}", base.encode())
                status = b"200 OK" if body is not None else b"404 Not Found"
                body = body or b"not found"
                ctype = b"application/xml" if path.endswith(".xml") else b"text/html; charset=utf-8"
                writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Type: " + ctype + b"\r\nContent-Length: "
                             + str(len(body)).encode() + b"\r\n\r\n" + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    with open(portfile, "w") as fh:
        fh.write(str(port))
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    n = int(sys.argv[1])
    asyncio.run(serve(Site(n), sys.argv[2]))
