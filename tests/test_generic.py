"""Tests for the generic body layer (newscrawl.extract.generic) on pages written for them."""

from __future__ import annotations

import gzip
import importlib.util
import json
from pathlib import Path

import parsel
import pytest
from lxml import etree

from newscrawl.extract.generic import generic_body, generic_metadata

HERE = Path(__file__).resolve().parent / "fixtures" / "generic"
URL = "https://gazette.example/local/floating-library"


def _root(name: str):
    return parsel.Selector(text=(HERE / name).read_text("utf-8")).root


@pytest.fixture(scope="module")
def article() -> list[str]:
    return generic_body(_root("article.html"), URL)


def test_article_paragraphs_in_document_order(article: list[str]) -> None:
    firsts = [
        "Residents of Lowmere chose to fund the converted ferry",  # standfirst in the article header
        "The floating library of Lowmere, a retired car ferry",
        "More than four hundred people crowded into the old rope works",
        "The ferry has not left its berth",
        "Opponents, led by a group of traders",
        "The harbour master said the dredging question",
    ]
    positions = [next(i for i, p in enumerate(article) if p.startswith(f)) for f in firsts]
    assert positions == sorted(positions)
    assert article[0].startswith(firsts[0])
    assert article[-1].startswith(firsts[-1])


def test_subheadlines_and_list_items_are_their_own_paragraphs(article: list[str]) -> None:
    assert "A ship that never sails" in article
    assert "What the money pays for" in article
    items = [
        "Replacing the rusted mooring chains before the autumn storms.",
        "Extending opening hours on Sundays through the summer season.",
        "Hiring a second full-time librarian for the children's programme.",
    ]
    idx = [article.index(i) for i in items]
    assert idx == list(range(idx[0], idx[0] + 3))
    assert article.index("What the money pays for") < idx[0]


@pytest.mark.parametrize(
    "furniture",
    [
        "Harbour town votes to keep its floating library",  # the headline
        "Photograph: Ansel Brightwater",  # figure caption
        "reading deck lit up",
        "Related stories",
        "Ferry library closes for hull repairs",
        "Sign up for the Harbour Briefing",
        "Advertisement",
        "Most read",
        "Storm warning issued",
        "All rights reserved",
        "Share on Facebook",
        "Coastal Affairs Reporter",
        "Politics",
    ],
)
def test_furniture_is_dropped(article: list[str], furniture: str) -> None:
    assert not any(furniture in p for p in article), furniture


def test_paragraphs_are_whitespace_normalised(article: list[str]) -> None:
    assert article
    assert all(p == " ".join(p.split()) and p for p in article)


def test_section_index_gives_no_body() -> None:
    assert generic_body(_root("section.html"), "https://gazette.example/local") == []


@pytest.mark.parametrize("html", ["<html><body></body></html>", "<html><body><p>Too short.</p></body></html>"])
def test_pages_without_article_give_no_body(html: str) -> None:
    assert generic_body(parsel.Selector(text=html).root, None) == []


def test_input_tree_is_not_mutated() -> None:
    for name in ("article.html", "section.html"):
        root = _root(name)
        before = etree.tostring(root, encoding="unicode")
        generic_body(root, URL)
        generic_metadata(root, URL)
        assert etree.tostring(root, encoding="unicode") == before, name


def test_metadata_fallback() -> None:
    meta = generic_metadata(_root("article.html"), URL)
    assert meta["headline"] == "Harbour town votes to keep its floating library"
    assert meta["authors"] == ["Mirela Quist"]
    assert str(meta["published"]).startswith("2024-03-14")
    assert meta["language"] == "en-GB"
    assert meta["section"] == "Local"
    assert meta["description"].startswith("Residents of Lowmere")
    assert set(meta) == {"headline", "authors", "published", "language", "description", "section", "tags"}


# ----------------------------------------------------------------------------- real corpus


def _load_scorer(path: Path):
    spec = importlib.util.spec_from_file_location("newscrawl_test_score", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.corpus
def test_corpus_body_f1(corpus: Path) -> None:
    """Body F1 (scrapinghub benchmark method) over every corpus page stays above the project floor."""
    score_py = corpus.parent / "eval" / "score.py"
    if not score_py.is_file():
        pytest.skip(f"scorer not present at {score_py}")
    score = _load_scorer(score_py)
    triples = []
    for line in (corpus / "pages.jsonl").read_text("utf-8").splitlines():
        if not line.strip():
            continue
        page = json.loads(line)
        truth = (page.get("truth") or {}).get("body")
        if not isinstance(truth, str) or not truth.strip():
            continue
        html = gzip.decompress((corpus / page["path"]).read_bytes()).decode("utf-8", "replace")
        body = generic_body(parsel.Selector(text=html).root, page.get("url"), html=html)
        triples.append(score.body_shingle_counts(truth, "\n\n".join(body)))
    assert len(triples) >= 100
    precision, recall, f1 = score.aeb_prf(triples)
    assert f1 is not None and f1 >= 0.955, (precision, recall, f1)
