"""``scrapy redis-reset SPIDER [--state] [--force]``: clear a distributed crawl's shared queue and dupefilter.

Workers never delete them when they close (another worker may still be crawling); this is the explicit way.
``--state`` also deletes the shared seen-store and near-duplicate index (every crawl's: the next crawl
exports every article again). Refuses while a worker of the crawl is alive unless ``--force``.
"""
from __future__ import annotations

from argparse import ArgumentParser, Namespace

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from newscrawl.distributed import admin, client, command_redis_url, prefix


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_LEVEL": "WARNING"}

    def syntax(self) -> str:
        return "SPIDER [--state] [--force]"

    def short_desc(self) -> str:
        return "Clear a distributed crawl's shared queue, dupefilter and leases (NEWSCRAWL_REDIS_URL)"

    def add_options(self, parser: ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--state", action="store_true",
                            help="also delete the shared seen-store and near-duplicate index (all crawls)")
        parser.add_argument("--force", action="store_true", help="even while workers are alive")

    def run(self, args: list[str], opts: Namespace) -> None:
        url = command_redis_url(self.settings, args)
        try:
            n = admin.reset(client(url), prefix(self.settings), args[0], state=opts.state, force=opts.force)
        except RuntimeError as exc:
            raise UsageError(str(exc)) from None
        print(f"deleted {n} keys of crawl {args[0]}{' and the shared seen-store' if opts.state else ''}")
