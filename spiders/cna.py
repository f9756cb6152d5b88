"""CNA (channelnewsasia.com), Mediacorp's Singapore news channel.

Publishes through RSS feeds (latest news, and an outbound feed of all sections). Pages are a Drupal
theme (``mc_cna_theme``): the headline is ``h1.h1--page-title``, the section a
``p.content-detail__category`` link, the publish time ``div.article-publish`` spans such as
"31 Mar 2022 06:32PM" in Singapore time, and body paragraphs live in
``section[data-title="Content"] div.text-long``.

Quirks:
- Many stories are wire copy: the credit is a ``div.source--with-label`` ("Source: Reuters/fh"),
  and the dateline is "BRUSSELS: Russian forces ..." (city, colon; no agency in the body).
- Ads, "Also worth reading" cards, newsletter sign-ups and a "This browser is no longer supported"
  notice sit inside the article markup; they are dropped as blocks, and as lines when they leak.
"""
from __future__ import annotations

from newscrawl.crawling import NewsSpider


class CnaSpider(NewsSpider):
    name = "cna"
    publisher = "CNA"
    allowed_domains = ["channelnewsasia.com"]
    feed_urls = [
        "https://www.channelnewsasia.com/rssfeeds/8395986",
        "https://www.channelnewsasia.com/api/v1/rss-outbound-feed?_format=xml",
    ]
    article_allow = r"channelnewsasia\.com/[a-z-]+/[a-z0-9-]+-\d{5,}(?:[?#]|$)"
    timezone = "Asia/Singapore"
    language = "en"
    custom_settings = {"AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0, "CONCURRENT_REQUESTS_PER_DOMAIN": 2}

    selectors = {
        "headline": "h1.h1--page-title ::text",
        "section": "p.content-detail__category ::text",
        "published_at": "div.article-publish ::text",
        "modified_at": "div.article-publish .article-publish__updated ::text",
        "authors": ".article-byline .link--author ::text",
        "description": "div.content-detail__description ::text",
        "wire_source": "div.source--with-label ::text",
        "body": "section[data-title='Content'] div.text-long > p, section[data-title='Content'] div.text-long > h2",
        "images": "section[data-title='Content'] figure, .content-detail__main-image figure",
        "tags": ".content-detail__tags a ::text, .list--tags a ::text",
    }
    drop_selectors = (
        ".js-popup-content", ".referenced-card", ".block--related-topics", ".block-ad-entity",
        ".block-block-content", ".from-library", ".block-mc-cna-theme-ad", ".newsletter-signup",
    )
    boilerplate = (
        r"Advertisement",
        r"Follow our news.*",
        r"Also worth reading",
        r"CNA Sections",
        r"About CNA",
        r"Pressed for time\? Stay informed with CNA's newsletters",
        r"This service is not intended for persons residing in the E\.U\..*",
        r"Copyright\s*©\s*Mediacorp.*",
        r"Get our pick of top stories and thought-provoking articles in your inbox.*",
        r"Stay updated with notifications for breaking news and our best stories.*",
    )

    @staticmethod
    def clean_published_at(value: str | None) -> str | None:
        # "31 Mar 2022 06:32PM (Updated: 31 Mar 2022 07:05PM)": the first stamp is the publish time
        return value.split("(Updated")[0].strip() if value else value

    @staticmethod
    def clean_modified_at(value: str | None) -> str | None:
        # "(Updated: 31 Mar 2022 07:05PM)" -> "31 Mar 2022 07:05PM"
        return value.replace("(Updated:", "").strip(" )") if value else value
