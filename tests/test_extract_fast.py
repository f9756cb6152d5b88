"""The fast paths of extraction give the same answers as the straightforward ones they replace."""
from __future__ import annotations

import random
import re
from typing import Any

import pytest
from ftfy.badness import BADNESS_RE
from ftfy.badness import is_bad as ftfy_is_bad
from itemloaders.processors import MapCompose
from lxml import etree
from parsel import Selector
from parsel.csstranslator import HTMLTranslator

from newscrawl import mojibake
from newscrawl import processors as p
from newscrawl.extract import _without_name, extract_article
from newscrawl.extract.site import (
    PageQueries,
    SiteRules,
    attribute_first,
    compile_query,
    merge_sibling_steps,
    site_values,
)
from newscrawl.extract.structured import PageTags, jsonld_objects, meta_fields, meta_index
from newscrawl.items import Article
from newscrawl.loaders import ArticleBuilder, ArticleLoader

SAMPLES = [
    "", "plain ascii", "Straße “quoted” – and ‘single’ … €5", "Ã ", "xÃ ", "a Ã ", "donâ€™t", "CopyrightÂ©",
    "The Mona Lisa doesnÃ¢â‚¬â„¢t have eyebrows.", "Ø³Ù„Ø§Ù…", "ÐŸÑ€Ð¸Ð²ÐµÑ‚", "вЂ”", "ГўВЂВњhello",
    "café Ã©t", "×²", "à²", "œuvre", "œ1", "Ð°Ð±Ð²", "word Â ”", "β€™", "ā€", "√±", "‚Äú", "Ã\xa0",
    "日本語のテキスト", "Ελληνικά κείμενα", "a" * 500 + "Ã©" + "b" * 500,
]


@pytest.mark.parametrize("text", SAMPLES)
def test_mojibake_detector_agrees_with_ftfy(text: str) -> None:
    assert mojibake.is_bad(text) == ftfy_is_bad(text)


def test_mojibake_detector_agrees_with_ftfy_on_generated_text() -> None:
    # characters from every position class of ftfy's pattern (and whitespace, ASCII, line breaks), so that each
    # alternative matches, nearly matches, or matches next to another, at the start and anywhere
    rng = random.Random(17)
    branches = mojibake.sre_parse.parse(BADNESS_RE.pattern, BADNESS_RE.flags)[0][1][1]
    pool = sorted({c for branch in branches for item in branch for c in mojibake._class_chars(item) or ()}
                  | set("aZ09 \n\t\xa0.,"))
    prose = "abcde ZÜ éüöäßçñ’“”„—–…«»€£©\xa0"  # what real text has around those characters
    for _ in range(20000):
        share = rng.random()
        text = "".join(rng.choice(pool if rng.random() < share else prose) for _ in range(rng.randint(1, 10)))
        assert mojibake.is_bad(text) == ftfy_is_bad(text), repr(text)


def test_mojibake_detector_uses_its_windows() -> None:
    # ftfy's pattern has the shape the windowed search needs; if it stops having it, is_bad falls back (slow)
    assert mojibake._PLAN is not None
    assert mojibake.check_equivalence(SAMPLES + [s * 3 for s in SAMPLES]) == []


@pytest.mark.parametrize("raw", [
    "  Hello\n  world  ", "a &amp;lt;b&amp;gt; c", "<p>One</p><p>two</p>", "donâ€™t stop", "e\u0301t\u00e9",
    "x\u00ad\u0301y", "&#xD800; half", "tab\tand\u00a0nbsp", "Ã©t\u200bé", "", "   ",
])
def test_clean_text_remembers_exactly_what_it_would_compute(raw: str) -> None:
    p.clear_clean_text_cache()
    once = p._clean_text(raw)
    twice = p._clean_text(once) if once else None
    assert p.clean_text(raw) == once
    assert p.clean_text(raw) == once  # remembered
    assert (p.clean_text(once) if once else None) == twice  # a second pass as if nothing were remembered


def test_query_needs_and_skips() -> None:
    assert compile_query(".share, #top > p::text").needs == (frozenset({"share"}), frozenset({"top"}))
    assert compile_query("div:not(.ad)").needs == (frozenset(),)
    assert compile_query("//p[not(@class='x')]").needs == (frozenset(),)  # a negated literal is no need
    assert compile_query("//div[@a='x' or @b='y']/p").needs == (frozenset(),)
    assert compile_query("//p[@class='intro'] | //div[@id='x']/*[self::p or self::h2]").needs == (
        frozenset({"intro"}), frozenset({"x"}))  # the disjunction is about tags: the other predicate still counts
    assert compile_query("//a[@x='y']/ancestor-or-self::div[@id='z']").needs == (frozenset({"y", "z"}),)
    assert compile_query("count(//a[@x='y'])").needs is None  # a count may be 0: always run
    assert compile_query("//a[@id='x'] | //b[contains(@class, 'y')]").needs == (frozenset({"x"}), frozenset({"y"}))
    root = Selector(text="<html><body><div class='share'>s</div></body></html>").root
    page = PageQueries(root)
    assert page.run(".share") and not page.run(".missing") and not page.may_match(compile_query(".missing"))


def test_needs_read_the_parsed_values_not_the_source() -> None:
    # "sh&#97;re" is "share" once parsed: the query must still run and match
    html = "<html><body><div class='sh&#97;re'>s</div><p id='&#116;op'>t</p></body></html>"
    root = Selector(text=html).root
    assert PageQueries(root).run(".share") and PageQueries(root).run("#top")


CSS = [".a", "#b", "div.a", "[data-x='1'] p", "p[data-y^='pre']", "p[data-y$='fix']", "p[data-y*='mid']",
       "p[lang~='en']", "div.a.b", "li:first-child", "#b > p::text", "p::attr(data-y)", "figure:has(img)"]
XPATH = ["//div[@id='b']/p", "(//p[@data-x='1'])[1]", "//div[@class='a'][1]", "//*[@id='b'][//p]//p",
         ".//p[@data-y=\"prefix\"]", "//div[contains(concat(' ', normalize-space(@class), ' '), ' a ')]",
         "//p[contains(@data-y, 'mid')]/text()", "//p[starts-with(@data-y, 'pre')]", "//*[contains(@data-y, 'fix')]",
         "//li[contains(concat(' ', normalize-space(@class), ' '), ' a ')][1]", "(//div[contains(@class, 'a')]/p)[2]",
         "//div[contains(concat(' ', normalize-space(@class), ' '), ' b ')]//p[contains(@lang, 'en')]"]
DOC = """<html><body><div class="a b" id="b"><p data-y="prefix" lang="en gb">1</p><p data-y="midfix">2</p>
<ul><li class="a">x</li><li>y</li></ul><figure><img src="i.jpg"></figure></div>
<div class="a" data-x="1"><p data-x="1" data-y="amidst">3</p></div></body></html>"""


@pytest.mark.parametrize("query", CSS + XPATH)
def test_attribute_first_rewrite_selects_the_same_nodes(query: str) -> None:
    xpath = query if query.startswith(("/", "./", "(")) else HTMLTranslator().css_to_xpath(query)
    root = Selector(text=DOC).root
    for node in (root, root.xpath("//div")[0]):
        assert etree.XPath(attribute_first(xpath))(node) == etree.XPath(xpath)(node)


ALTERNATIVES = [
    ".a p, #nowhere p, .missing > li",                              # one of three alternatives can match
    "#nowhere, .nothing",                                           # none can
    "[data-x='1'] p, div#b > p, .a li",                             # all can
    "//div[@id='nowhere']/p | //div[@data-x='1']//p | //li[@class='a']",
    "//p[@data-y='prefix'] | //ul/*[self::li or self::p][@class='zz']",
    "//div[@class='a'][not(@id='b')]/p | //p[@lang='fr']",
    # alternatives sharing their first step, merged into one path (merge_sibling_steps)
    "div.a > p, div.a > ul > li, div.a > figure, div#b > ol > li, div.a > ul > li",
    "//div[@id='b']/p | //div[@id='b']/ul/li | //div[@id='b']/figure/img | //div[@id='b']/p[2]",
    ".a p, .a li, .a p ::text, div li::text, div p::text",
    # one step further down: "#b .a > p, #b .a > h2, #b .a > ul > li, #b .a > ol > li" are two paths
    "#b .a > p, #b .a > h2, #b .a > ul > li, #b .a > ol > li, #b .a > figure",
    "//div[@id='b']/ul/li | //div[@id='b']/ol/li | //div[@id='b']/p | //div/ul/li[1] | //div/ol/li[1]",
]


def test_paths_that_differ_in_one_element_name_are_merged() -> None:
    query = compile_query("#m .body > p, #m .body > h2, #m .body > ul > li, #m .body > ol > li, #m .body > blockquote")
    paths = query._paths(query._branches)
    assert len(paths) == 2 and paths[0].endswith("/*[self::p or self::h2 or self::blockquote]")
    assert paths[1].endswith("/*[self::ul or self::ol]/li")
    assert merge_sibling_steps(["//p[1]", "//h2[1]", "a/b", "a/c[@x]"]) == ["//p[1]", "//h2[1]", "a/b", "a/c[@x]"]


@pytest.mark.parametrize("query", CSS + XPATH + ALTERNATIVES)
def test_running_only_the_alternatives_a_page_may_match_gives_the_whole_answer(query: str) -> None:
    xpath = query if query.startswith(("/", "./", "(")) else HTMLTranslator().css_to_xpath(query)
    root = Selector(text=DOC).root
    page = PageQueries(root)
    expected = etree.XPath(xpath)(root)
    assert page.run(query) == expected
    alive = page.alive(compile_query(query))
    if alive is not None:  # alternatives were left out: each of them matches nothing on this page
        q = compile_query(query)
        left_out = [i for i in range(len(q.needs or ())) if i not in alive]
        assert left_out and all(q(root, (i,)) == [] for i in left_out)


def test_page_tags_equal_the_xpath_answers() -> None:
    html = ('<html><head><title> </title><link rel="CANONICAL"><link rel="Canonical" href="/c">'
            '<meta name="a" content=""><meta property="og:title" content="T"></head><body>'
            '<script type="application/LD+JSON">{"@type": "NewsArticle", "headline": "H"}</script>'
            '<svg><title>s</title></svg></body></html>')
    root = Selector(text=html).root
    tags = PageTags.of(root)
    assert jsonld_objects(root, tags) == jsonld_objects(root) and jsonld_objects(root)
    assert meta_index(root, tags) == meta_index(root)
    assert meta_fields(root, None, tags) == meta_fields(root)
    assert tags.canonical == "/c" and tags.title == " "


class _UpperHeadlineLoader(ArticleLoader):
    headline_in = MapCompose(p.clean_text, lambda v, loader_context: f"{v} ({loader_context['timezone']})")


@pytest.mark.parametrize("loader_class", [ArticleLoader, _UpperHeadlineLoader])
def test_article_builder_loads_what_the_item_loader_loads(loader_class: type[ArticleLoader]) -> None:
    values: list[tuple[str, Any]] = [
        ("headline", "  A  headline "), ("headline", "second"), ("authors", [["Jane Roe"], None, "John Doe"]),
        ("tags", ["#Ports", "ports", "Weather"]), ("published_at", "2026-11-24 09:00"), ("language", "en_us"),
        ("canonical_url", "/a?utm_source=x&b=1"), ("images", [{"url": "/i.jpg", "caption": "Cap (Photo: AP)"}]),
        ("is_paywalled", "yes"), ("description", None), ("section", ""), ("url", " https://news.example/a "),
    ]
    context = {"base_url": "https://news.example/x", "timezone": "Europe/Lisbon"}
    loader = loader_class(item=Article(), **context)
    builder = ArticleBuilder(loader_class, item=Article(), **context)
    for name, value in values:
        loader.add_value(name, value)
        builder.add_value(name, value)
        assert builder.get_collected_values(name) == loader.get_collected_values(name)
    assert dict(builder.load_item()) == dict(loader.load_item())


def test_site_values_take_a_selector_or_a_tree() -> None:
    class Outlet:
        name = "outlet"
        selectors = {"headline": ("h1.title ::text",), "body": ("div.story p",)}

    html = "<html><body><h1 class='title'>Head <b>line</b></h1><div class='story'><p>One.</p><p>Two.</p></div></body></html>"
    rules = SiteRules.of(Outlet)
    expected = {"headline": "Head line", "body": ["One.", "Two."]}
    assert site_values(Selector(text=html), rules, "https://x.example/") == expected
    assert site_values(Selector(text=html).root, rules, "https://x.example/") == expected
    result = extract_article(Selector(text=html), "https://x.example/a", rules)
    assert result.item["headline"] == "Head line" and result.item["provenance"]["body"] == "site"


def _strip_name_by_regex(title: str, name: str) -> str | None:
    m = re.match(rf"^(.*\S)\s+[|\-–—:·•]\s+{re.escape(name)}\s*$", title, re.I) or \
        re.match(rf"^{re.escape(name)}\s+[|\-–—:·•]\s+(\S.*)$", title, re.I)
    return m.group(1) if m else None


def test_outlet_name_is_stripped_from_titles_as_the_patterns_would() -> None:
    rng = random.Random(7)
    alphabet = [*"ab AB|-:\n\t\x1c.", "–", "·", "é"]
    for _ in range(5000):
        name = rng.choice(["BBC News", "dw.com", "AP", "Voice of America (VOA News)", "x|y", "N-TV"])
        cased = "".join(c.upper() if rng.random() < 0.3 else c for c in name)
        noise = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 4))) for _ in range(2)]
        title = rng.choice([
            noise[0] + rng.choice([" | ", " - ", "  :\n ", " – ", "|", " :: "]) + cased + rng.choice(["", " ", "\n"]),
            cased + rng.choice([" | ", " · ", "|", "\t-\t"]) + noise[0] + rng.choice(["", "\n", "\nz"]),
            noise[0] + cased + noise[1],
        ])
        assert _without_name(title, name) == _strip_name_by_regex(title, name), (title, name)


def _drop_one_by_one(root, queries):
    from newscrawl.extract.drop import remove
    from newscrawl.extract.site import PageQueries

    page = PageQueries(root)
    for q in queries:
        remove(page.run(q))


@pytest.mark.parametrize("queries", [
    (".share", ".ad-slot", ".promo"),
    (".share", "p:first-child", ".ad-slot", "aside .promo", ".promo"),
    (".missing", ".share"),
    ("[data-testid='Social']", "#top", "div[data-testid='Ad']", "aside > p.promo", "[data-x^='news']"),
    ("p[data-x$='letter']", "[data-x*='wsl']", "[lang|='en']", "[class~='story']", "div:not(.story) p", "#top"),
    ("aside .promo", "p:last-child", "[data-testid='Ad']", "div p:first-child", ".ad-slot"),
    ("[data-testid='Social']", "div[data-testid='Ad']", "[data-testid='none']", "#top", "#topless", "[id='x']"),
    ("[data-testid='Social']", "[data-testid='Ad']", "[data-testid^='Soc']", ".share", ".promo", ".ad-slot"),
])
def test_drop_nodes_batches_class_selectors_into_the_same_tree(queries):
    from lxml import html as lxml_html

    from newscrawl.extract.drop import drop_nodes

    page = ("<html><body><div class='ad-slot'><p>Ad</p></div><p>First</p>"
            "<div class=\"story\tshare\"><span class='share'>S</span> tail</div>"
            "<p class='shared'>not a share: a substring only</p><p class='share\u00a0x'>NBSP is no separator</p>"
            "<aside><p class='promo'>Promo</p><p class=' promo\n'>Promo 2</p></aside>"
            "<div class='ad-slot'>second ad</div> after <p>Last</p>"
            "<div id='top' data-testid='Ad'><p data-x='newsletter' lang='en-GB'>N</p> t <p data-x='news'>n</p></div>"
            "<section data-testid='Social'><p data-testid='Ad' class='promo'>in social</p></section>"
            "<p data-testid='Ad'>not a div</p><p id='topless'>x</p><p lang='eng'>x</p></body></html>")
    expected, batched = lxml_html.fromstring(page), lxml_html.fromstring(page)
    _drop_one_by_one(expected, queries)
    drop_nodes(batched, queries)
    assert lxml_html.tostring(batched) == lxml_html.tostring(expected)
    assert b"substring only" in lxml_html.tostring(batched) and b"NBSP" in lxml_html.tostring(batched)


def test_attribute_tests_and_order_free_selectors_are_read_right() -> None:
    from newscrawl.extract.drop import AttributeTest, attribute_test, order_free

    assert attribute_test(".ad") == AttributeTest(".ad", None, "class", "~=", "ad")
    assert attribute_test("aside#top") == AttributeTest("aside#top", "aside", "id", "=", "top")
    assert attribute_test("[data-testid^='x']") == AttributeTest("[data-testid^='x']", None, "data-testid", "^=", "x")
    for query in ("div .ad", "[data-x]", "[data-x='it''s']", ".a.b", "p:first-child", "//p[@class='ad']", ".a, .b"):
        assert attribute_test(query) is None, query
    assert order_free("article footer") and order_free("div > p.x[data-y='z']") and order_free(".ad")
    for query in ("p:first-child", "div:has(img)", "h2 + p", "div:not(.x)", "p::text", "//p", ".a, .b"):
        assert not order_free(query), query


SHARED_START = ["#b p", "#b > ul > li", "#b p::text", "#b p::attr(data-y)", "//div[@id='b']//p", "//div[@id='b']/p[2]",
                "//div[@id='b']//@data-y", "div.a li", "//div[contains(@class, 'a')]//p", "#b", "#nowhere p",
                "[data-x='1'] > p", "[data-x='1'] p ::text", "ul > li:first-child", "(//div)[1]//p", "//p/.."]


@pytest.mark.parametrize("query", CSS + XPATH + ALTERNATIVES + SHARED_START)
def test_a_first_step_read_once_a_page_gives_the_whole_answer(query: str) -> None:
    """Queries run from their first step's one block (PageQueries._page_run) find what the whole query finds."""
    xpath = query if query.startswith(("/", "./", "(")) else HTMLTranslator().css_to_xpath(query)
    root = Selector(text=DOC).root
    page = PageQueries(root)
    for _ in range(2):  # the second time, the first step is the page's remembered one
        assert page._page_run(query) == etree.XPath(xpath)(root)


PLANNED = ["#b p, div.a > figure", "[data-x='1'] p, #b li, #b > p", "//div[@id='b']/p | //div[@data-x='1']/p",
           "div.a p, div.a li",  # "div.a" finds two blocks: the rests under each, in document order
           "div.a p::text, #b li::text",  # text under several blocks cannot be ordered: the whole query runs
           "#b, #b p", "p, #b li", "#b li, li", "div.a > ul, #b > ul > li, #b p::attr(data-y)", "figure:has(img), #b img",
           "//div[@id='b']//p[1] | //div[@class='a']/p", ".a, [data-x='1']", "#nowhere p, #b figure, .a li",
           ".a > ul, div.a > p", "li.a, ul > li.a, .a li", "[data-x='1'] > p, p[data-x='1']"]


@pytest.mark.parametrize("seed", range(6))
def test_queries_sharing_first_steps_on_one_page_each_give_the_whole_answer(seed: int) -> None:
    """One page's queries in several orders: each one's answer from first steps found by the others (and by
    itself) equals the whole query's, whether its groups' blocks were found before or not."""
    queries = CSS + XPATH + ALTERNATIVES + SHARED_START + PLANNED
    random.Random(seed).shuffle(queries)
    root = Selector(text=DOC).root
    page = PageQueries(root)
    for query in queries:
        xpath = query if query.startswith(("/", "./", "(")) else HTMLTranslator().css_to_xpath(query)
        assert page._page_run(query) == etree.XPath(xpath)(root), query
    assert len(page._first_steps) > 5  # the first steps were found once and shared


def test_a_named_first_step_is_read_from_the_same_step_for_any_element(monkeypatch: pytest.MonkeyPatch) -> None:
    from newscrawl.extract import site

    root = Selector(text=DOC).root
    page = PageQueries(root)
    assert page._page_run(".a li") == etree.XPath(HTMLTranslator().css_to_xpath(".a li"))(root)
    walked: list[str] = []
    monkeypatch.setattr(site, "_first_step_xpath", lambda source: walked.append(source) or etree.XPath(source))
    for query in ("div.a p", "li.a", "figure.a"):  # ".a" found before: filtered by element name, no walk
        xpath = HTMLTranslator().css_to_xpath(query)
        assert page._page_run(query) == etree.XPath(xpath)(root), query
    assert walked == []


def test_c_level_element_classes_only_for_the_pages_own_parser() -> None:
    from lxml import html as lxml_html

    from newscrawl.extract import _fast_element_proxies

    page = "<html><body><form><input name='q'></form><p>x</p></body></html>"
    shared = lxml_html.fromstring(page)  # lxml.html's module-level parser, shared by the process
    _fast_element_proxies(shared)
    assert type(lxml_html.fromstring(page).xpath("//form")[0]) is lxml_html.FormElement
    sel = Selector(text=page)  # parsel: a parser for this page alone
    _fast_element_proxies(sel.root)
    assert type(sel.root.xpath("//form")[0]) is lxml_html.HtmlElement
    assert sel.root.xpath("//p")[0].text_content() == "x"  # still lxml.html's element API


def test_node_text_of_an_element_without_children_is_what_the_walk_gives() -> None:
    from lxml import etree as lxml_etree

    from newscrawl.extract.site import _BLOCK_TAGS, element_text, node_text

    root = Selector(text="<html><body><p>plain</p><p></p><span> spaced </span><script>x()</script><b>a<i>b</i>c</b>"
                         "<li>item<!-- c --></li><style>s</style><br><td>\u00a0cell\n</td><div>t<br>u</div>"
                         "<!-- note --><em>tail after</em> tail</body></html>").root
    checked = 0
    for el in root.iter():
        if el is root:
            continue
        text = element_text(el)
        walked = text[1:-1] if isinstance(el.tag, str) and el.tag in _BLOCK_TAGS else text
        if isinstance(el.tag, str):
            assert node_text(el) == walked, lxml_etree.tostring(el)
        else:  # a comment: no text of its own
            assert node_text(el) == "" == walked.strip()
        checked += 1
    assert checked >= 15
