"""Tests for newscrawl.processors (pure field normalisers). All inputs are invented text."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone

import pytest

from newscrawl import processors as P
from newscrawl.processors import (
    AGENCY_NAMES,
    BOILERPLATE_PATTERNS,
    canonicalize_url,
    clean_paragraphs,
    clean_text,
    content_hash,
    join_paragraphs,
    normalize_language,
    parse_dateline,
    parse_datetime,
    split_authors,
    split_caption_credit,
    split_paragraphs,
    strip_boilerplate,
    wire_from_credit,
    word_count,
)


def test_module_has_no_scrapy_import():
    source = open(P.__file__, encoding="utf-8").read()
    assert not re.search(r"^\s*(?:import|from)\s+scrapy\b", source, re.M)


# --- clean_text -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("CopyrightÂ© 2022", "Copyright© 2022"),
        ("donâ€™t stop", "don’t stop"),  # mojibake fixed, curly apostrophe kept
        ("“Quoted” — dash – en", "“Quoted” — dash – en"),  # typography untouched
        ("Full-width ＡＢＣ，中文", "Full-width ＡＢＣ，中文"),  # CJK width untouched
        ("<p>Hello</p><p>World &amp; co</p>", "Hello World & co"),
        ("Jo<b>h</b>n<br/>Smith", "John Smith"),
        ("a < b and c > d", "a < b and c > d"),  # not markup
        ("<script>var x = 1;</script>Text", "Text"),
        ("Fish &amp; chips &nbsp;&#8217;s &bogus;", "Fish & chips ’s &bogus;"),
        ("e\u0301te\u0301", "été"),  # NFC
        ("soft\u00adhyphen zero\u200bwidth \ufeffbom", "softhyphen zerowidth bom"),
        ("non\u00a0breaking\u2009thin\u3000ideographic", "non breaking thin ideographic"),
        ("  many \n\t spaces\r\n here  ", "many spaces here"),
        ("lone \ud800 surrogate", "lone \ufffd surrogate"),
        ("pair \ud83d\ude00 joined", "pair \U0001f600 joined"),
        ("می\u200cخواهم", "می\u200cخواهم"),  # ZWNJ is spelling in Persian
    ],
)
def test_clean_text(raw, expected):
    assert clean_text(raw) == expected


@pytest.mark.parametrize("raw", [None, "", "   ", "\u00a0\u200b\ufeff", "<p> </p>"])
def test_clean_text_empty_is_none(raw):
    assert clean_text(raw) is None


def test_clean_text_output_is_utf8_encodable():
    assert clean_text("x\udfffy").encode("utf-8") == "x\ufffdy".encode()


# --- paragraphs -------------------------------------------------------------------------------------------------


def test_clean_paragraphs_drops_empties_and_consecutive_duplicates():
    raw = ["First  para.", "", "First para.", "  ", "Second\u00a0para.", "First para.", None]
    assert clean_paragraphs(raw) == ["First para.", "Second para.", "First para."]


def test_clean_paragraphs_bare_string_is_one_paragraph():
    assert clean_paragraphs("Only one.") == ["Only one."]


@pytest.mark.parametrize(
    ("paragraphs", "body"),
    [
        (["One.", "Two."], "One.\n\nTwo."),
        (["One.", "", "  ", "Two."], "One.\n\nTwo."),
        ([], ""),
    ],
)
def test_join_paragraphs(paragraphs, body):
    assert join_paragraphs(paragraphs) == body


@pytest.mark.parametrize(
    ("body", "paragraphs"),
    [
        ("One.\n\nTwo.", ["One.", "Two."]),
        ("One.\n \n\n\nTwo.\nstill two.", ["One.", "Two.\nstill two."]),
        ("\n\n", []),
        ("", []),
        (None, []),
    ],
)
def test_split_paragraphs(body, paragraphs):
    assert split_paragraphs(body) == paragraphs


def test_join_split_round_trip():
    paras = ["Alpha beta.", "Gamma “delta”.", "Épsilon."]
    assert split_paragraphs(join_paragraphs(paras)) == paras


# --- parse_datetime ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2022-03-31T16:05:00+08:00", "2022-03-31T16:05:00+08:00"),
        ("2022-03-31T08:05:00Z", "2022-03-31T08:05:00+00:00"),
        ("2022-03-31T16:05:00+0800", "2022-03-31T16:05:00+08:00"),
        ("2022-03-31T16:05:00+08", "2022-03-31T16:05:00+08:00"),
        ("2022-03-31T16:05:00.123456+08:00", "2022-03-31T16:05:00+08:00"),
        ("2022-03-31T16:05:00.123456789-04:00", "2022-03-31T16:05:00-04:00"),
        ("Thu, 31 Mar 2022 08:05:00 GMT", "2022-03-31T08:05:00+00:00"),
        ("Thu, 31 Mar 2022 16:05:00 +0800", "2022-03-31T16:05:00+08:00"),
        ("Thu, 31 Mar 2022 08:05:00 -0000", "2022-03-31T08:05:00+00:00"),
        (1648713900, "2022-03-31T08:05:00+00:00"),
        (1648713900000, "2022-03-31T08:05:00+00:00"),
        (1648713900.75, "2022-03-31T08:05:00+00:00"),
        ("1648713900", "2022-03-31T08:05:00+00:00"),
        ("1648713900000", "2022-03-31T08:05:00+00:00"),
        ("Updated 5:03 AM EST, March 31, 2022", "2022-03-31T05:03:00-05:00"),
        ("March 31, 2022 4:05 PM SGT", "2022-03-31T16:05:00+08:00"),
        ("Thursday, 31 March 2022, 16:05 CEST", "2022-03-31T16:05:00+02:00"),
        ("31 Mar 2022 04:05PM KST", "2022-03-31T16:05:00+09:00"),
        ("March 31, 2022 10:00 AEST", "2022-03-31T10:00:00+10:00"),
        ("March 31, 2022 10:00 IST", "2022-03-31T10:00:00+05:30"),
        ("Posted: March 31, 2022 at 4:05 pm ET", "2022-03-31T16:05:00-04:00"),  # ET follows DST
        ("January 5, 2022 at 4:05 pm ET", "2022-01-05T16:05:00-05:00"),
        ("2022-03-31 16:05 GMT+8", "2022-03-31T16:05:00+08:00"),  # not dateutil's POSIX-inverted reading
        (datetime(2022, 3, 31, 16, 5, 7, 999, tzinfo=timezone.utc), "2022-03-31T16:05:07+00:00"),
    ],
)
def test_parse_datetime_instants(value, expected):
    assert parse_datetime(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2022-03-31", "2022-03-31"),
        ("20220331", "2022-03-31"),
        ("March 31, 2022", "2022-03-31"),
        ("31/03/2022", "2022-03-31"),
        (date(2022, 3, 31), "2022-03-31"),
        # a wall-clock time without an offset is not an instant: only its date is kept
        ("March 31, 2022 4:05 PM", "2022-03-31"),
        ("31 Mar 2022 04:05PM", "2022-03-31"),
        ("2022-03-31 16:05:00", "2022-03-31"),
        ("2022-03-31T16:05:00", "2022-03-31"),
        (datetime(2022, 3, 31, 16, 5), "2022-03-31"),
        ("Mar 31, 2022 04:05PM (Updated: Apr 1, 2022 10:00AM)", "2022-03-31"),
        ("April 28, 2019 at 6:01 am Updated April 29, 2019 at 3:33 pm", "2019-04-28"),
    ],
)
def test_parse_datetime_dates(value, expected):
    assert parse_datetime(value) == expected


@pytest.mark.parametrize(
    ("value", "zone", "expected"),
    [
        ("2022-03-31 16:05:00", "Asia/Singapore", "2022-03-31T16:05:00+08:00"),
        ("March 31, 2022 4:05 PM", "Asia/Singapore", "2022-03-31T16:05:00+08:00"),
        ("Mar 31, 2022 04:05PM (Updated: Apr 1, 2022 10:00AM)", "Asia/Singapore", "2022-03-31T16:05:00+08:00"),
        ("2022-07-01 12:00", "Europe/London", "2022-07-01T12:00:00+01:00"),  # BST
        ("2022-01-01 12:00", "Europe/London", "2022-01-01T12:00:00+00:00"),  # GMT
        ("2022-03-27 12:00", "America/New_York", "2022-03-27T12:00:00-04:00"),
        ("2022-03-31T16:05:00+02:00", "Asia/Singapore", "2022-03-31T16:05:00+02:00"),  # explicit offset wins
        ("2022-03-31", "Asia/Singapore", "2022-03-31"),  # a date stays a date
        ("2022-03-31 16:05", "Not/A_Zone", "2022-03-31"),  # bad zone name: as if none
    ],
)
def test_parse_datetime_default_tz(value, zone, expected):
    assert parse_datetime(value, default_tz=zone) == expected


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "garbage",
        "Advertisement 12",  # dateutil alone would say "the 12th of this month"
        "Page 1 of 2022",
        "March 2022",  # no day: we would have to invent one
        "31 March",  # no year
        "Published 3 hours ago",
        "1985-06-01",
        "2150-01-01",
        "2022-13-45",
        12,
        True,
        float("nan"),
        "99999999999999999999",
        315532800,  # 1980
        {"date": "2022-03-31"},
        "x" * 1000,
    ],
)
def test_parse_datetime_rejects(value):
    assert parse_datetime(value) is None


def test_parse_datetime_list_takes_first_parseable():
    assert parse_datetime(["junk", "2022-03-31T16:05:00Z"]) == "2022-03-31T16:05:00+00:00"


# --- split_authors ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("By Jane Doe", ["Jane Doe"]),
        ("by Jane Doe and John Roe", ["Jane Doe", "John Roe"]),
        ("BY JANE DOE AND JOHN ROE", ["Jane Doe", "John Roe"]),
        ("Jane Doe, John Roe; Ann Lee | Bo Kim", ["Jane Doe", "John Roe", "Ann Lee", "Bo Kim"]),
        ("Jane Doe & John Roe", ["Jane Doe", "John Roe"]),
        ("Jane Doe with John Roe", ["Jane Doe", "John Roe"]),
        ("Jane Doe\nJohn Roe", ["Jane Doe", "John Roe"]),
        ("Por Ana Gómez", ["Ana Gómez"]),
        ("Par Élodie Martin", ["Élodie Martin"]),
        ("Von Hans Müller", ["Hans Müller"]),
        ("di Mario Rossi", ["Mario Rossi"]),
        ("Luigi Di Maio", ["Luigi Di Maio"]),  # surname particle, not a prefix
        ("Di Maio", ["Di Maio"]),
        ("Martin Luther King, Jr., and Jane Doe", ["Martin Luther King Jr.", "Jane Doe"]),
        ("John Smith Sr.", ["John Smith Sr."]),
        ("John Smith III, Jane Doe", ["John Smith III", "Jane Doe"]),
        ("Jane Doe, Senior Reporter", ["Jane Doe"]),
        ("Jane Doe, Chief Political Correspondent", ["Jane Doe"]),
        ("Jane Doe | Reuters", ["Jane Doe"]),
        ("Jane Doe - Reuters", ["Jane Doe"]),
        ("Jane Doe in Brussels", ["Jane Doe"]),
        ("Jane Doe (Reuters)", ["Jane Doe"]),
        ("By Jane Doe, Senior Reporter | Reuters", ["Jane Doe"]),
        ("Jane Doe, MD", ["Jane Doe"]),
        ("Jane Doe @janedoe", ["Jane Doe"]),
        ("Jane Doe https://example.com/jane", ["Jane Doe"]),
        ("Jane Doe jane.doe@example.com", ["Jane Doe"]),
        ("Jane Doe.", ["Jane Doe"]),
        ("Nelson Q. Public", ["Nelson Q. Public"]),
        ("J.R. HARTLEY", ["J.R. Hartley"]),
        ("JEAN-PAUL O'NEILL", ["Jean-Paul O'Neill"]),
        ("Jane MCDONALD", ["Jane MCDONALD"]),  # not whole-caps: left alone
        ("Kiri Tane", ["Kiri Tane"]),
        ("李小明", ["李小明"]),
        ("by Lucas Vale22 Dec 2016651", ["Lucas Vale"]),
        ("By JANE DOE\n    March 11, 2015 3:46 PM", ["Jane Doe"]),
        ("Jane Doe Updated 10:00 AM", ["Jane Doe"]),
        ("Theresa Mayfield, June Park", ["Theresa Mayfield", "June Park"]),
        ("April 28, 2019 at 6:01 am Updated April 29, 2019 at 3:33 pm", []),
        ("Published March 31, 2022", []),
        ("Ana Ruiz (avec Paul Blanc et Lea Roux)", ["Ana Ruiz", "Paul Blanc", "Lea Roux"]),
        ("Story by Jane Doe; Editing by John Roe", ["Jane Doe"]),
        ("Jane Doe, jane doe, JANE DOE", ["Jane Doe"]),
        ("One Two Three Four Five Six", []),
        ("1234", []),
        ("", []),
        (None, []),
        (42, []),
    ],
)
def test_split_authors(value, expected):
    assert split_authors(value) == expected


@pytest.mark.parametrize(
    "brand",
    [
        "Reuters", "REUTERS", "Associated Press", "The Associated Press", "AP", "AFP", "Agence France-Presse",
        "Bloomberg", "Anadolu", "Anadolu Agency", "dpa", "Xinhua", "Yonhap", "Kyodo", "PTI", "ANI", "UPI", "CNA",
        "BBC News", "Reuters staff", "AP staff", "staff", "Staff Writer", "Staff Reporter", "Editorial Board",
        "News Desk", "Wire services", "Example Times Staff", "Metro Desk", "Example News", "City Newsroom",
        "Gear Team", "Guardian staff reporter", "example.com", "ssi", "AFP, MANILA",
    ],
)
def test_split_authors_drops_agencies_and_desks(brand):
    assert split_authors(brand) == []


def test_split_authors_structured_values():
    value = [
        "Jane Doe",
        {"@type": "Person", "name": "John Roe"},
        [{"name": ["Ann Lee", "By Bo Kim"]}],
        {"@type": "Organization", "name": "The Daily Example"},
        {"name": "Reuters"},
        {"url": "https://example.com/no-name"},
        7,
    ]
    assert split_authors(value) == ["Jane Doe", "John Roe", "Ann Lee", "Bo Kim"]


def test_split_authors_dedupes_across_values_keeping_order():
    assert split_authors(["Jane Doe", "John Roe", "jane doe"]) == ["Jane Doe", "John Roe"]


def test_agency_names_contract():
    expected = {
        "reuters": "Reuters", "associated press": "AP", "ap": "AP", "afp": "AFP", "agence france-presse": "AFP",
        "anadolu agency": "Anadolu", "aa": "Anadolu", "yonhap": "Yonhap", "dpa": "dpa",
    }
    for alias, canonical in expected.items():
        assert AGENCY_NAMES[alias] == canonical
    for alias in ("bernama", "xinhua", "kyodo", "pti", "ani", "efe", "upi", "bloomberg"):
        assert alias in AGENCY_NAMES
    assert all(alias == alias.lower() for alias in AGENCY_NAMES)


# --- parse_dateline ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("BRUSSELS: Russian forces pulled back on Tuesday.", ("BRUSSELS", None)),
        ("BRUSSELS, March 31 (Reuters) - Russian forces pulled back.", ("BRUSSELS", "Reuters")),
        ("WASHINGTON (AP) — The committee met.", ("WASHINGTON", "AP")),
        ("PARIS (AFP) - Le comité s'est réuni.", ("PARIS", "AFP")),
        ("SEOUL, Aug. 20 (Yonhap) -- The ministry said.", ("SEOUL", "Yonhap")),
        ("NEW YORK/LONDON, Jan 3 (Reuters) - Oil fell.", ("NEW YORK/LONDON", "Reuters")),
        ("KYIV, Ukraine (AP) — Officials said.", ("KYIV, Ukraine", "AP")),
        ("SAN DIEGO, Calif. (AP) — A ship docked.", ("SAN DIEGO, Calif.", "AP")),
        ("ANKARA (AA) - Officials said.", ("ANKARA", "Anadolu")),
        ("LONDON — The committee met.", ("LONDON", None)),
        ("LONDON—The committee met.", ("LONDON", None)),
        ("Brussels, 31 March (dpa) - Die Kommission tagte.", ("Brussels", "dpa")),
        ("Brussels, 31 March (dpa) Die Kommission tagte.", ("Brussels", "dpa")),
        ("The Hague (AFP) - The court ruled.", ("The Hague", "AFP")),
        ("MOSCOW, March 31, 2022 (Reuters) - Prices rose.", ("MOSCOW", "Reuters")),
        ("NEW DELHI, Mar 31 (PTI) The minister said.", ("NEW DELHI", "PTI")),
        ("ST. LOUIS (AP) — A storm hit.", ("ST. LOUIS", "AP")),
        ("WASHINGTON (Example News) — A storm hit.", ("WASHINGTON", None)),  # not a wire
        ("(Reuters) - Shares fell on Monday.", (None, "Reuters")),
        ("The minister said: no changes are planned.", (None, None)),
        ("Update: the road is open again.", (None, None)),
        ("WATCH: video of the storm", (None, None)),
        ("ANALYSIS: Why prices rise", (None, None)),
        ("EXCLUSIVE: Firm plans sale", (None, None)),
        ("BREAKING: Storm hits coast", (None, None)),
        ("LIVE: Election results", (None, None)),
        ("UPDATE 2-Oil falls on demand fears", (None, None)),
        ("EXCLUSIVE-Firm plans sale", (None, None)),
        ("AI is changing the newsroom.", (None, None)),
        ("The Associated Press (AP) reported on Monday.", (None, None)),
        ("Officials in Paris said on Monday that talks would resume.", (None, None)),
        ("", (None, None)),
    ],
)
def test_parse_dateline(text, expected):
    assert parse_dateline(text) == expected


def test_strip_dateline_is_not_provided():
    assert not hasattr(P, "strip_dateline")


# --- wire_from_credit -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Source: Reuters/fh", "Reuters"),
        ("REUTERS", "Reuters"),
        ("(AP)", "AP"),
        ("AFP/AP", "AFP"),
        ("AP/AFP", "AP"),
        ("Reuters staff", "Reuters"),
        ("By Jane Doe, Reuters", "Reuters"),
        ("Associated Press", "AP"),
        ("The Associated Press", "AP"),
        ("Agence France-Presse", "AFP"),
        ("ANKARA (AA)", "Anadolu"),
        ("dpa/xy", "dpa"),
        ("Yonhap News Agency", "Yonhap"),
        ("Photo: Bloomberg", "Bloomberg"),
        ("By Jane Doe", None),
        ("Ani Smith and Efe Yilmaz", None),  # short aliases count only in capitals
        ("Reutersville Gazette", None),
        ("", None),
        (None, None),
    ],
)
def test_wire_from_credit(text, expected):
    assert wire_from_credit(text) == expected


# --- split_caption_credit ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caption", "expected"),
    [
        (
            "A damaged tank in Mariupol, Ukraine March 30, 2022. REUTERS/Jane Doe",
            ("A damaged tank in Mariupol, Ukraine March 30, 2022.", "REUTERS/Jane Doe"),
        ),
        ("Voters queue on Tuesday. (AP Photo/Jane Doe)", ("Voters queue on Tuesday.", "AP Photo/Jane Doe")),
        ("Voters queue on Tuesday. Photo: AFP", ("Voters queue on Tuesday.", "AFP")),
        ("Voters queue on Tuesday [Getty Images]", ("Voters queue on Tuesday", "Getty Images")),
        ("An old market hall. File photo: Reuters", ("An old market hall.", "Reuters")),
        ("The minister speaks. Image: EPA-EFE", ("The minister speaks.", "EPA-EFE")),
        ("Fans cheer. (Photo by Jane Doe/Getty Images)", ("Fans cheer.", "Jane Doe/Getty Images")),
        ("Traders at work. Credit: Jane Doe/Bloomberg", ("Traders at work.", "Jane Doe/Bloomberg")),
        (
            "Fans at the match on Friday. Jane Doe/The Guardian",
            ("Fans at the match on Friday.", "Jane Doe/The Guardian"),
        ),
        ("Workers at the plant. REUTERS", ("Workers at the plant.", "REUTERS")),
        ("A view of the bay. AFP via Getty Images", ("A view of the bay.", "AFP via Getty Images")),
        ("Rescuers search rubble | Jane Doe/AFP", ("Rescuers search rubble", "Jane Doe/AFP")),
        ("Photo: AFP", (None, "AFP")),
        ("Fans in the square - Photo: AFP", ("Fans in the square", "AFP")),
        (  # the full stop after an initial does not end the sentence
            "A trader on the floor. Nelson D. Schwartz/Example Times",
            ("A trader on the floor.", "Nelson D. Schwartz/Example Times"),
        ),
        (
            "Smoke rises. Sputnik/Jane Doe/Kremlin via REUTERS",
            ("Smoke rises.", "Sputnik/Jane Doe/Kremlin via REUTERS"),
        ),
        ("Protesters in Kyiv/Kiev gather on Friday", ("Protesters in Kyiv/Kiev gather on Friday", None)),
        ("The town hall (left) and the church", ("The town hall (left) and the church", None)),
        ("A scene from 2019 (file)", ("A scene from 2019 (file)", None)),
        ("The photo: a view of the harbour", ("The photo: a view of the harbour", None)),
        ("A man walks his dog in the park.", ("A man walks his dog in the park.", None)),
        (None, (None, None)),
        ("  ", (None, None)),
    ],
)
def test_split_caption_credit(caption, expected):
    assert split_caption_credit(caption) == expected


# --- canonicalize_url -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        (
            "HTTP://Example.COM:80/Path/?b=2&utm_source=x&a=1&fbclid=zz#frag",
            None,
            "http://example.com/Path/?b=2&a=1",
        ),
        ("https://example.com:443/a?CMP=share&ref=tw&id=5", None, "https://example.com/a?ref=tw&id=5"),  # "ref" may be content
        (
            "https://example.com/a?gclid=1&mc_cid=2&mc_eid=3&ocid=4&cmpid=5&taid=6&ref_src=7&smid=8&src=9"
            "&at_medium=a&at_campaign=b&guccounter=1&_ga=2&UTM_Campaign=c&keep=me",
            None,
            "https://example.com/a?src=9&keep=me",  # "src" is too often a real parameter to drop
        ),
        ("https://example.com/a?z=1&a=2&m=3", None, "https://example.com/a?z=1&a=2&m=3"),  # order kept
        ("https://example.com/a?q=a%20b&x=1+2", None, "https://example.com/a?q=a%20b&x=1+2"),  # encoding kept
        ("/news/story?p=1#top", "https://www.example.com/section/", "https://www.example.com/news/story?p=1"),
        ("story.html", "https://example.com/section/index.html", "https://example.com/section/story.html"),
        ("//cdn.example.com/x", "https://example.com/", "https://cdn.example.com/x"),
        ("https://example.com:8080/x?utm_medium=a", None, "https://example.com:8080/x"),
        ("https://example.com", None, "https://example.com/"),
        ("https://user:secret@example.com/x", None, "https://example.com/x"),
        ("https://Bücher.example/ä?q=ü", None, "https://xn--bcher-kva.example/%C3%A4?q=%C3%BC"),
        ("  https://example.com/a\n/b  ", None, "https://example.com/a/b"),
        ("https://[::1]:8443/x", None, "https://[::1]:8443/x"),
    ],
)
def test_canonicalize_url(url, base, expected):
    assert canonicalize_url(url, base) == expected


@pytest.mark.parametrize(
    ("url", "base"),
    [
        ("javascript:void(0)", None),
        ("mailto:desk@example.com", None),
        ("ftp://example.com/file", None),
        ("data:text/plain,hi", None),
        ("//cdn.example.com/x", None),  # protocol-relative without a base
        ("/relative/only", None),
        ("http://example.com:99999/", None),
        ("", None),
        (None, None),
        ("https://", None),
    ],
)
def test_canonicalize_url_rejects(url, base):
    assert canonicalize_url(url, base) is None


def test_canonicalize_url_idempotent():
    once = canonicalize_url("https://Example.com/a b?x=1&utm_source=y#f")
    assert once == "https://example.com/a%20b?x=1"
    assert canonicalize_url(once) == once


# --- strip_boilerplate ------------------------------------------------------------------------------------------

BOILERPLATE = [
    "Advertisement",
    "ADVERTISEMENT",
    "Scroll to continue with content",
    "Follow our news on Telegram and X.",
    "Also worth reading",
    "Read more: Why prices keep rising",
    "Related: Oil falls again",
    "Sign up for our daily newsletter",
    "Subscribe to our newsletter for the latest updates.",
    "Stay informed with our free newsletters.",
    "By clicking subscribe, I agree to the Terms of Use and Privacy Policy.",
    "We use cookies to improve your experience on our site.",
    "This browser is no longer supported.",
    "We know it’s a hassle to switch browsers, but we want your experience to be fast and secure.",
    "Share this article",
    "Click here to read the full report",
    "Copyright © 2022 Example Media Ltd. All rights reserved.",
    "Our Standards: The Thomson Reuters Trust Principles.",
]

REAL_SENTENCES = [
    "(Reporting by Jane Doe; Editing by John Roe)",
    "The company said advertisement revenue fell 5% in the quarter.",
    "Readers who subscribe to the paper get access to the archive.",
    "He urged people to follow our news carefully, citing rumours.",
    "Related stocks fell sharply on Monday after the central bank spoke.",
    "Share prices fell.",
    "She said cookies were sold at the fair, and we use cookies in the recipe.",
    "Click here, the instructor said, was the worst advice he ever gave.",
]


@pytest.mark.parametrize("paragraph", BOILERPLATE)
def test_strip_boilerplate_drops(paragraph):
    assert strip_boilerplate(["Real text.", paragraph, "More real text."]) == ["Real text.", "More real text."]


@pytest.mark.parametrize("paragraph", REAL_SENTENCES)
def test_strip_boilerplate_keeps_real_sentences(paragraph):
    assert strip_boilerplate([paragraph]) == [paragraph]


def test_strip_boilerplate_extra_patterns_are_whole_paragraph():
    paras = ["Intro.", "Image source, Example Photo Agency", "The image source was unclear, police said."]
    assert strip_boilerplate(paras, [r"image source, .{0,60}"]) == ["Intro.", paras[2]]
    compiled = re.compile(r"more from example daily", re.I)
    assert strip_boilerplate(["More from Example Daily", "Text."], [compiled]) == ["Text."]


def test_boilerplate_patterns_are_compiled_case_insensitive():
    assert BOILERPLATE_PATTERNS and all(isinstance(p, re.Pattern) and p.flags & re.I for p in BOILERPLATE_PATTERNS)


# --- normalize_language -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("en_US", "en-US"),
        ("en-us", "en-US"),
        ("EN", "en"),
        ("zh-hans-cn", "zh-Hans-CN"),
        ("sr-latn-rs", "sr-Latn-RS"),
        ("es-419", "es-419"),
        ("english", "en"),
        ("German", "de"),
        ("en-US,en;q=0.9", "en-US"),
        ("de_DE.UTF-8@euro", "de-DE"),
        ("iw", "he"),
        ("en-US-x-internal", "en-US"),
        (" pt-br ", "pt-BR"),
    ],
)
def test_normalize_language(value, expected):
    assert normalize_language(value) == expected


@pytest.mark.parametrize("value", [None, "", "x", "123", "junk!!", "klingonese", "und", "e n", "日本語"])
def test_normalize_language_junk(value):
    assert normalize_language(value) is None


# --- word_count / content_hash ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "count"),
    [(None, 0), ("", 0), ("Hello, world!", 2), ("Ünïcödé wörds here 2022", 4), ("One.\n\nTwo three.", 3)],
)
def test_word_count(body, count):
    assert word_count(body) == count


def test_content_hash_ignores_trivial_reformatting():
    a = content_hash("Hello, World!\n\nIt’s  a “test”.")
    b = content_hash("hello world\nIts a test")
    assert a == b
    assert re.fullmatch(r"sha1:[0-9a-f]{40}", a)


def test_content_hash_differs_on_words():
    assert content_hash("The vote passed.") != content_hash("The vote failed.")


@pytest.mark.parametrize("body", [None, "", "  \n ", "...!?"])
def test_content_hash_empty(body):
    assert content_hash(body) is None


def test_content_hash_survives_lone_surrogate():
    assert content_hash("bad \ud800 text").startswith("sha1:")


def test_clean_text_memo_never_depends_on_history():
    # "a &amp;lt; b" cleans to "a &lt; b"; that output must not be memoised as final, or a page that
    # really says "a &lt; b" would come out differently depending on what was cleaned before it.
    assert P.clean_text("a &amp;lt; b") == "a &lt; b"
    assert P.clean_text("a &lt; b") == "a < b"
    mojibake = "donâ€™t  stop"
    assert P.clean_text(mojibake) == "don’t stop"
    assert P.clean_text(P.clean_text(mojibake)) == "don’t stop"
    spaced = " Café\u00a0au   lait\u200b "
    assert P.clean_text(spaced) == "Café au lait"
    assert P.clean_text("Café au lait") == "Café au lait"
    assert P.clean_text(spaced) == "Café au lait"  # from the memo, same answer


def test_strip_boilerplate_merged_patterns_keep_their_own_flags():
    # outlet patterns are merged into one alternation with the generic ones; each keeps its flags
    outlet = (re.compile(r"Also worth reading", re.I), re.compile(r"ABC"), r"more from .+", re.compile(r"a.b"))
    kept = P.strip_boilerplate(["also WORTH reading", "ABC", "abc", "More from our desk", "Advertisement",
                                "a\tb", "axxb", "The story goes on."], outlet)
    assert kept == ["abc", "axxb", "The story goes on."]
    # a group name used by two outlet patterns cannot share one regex: they are matched one by one
    clash = (r"(?P<x>foo)", r"(?P<x>bar)")
    assert P.strip_boilerplate(["foo", "bar", "baz"], clash) == ["baz"]


@pytest.mark.parametrize("body", ["", "one", "one two three", "a, b; c. d", "東京 大阪 京都", "x " * 50])
@pytest.mark.parametrize("n", [0, 1, 3, 4, 20])
def test_has_words_agrees_with_word_count(body, n):
    assert P.has_words(body, n) == (P.word_count(body) >= n)


def _reference_clean_text(value: str) -> str | None:
    """_clean_text as a plain sequence of its steps, every regex run on every text (no fast paths)."""
    import unicodedata

    import ftfy
    from w3lib.html import remove_comments, remove_tags, remove_tags_with_content, replace_entities

    text = value
    if P._LONE_SURROGATE_RE.search(text):
        text = P._SURROGATE_PAIR_RE.sub(
            lambda m: chr(0x10000 + ((ord(m.group()[0]) - 0xD800) << 10) + (ord(m.group()[1]) - 0xDC00)), text)
        text = P._LONE_SURROGATE_RE.sub("\ufffd", text)
    if "<" in text and P._TAG_HINT_RE.search(text):
        text = remove_tags(P._BLOCK_TAG_RE.sub(" ", remove_comments(remove_tags_with_content(text, ("script", "style")))))
    if "&" in text:
        text = replace_entities(text, remove_illegal=False)
    if P._FTFY_HINT_RE.search(text) or (not text.isascii() and P.is_bad(text)):
        text = ftfy.fix_text(text, P._FTFY_CONFIG)
    text = P._INVISIBLE_RE.sub("", unicodedata.normalize("NFC", text))
    return P._WS_RE.sub(" ", text).strip() or None


def test_clean_text_fast_paths_give_the_reference_answers():
    # Plain text (no markup, entity, control, surrogate, invisible or ligature character, no mojibake) only gets NFC
    # and spacing; ASCII and printable text skip regex scans; _is_clean and the memo's "its own cleaned form"
    # answer without some checks: every answer must be what running every step says
    import random
    import unicodedata

    rng = random.Random(11)
    alphabet = [*"ab Z.,<>&;#\t\n\r\x00\x07\x1c\x1f\x7f", "\x85", "\x9d", "\xa0", "\xad", "é", "e\u0301", "\u200b",
                "\u2060", "\ufeff", "\ufb01", "\ud83d", "\ude00", "Ã©", "â€™", "’", "東", "amp;", "<b>", "<!--", "-->",
                "Ã", "Â", "©", "”", "\u2003"]
    # whitespace turned into " " can make text read as mojibake ("Ã\na" is not, "Ã a" is)
    samples = ["Ã\na", " Â\t©", "aÂ\u2003©Ã", "\nÂ\t”“"]
    for _ in range(6000):
        samples.append("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))))
    for value in samples:
        assert P._clean_text(value) == _reference_clean_text(value), repr(value)
        P.clear_clean_text_cache()
        cleaned = P.clean_text(value)
        if cleaned is not None and P._CLEANED.get(cleaned) == cleaned:  # remembered as its own cleaned form
            assert _reference_clean_text(cleaned) == cleaned, repr(value)
        out = _reference_clean_text(value)
        if out is not None:
            reference_is_clean = not ("<" in out or "&" in out or P._FTFY_HINT_RE.search(out)
                                      or P._LONE_SURROGATE_RE.search(out)) and \
                (out.isascii() or (not P.is_bad(out) and unicodedata.is_normalized("NFC", out)))
            assert P._is_clean(out) == reference_is_clean, repr(out)
    for text in ("plain words", "tab\there", "bell\x07", "del\x7f", "new\nline"):  # ASCII _is_clean, any text
        assert P._is_clean(text) == (not P._FTFY_HINT_RE.search(text)), repr(text)


def _reference_canonicalize_url(url, base=None):
    """canonicalize_url with every URL through urljoin and safe_url_string (no fast path)."""
    from urllib.parse import urljoin, urlsplit, urlunsplit

    from w3lib.url import safe_url_string, url_query_cleaner

    url = re.sub(r"[\t\n\r]", "", url).strip()
    if not url:
        return None
    try:
        parts = urlsplit(safe_url_string(urljoin(base, url) if base else url))
        scheme, host, port = parts.scheme.lower(), parts.hostname, parts.port
    except ValueError:
        return None
    if scheme not in ("http", "https") or not host:
        return None
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != {"http": 80, "https": 443}[scheme]:
        netloc += f":{port}"
    query = parts.query
    if query:
        drop = [p.partition("=")[0] for p in query.split("&") if p and P.is_tracking_param(p.partition("=")[0])]
        query = url_query_cleaner("?" + query, drop, remove=True, unique=False).lstrip("?")
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def test_canonicalize_url_fast_path_gives_the_reference_answers():
    # an absolute URL of safe characters skips urljoin and safe_url_string: the answer must be the same
    import random

    rng = random.Random(5)
    starts = ["https://", "http://", "HTTPS://", "//", "/", "", "ftp://", "https://user@", "https:///"]
    hosts = ["www.example.com", "EXAMPLE.com", "a-b.example", "xn--bcher-kva.de", "bücher.de", "a..b", "-x-.com",
             "example.com:443", "example.com:8080", "example.com.", "[::1]", "x" * 70 + ".com"]
    safe = [*"aZ09-._~!$&()*+,:=@/%", "%2C", "%zz", "%2e", "/./", "/../", "utm_source=x", "?", "&", "=", "fbclid=1"]
    unsafe = [*";#'\"[]|\\ <>^`{}\t\n", "é"]
    bases = [None, "", "https://www.example.com/news/a", "http://other.example/x/y?q=1", "https://example.com"]
    for _ in range(8000):
        alphabet = safe if rng.random() < 0.6 else safe + unsafe  # mostly URLs the fast path takes, or nearly
        path = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 10))) + rng.choice(["", "", ";", "'", "?"])
        start = "https://" if rng.random() < 0.5 else rng.choice(starts)
        host = "www.example.com" if rng.random() < 0.5 else rng.choice(hosts)
        url = start + host + rng.choice(["", "/"]) + path
        base = rng.choice(bases)
        assert canonicalize_url(url, base) == _reference_canonicalize_url(url, base), (url, base)
    for url in ("https://www.example.com/img/a.jpg?resize=1920%2C1440&quality=80&utm_source=x",
                "https://example.com", "http://example.com/a/../b/./c", "https://example.com/?"):
        assert canonicalize_url(url, "https://example.com/") == _reference_canonicalize_url(url, "https://example.com/")
