"""``scrapy redis-seed SPIDER [-a NAME=VALUE]``: push an outlet's start URLs (sitemaps, feeds, section pages)
into the shared queue of a distributed crawl, for workers to share.

Workers started with ``scrapy crawl SPIDER`` seed by themselves (the first one's start requests get in,
the others' are filtered by the shared dupefilter); this command seeds without crawling, e.g. from cron
while the workers run elsewhere. When the previous crawl is over (nothing queued or leased, no worker
alive) it starts a new one: the dupefilter is cleared first, so the sitemaps are fetched again.
"""
from __future__ import annotations

from argparse import Namespace

from scrapy.commands import BaseRunSpiderCommand
from scrapy.exceptions import UsageError
from scrapy.utils.misc import build_from_crawler, load_object

from newscrawl.distributed import admin, client, command_redis_url, prefix


class Command(BaseRunSpiderCommand):
    requires_project = True
    default_settings = {"LOG_LEVEL": "WARNING"}

    def syntax(self) -> str:
        return "SPIDER [-a NAME=VALUE ...]"

    def short_desc(self) -> str:
        return "Push an outlet's start URLs into a distributed crawl's shared queue (NEWSCRAWL_REDIS_URL)"

    def run(self, args: list[str], opts: Namespace) -> None:
        url = command_redis_url(self.settings, args)
        assert self.crawler_process is not None
        try:
            crawler = self.crawler_process.create_crawler(args[0])
        except KeyError as exc:
            raise UsageError(str(exc).strip("'\"")) from None
        spider = crawler.spidercls.from_crawler(crawler, **opts.spargs)
        # the workers' fingerprinter, so a seeded URL and the same URL found by a worker are one request
        fingerprinter = build_from_crawler(load_object(crawler.settings["REQUEST_FINGERPRINTER_CLASS"]), crawler)
        redis = client(url)
        p = prefix(self.settings)
        fresh = admin.start_new_crawl_if_idle(redis, p, spider.name)
        pushed, seen = admin.seed(redis, p, spider, fingerprinter)
        print(f"{'new crawl' if fresh else 'running crawl'} {spider.name}: {pushed} start requests queued, "
              f"{seen} already seen")
