"""Browser rendering through scrapy-playwright and Debian's Chromium, only for the outlets that need it.

Plain HTTP stays the default. An outlet's ARTICLE requests go through Chromium when

- the spider says so: ``render_js = True`` (class attribute, or ``-a render_js=1``), or
- the setting names it: ``NEWSCRAWL_BROWSER_OUTLETS = "outlet1,outlet2"``.

A single request can ask for it itself with ``meta={"playwright": True}``; that needs the browser
download handlers, which :class:`BrowserAddon` installs only for a crawl that may use them (one of
the two above, ``NEWSCRAWL_BROWSER_ENABLED = True``, or ``NEWSCRAWL_CHALLENGE_BROWSER_RETRY = True``).
A crawl without them never starts Playwright's driver or Chromium: scrapy-playwright's handler starts
its driver at engine start whether or not a request ever asks for a page.

Waiting: a page is read after its ``load`` event. Content fetched by a script after ``load`` needs
the outlet's ``render_wait_for = "article .body p"`` (a CSS selector waited for, at most
NEWSCRAWL_BROWSER_WAIT_MS; a timeout still reads the page, and the challenge check then sees what
came of it).
"""
from __future__ import annotations

import ipaddress
import logging
import os
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy.exceptions import NotConfigured

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request
    from scrapy.settings import BaseSettings
    from typing_extensions import Self

logger = logging.getLogger(__name__)

HANDLER = "newscrawl.browser_handler.SharedPlaywrightHandler"  # imports Playwright: only named, not imported, here
_PLAYWRIGHT_HANDLERS = (HANDLER, "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler")
HINT_META = "newscrawl_hint"  # set by NewsSpider on article requests
RETRY_META = "newscrawl_challenge_retry"  # the challenge kind a browser retry was asked for
STAT = "newscrawl/browser/"
#: Sub-resources a news article's text never depends on (PLAYWRIGHT_ABORT_REQUEST).
ABORTED_TYPES = frozenset({"image", "media", "font"})


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def browser_outlet(spider: Any, settings: BaseSettings) -> bool:
    """Whether this spider's article requests are rendered (``render_js`` or NEWSCRAWL_BROWSER_OUTLETS)."""
    if spider is None:
        return False
    if _truthy(getattr(spider, "render_js", False)):
        return True
    name = getattr(spider, "name", None)
    return bool(name) and name in settings.getlist("NEWSCRAWL_BROWSER_OUTLETS")


def browser_wanted(spider: Any, settings: BaseSettings) -> bool:
    """Whether this crawl may send any request to the browser (so the handlers must be installed)."""
    return (browser_outlet(spider, settings) or settings.getbool("NEWSCRAWL_BROWSER_ENABLED")
            or settings.getbool("NEWSCRAWL_CHALLENGE_BROWSER_RETRY"))


def handlers_installed(settings: BaseSettings) -> bool:
    """True when http/https go through scrapy-playwright (so ``meta["playwright"]`` is honoured)."""
    handlers = settings.getwithbase("DOWNLOAD_HANDLERS")
    return all(str(handlers.get(scheme, "")) in _PLAYWRIGHT_HANDLERS for scheme in ("http", "https"))


def is_article_request(request: Request) -> bool:
    """Article requests carry the discovery hint (NewsSpider) or target ``parse_article``."""
    return HINT_META in request.meta or getattr(request.callback, "__name__", "") == "parse_article"


class BrowserAddon:
    """Install scrapy-playwright's download handlers for http/https when this crawl may use them.

    Enable with ``ADDONS = {"newscrawl.browser.BrowserAddon": 0}``. Add-ons run after the spider is
    built and before settings freeze, so ``-a render_js=1`` and the spider's class attribute both count.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def update_settings(self, settings: BaseSettings) -> None:
        spider = self.crawler.spider or self.crawler.spidercls
        if not browser_wanted(spider, settings) or handlers_installed(settings):
            return
        handlers = settings.getdict("DOWNLOAD_HANDLERS")
        handlers.update({"http": HANDLER, "https": HANDLER})
        settings.set("DOWNLOAD_HANDLERS", handlers, priority="addon")
        executable = settings.getdict("PLAYWRIGHT_LAUNCH_OPTIONS").get("executable_path")
        name = getattr(spider, "name", spider)
        if executable and not os.path.exists(executable):
            # Otherwise each rendered page fails alone with Playwright's "Executable doesn't exist".
            logger.error("Browser rendering for %s: no Chromium at %s (apt-get install chromium, or set "
                         "NEWSCRAWL_CHROMIUM); every rendered request will fail", name, executable)
        else:
            logger.info("Browser rendering available for %s (Chromium at %s)", name, executable or "Playwright's")


class BrowserRoutingMiddleware:
    """Downloader middleware: send a browser outlet's article requests through Chromium.

    Enable with ``DOWNLOADER_MIDDLEWARES = {"newscrawl.browser.BrowserRoutingMiddleware": 565}``.
    It is NotConfigured (costs nothing) unless the scrapy-playwright handlers are installed.
    """

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        if not handlers_installed(settings):
            raise NotConfigured("scrapy-playwright download handlers not installed")
        self.crawler = crawler
        self.wait_ms = settings.getint("NEWSCRAWL_BROWSER_WAIT_MS", 10_000)
        self._outlet: bool | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def _is_outlet(self) -> bool:
        if self._outlet is None:
            self._outlet = browser_outlet(self.crawler.spider, self.crawler.settings)
        return self._outlet

    def process_request(self, request: Request) -> None:
        if "playwright" not in request.meta and self._is_outlet() and is_article_request(request):
            request.meta["playwright"] = True
        if request.meta.get("playwright") and "playwright_page_methods" not in request.meta:
            # Added here, not where the request is built: PageMethod objects would otherwise travel
            # through the scheduler (and a JOBDIR disk queue) for nothing.
            request.meta["playwright_page_methods"] = page_methods(
                self.crawler.spider, self.wait_ms, challenge=bool(request.meta.get(RETRY_META)))
        if request.meta.get("playwright"):
            self.crawler.stats.inc_value(STAT + "requests")


def page_methods(spider: Any, wait_ms: int, *, challenge: bool = False) -> list[Any]:
    """What to wait for after navigation: the outlet's ``render_wait_for`` selector, a challenge to pass."""
    from scrapy_playwright.page import PageMethod  # noqa: PLC0415 - only browser crawls import Playwright

    selector = getattr(spider, "render_wait_for", None)
    return [PageMethod(settle, selector=selector, timeout_ms=wait_ms, challenge=challenge)]


# Page text while a JS challenge is still showing (a subset of newscrawl.challenge's markers, as JS).
_CHALLENGE_JS = r"""() => !/just a moment|attention required|checking your browser|verify(ing)? you are (a )?human|
pardon our interruption|press (&|and) hold/i.test(document.title + ' ' +
(document.body ? document.body.innerText.slice(0, 2000) : ''))""".replace("\n", "")

# HTTP status of the document now shown (Chromium >= 109); 0 when unknown.
_STATUS_JS = "() => (performance.getEntriesByType('navigation')[0] || {}).responseStatus || 0"


async def settle(page: Any, selector: str | None = None, timeout_ms: int = 10_000, challenge: bool = False) -> None:
    """Wait (bounded) for the outlet's content selector, or for a JS challenge to hand over the page.

    A timeout is not an error: the page is read as it is, and the challenge check judges it (Cloudflare's
    managed challenge that never solves headless stays "Just a moment..." and is counted, not parsed).
    """
    from playwright.async_api import Error as PlaywrightError  # noqa: PLC0415

    try:
        if challenge:
            # The challenge script reloads or navigates when it passes; wait for the new document.
            await page.wait_for_function(_CHALLENGE_JS, timeout=timeout_ms, polling=100)
        # An error answer (a DataDome 403, a 404) never renders the story: don't wait out the timeout for it.
        if selector and await page.evaluate(_STATUS_JS) < 400:
            await page.wait_for_selector(selector, state="attached", timeout=timeout_ms)
    except PlaywrightError as exc:  # TimeoutError is a subclass; so is "context destroyed by navigation"
        logger.debug("Page %s did not settle within %d ms: %s", page.url, timeout_ms, str(exc).splitlines()[0])


def abort_request(request: Any) -> bool:
    """PLAYWRIGHT_ABORT_REQUEST: drop what the text never needs, and keep page scripts off private hosts.

    - images, media and fonts: the bulk of a news page's bytes (a 40-photo live blog), never its text;
    - a request to a loopback / private / link-local IP literal other than the page's own host: a page's
      script, or a redirect Chromium follows by itself, must not make it probe ``http://169.254.169.254/``
      or ``http://10.0.0.5/``. Scrapy's SSRF guard vets the URL a request starts with; it never sees what
      the page loads or where Chromium is redirected. The first navigation is the request Scrapy vetted.
    """
    if request.resource_type in ABORTED_TYPES:
        return True
    host = urlsplit(request.url).hostname or ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # a host name: Chromium resolves it; only literal addresses can be judged here
    if not (address.is_private or address.is_loopback or address.is_link_local or address.is_unspecified):
        return False
    if request.is_navigation_request():
        origin = request.redirected_from
        if origin is None:
            return False
        while origin.redirected_from is not None:
            origin = origin.redirected_from
        return urlsplit(origin.url).hostname != host
    try:
        page_host = urlsplit(request.frame.url).hostname
    except Exception:  # noqa: BLE001 - a detached frame has no URL; refuse the private address then
        page_host = None
    return page_host != host
