"""The layered extraction core: JSON-LD and meta parsing, layer order and provenance, page types."""
from __future__ import annotations

from parsel import Selector

from newscrawl.extract import extract_article
from newscrawl.extract.site import SiteRules
from newscrawl.extract.structured import article_object, jsonld_fields, jsonld_objects, meta_fields

URL = "https://news.example/world/harbour-story-123456"
PARAS = "".join(f"<p>Paragraph {i} of an invented harbour story, long enough to be real text for the "
                f"extractor to keep as part of the body.</p>" for i in range(8))


def page(head: str = "", body: str = "", lang: str = "en") -> str:
    return (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">{head}</head><body>'
            f"<nav><a href='/'>Home</a><a href='/world'>World</a></nav>{body}<footer>© Example</footer></body></html>")


def ld(obj: str) -> str:
    return f'<script type="application/ld+json">{obj}</script>'


def test_jsonld_graph_lists_and_lenient_parsing() -> None:
    html = page(
        ld('{"@context":"https://schema.org","@graph":[{"@type":"WebSite","name":"Ex"},'
           '{"@type":["NewsArticle"],"headline":"From the graph","author":[{"@type":"Person","name":"Ana Sousa"},'
           '{"@type":"Organization","name":"Example Desk"}],"datePublished":"2026-11-24T09:00:00+01:00"}]}')
        + ld('[{"@type":"BreadcrumbList"}]')
        + ld('{"@type":"NewsArticle", "headline": "Broken\n newline", }'))  # raw newline + trailing comma
    objs = jsonld_objects(Selector(text=html))
    assert [o.get("headline") for o in objs if o.get("headline")] == ["From the graph", "Broken\n newline"]
    fields = jsonld_fields(article_object(objs))
    assert fields["headline"] == "From the graph"
    assert fields["authors"] == ["Ana Sousa"]  # the organisation is not an author


def test_jsonld_in_comment_and_cdata_markers() -> None:
    from newscrawl.extract.structured import _loads

    for text in (' <!-- {"a": 1} --> ', '<![CDATA[{"a": 1}]]>', '// <![CDATA[\n{"a": 1}\n// ]]>', '{"a": 1};',
                 ' {"a": 1} ', '<!--{"a": 1}'):
        assert _loads(text) == {"a": 1}, text
    assert _loads('{"a": "-->"}') == {"a": "-->"}  # a marker inside the JSON is data
    assert _loads("<!-- not json -->") is None


def test_jsonld_reuters_style_byline_and_paywall() -> None:
    html = page(ld('{"@type":"NewsArticle","headline":"H","author":{"@type":"Person","byline":"Jane Roe"},'
                   '"isAccessibleForFree":"False"}'))
    fields = jsonld_fields(article_object(jsonld_objects(Selector(text=html))))
    assert fields["authors"] == ["Jane Roe"] and fields["is_paywalled"] is True


def test_meta_fields_and_canonical() -> None:
    html = page('<meta property="og:title" content="OG title"><meta name="author" content="By Jane Roe">'
                '<meta property="article:author" content="https://news.example/authors/jane">'
                '<meta property="article:published_time" content="2026-11-24T09:00:00Z">'
                '<meta property="article:tag" content="Ports"><meta property="article:tag" content="Weather">'
                '<link rel="canonical" href="https://news.example/a?utm_source=x">', lang="pt-BR")
    m = meta_fields(Selector(text=html))
    assert m["headline"] == "OG title" and m["authors"] == ["By Jane Roe"]
    assert m["tags"] == ["Ports", "Weather"] and m["language"] == "pt-BR"
    assert m["canonical_url"] == "https://news.example/a?utm_source=x"


def test_layer_order_and_provenance() -> None:
    html = page(
        ld('{"@type":"NewsArticle","headline":"Structured headline for the harbour story",'
           '"datePublished":"2026-11-24 09:00:00","description":"From JSON-LD","articleSection":"World"}')
        + '<meta property="article:published_time" content="2026-11-24T09:00:00+01:00">'
          '<meta property="og:title" content="OG headline | Example">'
          '<meta property="og:site_name" content="Example">'
          '<link rel="canonical" href="https://news.example/world/harbour-story-123456?utm_medium=x">',
        f"<article><h1>Site headline</h1><div class='story'>{PARAS}</div></article>")
    rules = SiteRules(name="ex", selectors={"headline": ("article h1::text",), "body": ("div.story p",)})
    result = extract_article(Selector(text=html), URL, rules, html=html, source="ex")
    item, prov = result.item, result.item["provenance"]
    assert item["headline"] == "Site headline" and prov["headline"] == "site"
    assert item["description"] == "From JSON-LD" and prov["description"] == "jsonld"
    # JSON-LD's zone-less time is only a date; the meta tag's full timestamp wins
    assert item["published_at"] == "2026-11-24T09:00:00+01:00" and prov["published_at"] == "meta"
    assert item["canonical_url"] == URL and prov["canonical_url"] == "meta"
    assert prov["body"] == "site" and item["body"].count("\n\n") == 7


def test_visible_h1_beats_seo_title_when_corroborated_and_generic_body() -> None:
    html = page(ld('{"@type":"NewsArticle","headline":"Harbour storm: council approves new sea wall after long debate"}'),
                f"<main><article><h1><span class='kicker'>Harbour</span><span>Council approves new sea wall</span>"
                f"</h1>{PARAS}</article></main>")
    result = extract_article(Selector(text=html), URL, html=html, source="ex")
    assert result.item["headline"] == "Council approves new sea wall"
    assert result.item["provenance"]["headline"] == "generic"
    assert result.item["provenance"]["body"] == "generic" and "Paragraph 7" in result.item["body"]


def test_truncated_jsonld_article_body_loses_to_page_text() -> None:
    html = page(ld('{"@type":"NewsArticle","headline":"H","articleBody":"Paragraph 0 of an invented harbour story, '
                   'long enough to be real text for the extractor to keep as part of the body. Paragraph 1 of..."}'),
                f"<article><h1>H</h1>{PARAS}</article>")
    result = extract_article(Selector(text=html), URL, html=html, source="ex")
    assert result.item["provenance"]["body"] != "jsonld"
    assert "Paragraph 7" in result.item["body"]


def test_non_article_pages_are_recognised() -> None:
    section = page('<meta property="og:type" content="website">'
                   + ld('{"@type":"CollectionPage","name":"World news"}'),
                   "<h1>World</h1><ul>" + "".join(f"<li><a href='/a{i}'>Story {i}</a></li>" for i in range(30)) + "</ul>")
    r = extract_article(Selector(text=section), "https://news.example/world", html=section, source="ex")
    assert not r.is_article and r.kind == "index"
    soft404 = page("<title>Page not found | Example</title>", "<h1>Page not found</h1><p>Sorry.</p>")
    r = extract_article(Selector(text=soft404), "https://news.example/gone", html=soft404, source="ex")
    assert not r.is_article and r.kind in ("not_found", "empty")
    video = page('<meta property="og:type" content="video.other">'
                 + ld('{"@type":"VideoObject","name":"Harbour storm video"}'),
                 "<h1>Harbour storm video</h1><video src='/v.mp4'></video><p>Watch the storm.</p>")
    r = extract_article(Selector(text=video), "https://news.example/video/harbour", html=video, source="ex")
    assert not r.is_article and r.kind == "video"
    live_index = page('<meta property="og:type" content="website">', "<h1>Live</h1><p>Latest live coverage.</p>")
    r = extract_article(Selector(text=live_index), "https://news.example/live/", html=live_index, source="ex")
    assert not r.is_article and r.kind == "index"


def test_outlet_names_are_not_authors() -> None:
    from newscrawl.extract import _brand_keys, _is_brand

    brands = _brand_keys(["Lesotho Times"], "https://www.n-tv.de/politik/story-123.html")
    for brand_byline in ("n-tv NACHRICHTEN", "Lesotho Times", "NTV"):
        assert _is_brand(brand_byline, brands), brand_byline
    for person in ("Nadia Tveit", "Les Murray", "Ana"):
        assert not _is_brand(person, brands), person


def test_a_headline_with_404_in_it_is_still_an_article() -> None:
    short = "".join(f"<p>Farmers counted the losses on the moor on Monday, paragraph {i} of a short report.</p>"
                    for i in range(4))  # under the thin-body threshold, where a soft-404 title would count
    html = page("", f"<article><h1>Storm kills 404 sheep on the moor</h1>{short}</article>")
    r = extract_article(Selector(text=html), "https://news.example/storm", html=html, source="ex")
    assert r.kind == "article"
    gone = page("<title>Error 404 | Example</title>", "<h1>404 - Not Found</h1><p>Sorry.</p>")
    r = extract_article(Selector(text=gone), "https://news.example/gone", html=gone, source="ex")
    assert r.kind in ("not_found", "empty")
