"""``scrapy redis-status SPIDER``: what the shared Redis holds for a distributed crawl (docs/distributed.md)."""
from __future__ import annotations

from argparse import Namespace

from scrapy.commands import ScrapyCommand

from newscrawl.distributed import admin, client, command_redis_url, prefix


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_LEVEL": "WARNING"}

    def syntax(self) -> str:
        return "SPIDER"

    def short_desc(self) -> str:
        return "Show a distributed crawl's queue, workers, leases and the shared seen-store (NEWSCRAWL_REDIS_URL)"

    def run(self, args: list[str], opts: Namespace) -> None:
        url = command_redis_url(self.settings, args)
        st = admin.status(client(url), prefix(self.settings), args[0])
        print(f"crawl {st.spider}: {st.queued} queued, {st.seen_requests} requests seen, "
              f"{'pending' if st.pending else 'nothing pending'}")
        for w in st.workers:
            print(f"  worker {w.worker}: {'alive' if w.alive else 'DEAD'}, {w.leases} leases, {w.claims} claims")
        print(f"seen-store: {st.articles} articles, {st.claims} claims in progress; "
              f"Redis used_memory {st.used_memory / 2**20:.1f} MiB")
