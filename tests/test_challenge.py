"""Bot-wall, consent-wall and empty-shell detection (newscrawl/challenge.py) and browser routing helpers."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from scrapy import Spider
from scrapy.http import HtmlResponse, Request, TextResponse
from scrapy.settings import Settings

from newscrawl import challenge
from newscrawl import settings as project_settings
from newscrawl.browser import (
    HANDLER,
    BrowserAddon,
    abort_request,
    browser_outlet,
    handlers_installed,
    is_article_request,
)
from newscrawl.challenge import detect, is_html

PARAS = "".join(f"<p>The river ferry timetable changes on Monday, and paragraph {i} says so at length, with "
                f"the council's reasons, the union's answer and the mayor's comment in full.</p>" for i in range(8))
ARTICLE = f"<html><head><title>Ferry timetable changes</title></head><body><article><h1>Ferry</h1>{PARAS}</article></body></html>"

CF_200 = ("<!DOCTYPE html><html><head><title>Just a moment...</title></head><body><h1>news.example</h1>"
          "<p>Checking if the site connection is secure</p><script>window._cf_chl_opt={cType:'managed'}</script>"
          "</body></html>")
CF_403 = ("<html><head><title>Attention Required! | Cloudflare</title></head><body><h1>Sorry, you have been "
          "blocked</h1><p>You are unable to access news.example</p></body></html>")
DD_403 = ("<html><head><title>news.example</title></head><body><p>Please enable JS and disable any ad blocker</p>"
          "<script>var dd={'host':'geo.captcha-delivery.com'}</script></body></html>")
PX_403 = ("<html><head><title>Access to this page has been denied</title></head><body><div id='px-captcha'></div>"
          "<p>Press &amp; Hold to confirm you are a human</p></body></html>")
AKAMAI_403 = ("<HTML><HEAD><TITLE>Access Denied</TITLE></HEAD><BODY><H1>Access Denied</H1>You don't have permission "
              "to access this page.<P>Reference&#32;&#35;18.5e1c1002.1764000000.1a2b3c</BODY></HTML>")
CONSENT_200 = ("<html><head><title>Before you continue to News</title></head><body><form action="
               "'https://consent.example.test/save'><p>We use cookies and data to deliver and maintain services.</p>"
               "<button>Accept all</button><button>Reject all</button></form></body></html>")
SHELL = ("<!DOCTYPE html><html><head><title>Courier</title><script src='/app.js'></script></head><body>"
         "<div id='root'></div><noscript>You need to enable JavaScript to run this app.</noscript></body></html>")


@pytest.mark.parametrize(("status", "html", "headers", "kind"), [
    (200, CF_200, {}, "cloudflare"),
    (503, CF_200, {}, "cloudflare"),
    (403, CF_403, {}, "cloudflare"),
    (403, DD_403, {}, "datadome"),
    (403, "<html><body>blocked</body></html>", {"x-datadome": "protected"}, "datadome"),
    (403, PX_403, {}, "perimeterx"),
    (403, AKAMAI_403, {}, "akamai"),
    (200, CONSENT_200, {}, "consent"),
])
def test_walls_are_recognised_by_kind(status: int, html: str, headers: dict[str, str], kind: str) -> None:
    challenge = detect(status, html, headers, article=True)
    assert challenge is not None and challenge.kind == kind, challenge
    assert challenge.reason


def test_real_articles_are_not_challenges() -> None:
    # a complete story on an outlet that loads DataDome's tag and a TCF consent iframe on every page
    decorated = ARTICLE.replace("</body>", "<script src='https://js.datadome.co/tags.js'></script><script>"
                                "window.__tcfapi=function(){}</script><iframe id='sp_message_iframe_1' "
                                "src='https://cmp.example.test/consent'></iframe></body>")
    assert detect(200, decorated, {}, article=True) is None
    # a story ABOUT Cloudflare quotes its interstitial in the body, not in <title>
    about = ARTICLE.replace("</article>", "<p>Readers saw a page titled 'Just a moment...' all day.</p></article>")
    assert detect(200, about, {}, article=True) is None


def test_weak_markers_need_a_thin_page() -> None:
    # a consent iframe over a page with nothing else on it is a wall ...
    wall = ("<html><head><title>Courier</title></head><body><div id='sp_message_container_1'><iframe "
            "id='sp_message_iframe_1' src='/consent'></iframe></div><p>Loading</p></body></html>")
    challenge = detect(200, wall, {}, article=True)
    assert challenge is not None and challenge.kind == "consent"
    # ... the same iframe over a short story (two paragraphs, a long menu) is not
    menu = "".join(f"<li><a href='/s{i}'>Section number {i} of the Courier</a></li>" for i in range(40))
    short = wall.replace("<p>Loading</p>", f"<nav><ul>{menu}</ul></nav><article><p>{PARAS[3:200]}</p></article>")
    assert detect(200, short, {}, article=True) is None


def test_plain_errors_and_non_articles_are_left_alone() -> None:
    assert detect(403, "<html><body><h1>Forbidden</h1></body></html>", {}) is None  # no marker: ordinary 403
    assert detect(404, CF_200, {}) is None  # only 2xx and 403/429/503 are judged
    assert detect(403, "<html><head><script>__tcfapi()</script></head><body>no</body></html>", {}) is None
    assert detect(200, SHELL, {}, article=False) is None  # a section page or feed is never a "shell"
    assert detect(200, SHELL, {}, article=True, shell_max_words=0) is None  # rule switched off


def test_empty_shell_needs_scripts_and_no_text() -> None:
    challenge = detect(200, SHELL, {}, article=True)
    assert challenge is not None and challenge.kind == "empty_shell"
    no_script = SHELL.replace("<script src='/app.js'></script>", "")
    assert detect(200, no_script, {}, article=True) is None  # a tiny static page is extraction's call
    with_json_ld = SHELL.replace("</head>", '<script type="application/ld+json">{"articleBody": "' + "x " * 150
                                 + '"}</script></head>')
    assert detect(200, with_json_ld, {}, article=True) is None  # the text is in the page, just not visible


def test_is_html_by_type_or_sniffing() -> None:
    assert is_html(HtmlResponse("https://n.test/a", body=b"<html></html>"))
    assert is_html(TextResponse("https://n.test/a", body=b"<!DOCTYPE html><html></html>"))
    xml = TextResponse("https://n.test/s.xml", body=b"<?xml version='1.0'?><urlset/>",
                       headers={"Content-Type": "application/xml"})
    assert not is_html(xml)


def _pw_request(url: str, resource_type: str = "script", *, navigation: bool = False, page: str = "",
                redirected_from: object = None) -> object:
    return SimpleNamespace(url=url, resource_type=resource_type, is_navigation_request=lambda: navigation,
                           frame=SimpleNamespace(url=page), redirected_from=redirected_from)


def test_abort_request_drops_heavy_types_and_private_probes() -> None:
    page = "https://news.example/story"
    assert abort_request(_pw_request("https://img.example/a.jpg", "image", page=page))
    assert abort_request(_pw_request("https://fonts.example/a.woff2", "font", page=page))
    assert not abort_request(_pw_request("https://cdn.example/app.js", page=page))
    assert not abort_request(_pw_request("https://news.example/api/story.json", "fetch", page=page))
    # a page script probing the cloud metadata service or the LAN is refused ...
    assert abort_request(_pw_request("http://169.254.169.254/latest/meta-data/", "fetch", page=page))
    assert abort_request(_pw_request("http://10.0.0.5/admin", "xhr", page=page))
    # ... but a page served from 127.0.0.1 may load its own resources, and navigations are Scrapy's call
    assert not abort_request(_pw_request("http://127.0.0.1:8000/api/1.json", "fetch", page="http://127.0.0.1:8000/a"))
    assert not abort_request(_pw_request("http://127.0.0.1:8000/a", "document", navigation=True))
    # a redirect Chromium follows on its own from a public page to a private address is refused
    public = _pw_request("https://news.example/story", "document", navigation=True)
    assert abort_request(_pw_request("http://169.254.169.254/", "document", navigation=True, redirected_from=public))
    local = _pw_request("http://127.0.0.1:8000/old", "document", navigation=True)
    assert not abort_request(_pw_request("http://127.0.0.1:8000/new", "document", navigation=True,
                                         redirected_from=local))


class _Outlet(Spider):
    name = "jsoutlet"
    render_js = True


class _Plain(Spider):
    name = "plainoutlet"


def _project_settings(**extra: object) -> Settings:
    settings = Settings()
    settings.setmodule(project_settings)
    settings.update(extra)
    return settings


def _addon_applied(spidercls: type[Spider], **extra: object) -> Settings:
    settings = _project_settings(**extra)
    BrowserAddon(SimpleNamespace(spider=None, spidercls=spidercls)).update_settings(settings)
    return settings


def test_addon_installs_browser_handlers_only_when_a_crawl_may_render() -> None:
    assert handlers_installed(_addon_applied(_Outlet))  # render_js = True
    assert handlers_installed(_addon_applied(_Plain, NEWSCRAWL_BROWSER_OUTLETS="a,plainoutlet"))
    assert handlers_installed(_addon_applied(_Plain, NEWSCRAWL_CHALLENGE_BROWSER_RETRY=True))
    plain = _addon_applied(_Plain)
    assert not handlers_installed(plain)
    assert plain.getwithbase("DOWNLOAD_HANDLERS")["https"] != HANDLER
    assert browser_outlet(_Outlet, _project_settings()) and not browser_outlet(_Plain, _project_settings())


def test_article_requests_are_recognised() -> None:
    assert is_article_request(Request("https://n.test/a", meta={"newscrawl_hint": {}}))
    assert not is_article_request(Request("https://n.test/sitemap.xml"))


@pytest.mark.parametrize(("kind", "needle", "strong"), [
    (kind, needle, strong) for kind, m in challenge.MARKERS.items()
    for strong, needles in ((True, m.strong), (False, m.weak)) for needle in needles])
def test_every_marker_is_found_through_its_gate(kind, needle, strong):
    # markers are scanned through shared gate substrings: none may be lost on the way
    page = f"<html><head><title>Page</title><script>var x = '{needle.upper()}';</script></head><body></body></html>"
    marker = challenge.vendor_marker(page)
    assert marker is not None
    assert (marker.kind, marker.text, marker.strong) == (kind, needle, strong)


@pytest.mark.parametrize("paragraphs", [
    ["one two three"] * 50,
    ["東京"] * 30 + ["大"] * 30,           # CJK halves are counted over the whole text, not node by node
    ["word " * 119, "東"],
    ["word " * 60, "<b>bold</b> tail " * 30],
])
def test_paragraph_word_threshold_matches_count_words(paragraphs):
    from parsel import Selector

    html = "<html><body>" + "".join(f"<p>{p}</p>" for p in paragraphs) + "<nav><p>menu words</p></nav></body></html>"
    sel = Selector(text=html)
    total = challenge.count_words(" ".join(sel.xpath(challenge._PARAGRAPHS).getall()))
    for enough in (1, 60, 119, 120, 121, total, total + 1):
        assert challenge._paragraph_words_at_least(sel.root, enough) == (total >= enough)
