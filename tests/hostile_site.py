"""An adversarial web site for tests/test_hostile.py: one endpoint per fault, on 127.0.0.1 (and one
"internal" server on 127.0.0.2), each server in its own thread on an ephemeral port.

Every page text is invented here. Every stream the server sends is bounded (trickle: 20 s, endless:
64 MiB) so nothing runs forever even if a client never hangs up.
"""
from __future__ import annotations

import gzip
import json
import threading
import time
import zlib
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import brotli

try:
    from compression import zstd  # type: ignore[import-not-found]  # Python 3.14+
except ImportError:
    from backports import zstd  # type: ignore[no-redef]

BOMB_BYTES = 32 * 1024 * 1024  # 4x newscrawl's 8 MiB cap; a 52-byte brotli body
TRICKLE_SECONDS = 20
ENDLESS_CAP = 64 * 1024 * 1024
CALENDAR_PAGES = 60  # the trap is "endless" for any budget below this; the server stops here to stay bounded

WORDS = ("a câmara municipal aprovou ontem o orçamento para a reconstrução da ponte velha e a população "
         "não esconde a satisfação com a decisão tomada depois de três meses de debate sobre eleições "
         "informação coração você mercado escola biblioteca porto comboio inverno").split()


def story(n: int, paragraphs: int = 5, extra: str = "") -> list[str]:
    """Invented Portuguese paragraphs, different for every ``n`` (dedup must not merge pages)."""
    out = []
    for i in range(paragraphs):
        words = [WORDS[(n * 7 + i * 3 + k) % len(WORDS)] for k in range(18)]
        out.append(f"{' '.join(words).capitalize()} na edição {n}, parágrafo {i}.")
    if extra:
        out.append(extra)
    return out


def article_html(n: int, title: str, paragraphs: list[str], *, head: str = "", lang: str | None = "pt") -> str:
    lang_attr = f' lang="{lang}"' if lang else ""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"<!DOCTYPE html><html{lang_attr}><head>{head}<title>{title}</title></head><body>"
            f"<nav><a href='/'>Início</a></nav><article><h1>{title}</h1>"
            f"<time datetime='2026-03-{n % 27 + 1:02d}T10:00:00+00:00'>março</time>"
            f"<div class='story'>{body}</div></article></body></html>")


# The phrase every charset page carries; it must come out exactly like this.
PHRASE = "Não há informação sobre as eleições: o coração da cidade, você e três ações."
MOJIBAKE = PHRASE.encode("utf-8").decode("cp1252")  # "NÃ£o hÃ¡ informaÃ§Ã£o ..."


def _bombs() -> dict[str, tuple[bytes, str]]:
    html = b"<html><body>" + b" " * BOMB_BYTES
    gz = gzip.compress(html, 6)
    return {
        "br": (brotli.compress(html, quality=4), "br"),
        "gzip": (gz, "gzip"),
        "deflate": (zlib.compress(html, 6), "deflate"),
        "zstd": (zstd.compress(html, 3), "zstd"),
        "gzip-br": (brotli.compress(gz, quality=4), "gzip, br"),  # gzip first, then br
    }


@dataclass
class Server:
    role: str
    httpd: ThreadingHTTPServer
    hits: list[tuple[float, str]] = field(default_factory=list)

    @property
    def base(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def count(self, path: str) -> int:
        return sum(1 for _, p in self.hits if p == path)

    def times(self, path: str) -> list[float]:
        return [t for t, p in self.hits if p == path]


class Handler(BaseHTTPRequestHandler):
    server_version = "hostile/1"
    site: HostileSite  # set on the subclass made per site

    def log_message(self, *args: Any) -> None:
        pass

    # ------------------------------------------------------------------ helpers
    def reply(self, status: int, body: bytes | str = b"", ctype: str = "text/html; charset=utf-8",
              headers: dict[str, str] | None = None) -> None:
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def redirect(self, location: str, status: int = 302) -> None:
        self.reply(status, b"", "", {"Location": location})

    def do_GET(self) -> None:  # noqa: N802
        server: Server = self.server.hostile  # type: ignore[attr-defined]
        server.hits.append((time.monotonic(), self.path))
        handler = getattr(self, f"role_{server.role}")
        try:
            handler(self.path)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client hung up: for the trickle and endless endpoints that is the point

    # ------------------------------------------------------------------ servers
    def role_main(self, path: str) -> None:  # noqa: C901 - one branch per endpoint
        site = self.site
        if path == "/robots.txt":
            return self.reply(200, "User-agent: *\nDisallow: /private/\n", "text/plain")
        if path.startswith("/bomb/"):
            kind = path.rsplit("/", 1)[1]
            if kind == "corrupt-gzip":
                return self.reply(200, b"\x1f\x8b\x08\x00 this is not gzip at all", "text/html",
                                  {"Content-Encoding": "gzip"})
            body, encoding = site.bombs[kind]
            return self.reply(200, body, "text/html", {"Content-Encoding": encoding})
        if path == "/charset/header-latin1":
            html = article_html(1, "Página em UTF-8 declarada latin-1", story(1, extra=PHRASE),
                                head='<meta charset="utf-8">')
            return self.reply(200, html.encode("utf-8"), "text/html; charset=iso-8859-1")
        if path == "/charset/header-utf8-meta-1252":
            html = article_html(2, "Página windows-1252 declarada UTF-8", story(2, extra=PHRASE),
                                head='<meta charset="windows-1252">')
            return self.reply(200, html.encode("cp1252"), "text/html; charset=utf-8")
        if path == "/charset/undeclared-latin1":
            html = article_html(3, "Página latin-1 sem declaração", story(3, extra=PHRASE), lang=None)
            return self.reply(200, html.encode("cp1252"), "text/html")
        if path == "/charset/gzip-nocharset":
            html = article_html(4, "Página gzip sem charset", story(4, extra=PHRASE), lang=None)
            return self.reply(200, gzip.compress(html.encode("utf-8")), "text/html", {"Content-Encoding": "gzip"})
        if path == "/charset/mojibake":
            html = article_html(5, "Texto com mojibake", story(5, extra=MOJIBAKE))
            return self.reply(200, html.encode("utf-8"))
        if path == "/unicode/separators":
            extra = "Linha um\u2028linha dois\u2029parágrafo\x85fim do texto de teste com separadores."
            return self.reply(200, article_html(6, "Separadores\u2028no título", story(6, extra=extra)))
        if path == "/unicode/surrogate":
            ld = ('{"@context": "https://schema.org", "@type": "NewsArticle", "headline": "Surrogate",'
                  ' "description": "Resumo com um \\ud800 surrogate sozinho"}')
            head = f'<script type="application/ld+json">{ld}</script>'
            return self.reply(200, article_html(7, "Texto com surrogate", story(7), head=head))
        if path == "/news/plain":
            return self.reply(200, article_html(8, "Uma notícia normal", story(8)))
        if path == "/bad/malformed":
            html = ("<html><head><title>Quebrado</head><body><article><h1>Título <b>sem fim<div><p>"
                    + " ".join(story(9)) + "<<<>>> <p <table><tr><td>célula</article></html></div></body>")
            return self.reply(200, html)
        if path == "/bad/empty":
            return self.reply(200, b"", "text/html")
        if path == "/bad/pdf":
            return self.reply(200, b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<</Type/Catalog>>endobj\n" + bytes(range(256)) * 40,
                              "text/html")
        if path == "/bad/jpeg":
            # a JPEG header followed by text-like bytes: the extractor would happily read it as a page
            return self.reply(200, b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + (" ".join(story(10))).encode("latin-1", "replace"),
                              "text/html")
        if path == "/bad/huge":
            html = article_html(11, "Página enorme", story(11), head="<style>" + ".x{color:red}" * 120_000 + "</style>")
            return self.reply(200, html)
        if path == "/ssrf/links":
            links = {
                "ssrf-127002": f"{site.private.base}/secret-link",
                "ssrf-dns": f"http://intranet.test:{site.private.httpd.server_address[1]}/secret-dns",
                "ssrf-ipv6": f"http://[::1]:{site.private.httpd.server_address[1]}/secret-v6",
                "ssrf-mapped": f"http://[::ffff:127.0.0.2]:{site.private.httpd.server_address[1]}/secret-mapped",
                "ssrf-decimal": f"http://2130706434:{site.private.httpd.server_address[1]}/secret-decimal",
                "ssrf-file": "file:///etc/hostname",
                "ssrf-data": "data:text/html,<p>data url</p>",
                "ssrf-public": f"{site.main.base}/news/plain",  # an allowed target: must still be fetched
            }
            body = "".join(f'<a data-probe="{k}" href="{v}">{k}</a>' for k, v in links.items())
            return self.reply(200, f"<html><body>{body}</body></html>")
        if path == "/ssrf/redirect":
            return self.redirect(f"{site.private.base}/secret-redirect")
        if path == "/ssrf/redirect-dns":
            return self.redirect(f"http://intranet.test:{site.private.httpd.server_address[1]}/secret-redirect-dns")
        if path == "/ssrf/refresh":
            return self.reply(200, f'<html><head><meta http-equiv="refresh" content="0;url={site.private.base}/secret-refresh">'
                                   "</head><body>a mudar</body></html>")
        if path in ("/loop/a", "/loop/b"):
            return self.redirect("/loop/b" if path == "/loop/a" else "/loop/a")
        if path.startswith("/chain/"):
            n = int(path.rsplit("/", 1)[1])
            return self.redirect(f"/chain/{n + 1}") if n < 50 else self.reply(200, article_html(12, "Fim", story(12)))
        if path == "/trickle":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            deadline = time.monotonic() + TRICKLE_SECONDS
            while time.monotonic() < deadline:
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.2)
            return None
        if path == "/endless":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()  # no Content-Length: the body ends when the connection does
            chunk = b"<p>" + b"x" * 65533
            for _ in range(ENDLESS_CAP // len(chunk)):
                self.wfile.write(chunk)
            return None
        return self.reply(404, "<html><body>não encontrado</body></html>")

    def role_robots503(self, path: str) -> None:
        if path == "/robots.txt":
            return self.reply(503, "<html><body>Service Unavailable</body></html>")
        return self.reply(200, article_html(20, "Página atrás de um robots.txt em baixo", story(20)))

    def role_robots404(self, path: str) -> None:
        if path == "/robots.txt":
            return self.reply(404, "<html><body>Disallow: / (this is a 404 page, not rules)</body></html>")
        return self.reply(200, article_html(21, "Página sem robots.txt", story(21)))

    def role_robotsflaky(self, path: str) -> None:
        server: Server = self.server.hostile  # type: ignore[attr-defined]
        if path == "/robots.txt":
            if server.count("/robots.txt") <= 2:
                return self.reply(503, "busy")
            return self.reply(200, "User-agent: *\nDisallow: /private/\n", "text/plain")
        return self.reply(200, article_html(22, "Página depois de robots.txt instável", story(22)))

    def role_slow(self, path: str) -> None:
        if path == "/robots.txt":
            return self.reply(200, "User-agent: *\nCrawl-delay: 1\n", "text/plain")
        return self.reply(200, f"<html><body>página lenta {path}</body></html>")

    def role_ratelimit(self, path: str) -> None:
        server: Server = self.server.hostile  # type: ignore[attr-defined]
        if path == "/robots.txt":
            return self.reply(404, "")
        if path == "/ra/429" and server.count(path) == 1:
            return self.reply(429, "slow down", "text/plain", {"Retry-After": "2"})
        if path == "/ra/date" and server.count(path) == 1:
            return self.reply(503, "maintenance", "text/plain", {"Retry-After": formatdate(time.time() + 2, usegmt=True)})
        if path == "/ra/day":
            return self.reply(503, "come back tomorrow", "text/plain", {"Retry-After": "86400"})
        return self.reply(200, f"<html><body>ok {path}</body></html>")

    def role_trap(self, path: str) -> None:
        if path == "/robots.txt":
            return self.reply(404, "")
        if path.startswith("/cal/"):
            n = int(path.rsplit("/", 1)[1])
            if n >= CALENDAR_PAGES:
                return self.reply(404, "")
            return self.reply(200, f'<html><body>mês {n} <a class="next" href="/cal/{n + 1}">seguinte</a></body></html>')
        return self.reply(404, "")

    def role_private(self, path: str) -> None:
        return self.reply(200, "<html><body>segredo interno: credenciais</body></html>")


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients hanging up mid-request (cut downloads) are the point here, not news


class HostileSite:
    """All servers; ``close()`` stops them."""

    ROLES = ("main", "robots503", "robots404", "robotsflaky", "slow", "ratelimit", "trap")

    def __init__(self) -> None:
        self.bombs = _bombs()
        handler = type("BoundHandler", (Handler,), {"site": self})
        self.servers: dict[str, Server] = {}
        for role in self.ROLES:
            self.servers[role] = self._start(role, "127.0.0.1", handler)
        self.servers["private"] = self._start("private", "127.0.0.2", handler)

    def _start(self, role: str, host: str, handler: type[Handler]) -> Server:
        httpd = QuietServer((host, 0), handler)
        server = Server(role, httpd)
        httpd.hostile = server  # type: ignore[attr-defined]
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        return server

    def __getattr__(self, role: str) -> Server:
        try:
            return self.__dict__["servers"][role]
        except KeyError:
            raise AttributeError(role) from None

    def close(self) -> None:
        for server in self.servers.values():
            server.httpd.shutdown()
            server.httpd.server_close()

    def plan(self) -> list[dict[str, str]]:
        """The spider's start requests: one per endpoint."""
        m = self.main.base
        entries = [(f"{m}/bomb/{k}", "probe", f"bomb-{k}") for k in (*self.bombs, "corrupt-gzip")]
        entries += [(f"{m}{p}", "article", p.strip("/").replace("/", "-")) for p in (
            "/charset/header-latin1", "/charset/header-utf8-meta-1252", "/charset/undeclared-latin1",
            "/charset/gzip-nocharset", "/charset/mojibake", "/unicode/separators", "/unicode/surrogate",
            "/bad/malformed", "/bad/empty", "/bad/pdf", "/bad/jpeg", "/bad/huge")]
        charset = {p for u, _, p in entries if "/charset/" in u and not u.endswith("mojibake")}
        entries += [
            (f"{m}/ssrf/links", "links", "ssrf-links"),
            (f"{m}/ssrf/redirect", "probe", "ssrf-redirect"),
            (f"{m}/ssrf/redirect-dns", "probe", "ssrf-redirect-dns"),
            (f"{m}/ssrf/refresh", "probe", "ssrf-refresh"),
            (f"{m}/loop/a", "probe", "redirect-loop"),
            (f"{m}/chain/1", "probe", "redirect-chain"),
            (f"{m}/trickle", "probe", "trickle"),
            (f"{m}/endless", "probe", "endless"),
            (f"{self.robots503.base}/news/1", "article", "robots503"),
            (f"{self.robots404.base}/news/1", "article", "robots404"),
            (f"{self.robotsflaky.base}/news/1", "article", "robotsflaky"),
            (f"{self.robotsflaky.base}/private/1", "probe", "robotsflaky-private"),
            (f"{self.ratelimit.base}/ra/429", "probe", "ra-429"),
            (f"{self.ratelimit.base}/ra/date", "probe", "ra-date"),
            (f"{self.ratelimit.base}/ra/day", "probe", "ra-day"),
            (f"{self.trap.base}/cal/0", "follow", "trap"),
        ]
        entries += [(f"{self.slow.base}/p{i}", "probe", f"slow-{i}") for i in range(4)]
        return [{"url": u, "kind": k, "probe": p, **({"expect": PHRASE} if p in charset else {})}
                for u, k, p in entries]

    def write_plan(self, path: Path) -> Path:
        path.write_text(json.dumps(self.plan()), "utf-8")
        return path
