"""newscrawl settings. Grouped by concern; every non-default value says why.

Per-deployment values come from the environment with defaults, so importing this module never fails.
"""
from __future__ import annotations

import os

BOT_NAME = "newscrawl"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"
# Adds one spider per entry of the outlets file (NEWSCRAWL_OUTLETS_FILE, default the shipped examples).
SPIDER_LOADER_CLASS = "newscrawl.spiderloader.OutletsSpiderLoader"
NEWSCRAWL_OUTLETS_FILE = os.environ.get("NEWSCRAWL_OUTLETS_FILE", "")
COMMANDS_MODULE = "newscrawl.commands"

# ----------------------------------------------------------------------------- politeness
# A real, contactable User-Agent: news sites block anonymous bots first.
USER_AGENT = os.environ.get(
    "NEWSCRAWL_USER_AGENT",
    "newscrawl/0.1 (+https://github.com/newscrawl/newscrawl; news archiving for research)",
)
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4  # outlets are single hosts: 4 in flight is polite and fast enough
DOWNLOAD_DELAY = 0.25
AUTOTHROTTLE_ENABLED = True  # back off when an outlet slows down instead of hammering it
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
DOWNLOAD_TIMEOUT = 30  # the default 180 s lets one stuck host hold a slot for minutes

# ----------------------------------------------------------------------------- robustness
# News pages are well under 5 MiB; the default 1 GiB cap lets a compressed bomb eat memory.
DOWNLOAD_MAXSIZE = int(os.environ.get("NEWSCRAWL_DOWNLOAD_MAXSIZE", 8 * 1024 * 1024))
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
RETRY_ENABLED = True
RETRY_TIMES = 2
REDIRECT_MAX_TIMES = 5  # default 20: a redirect loop should die fast
# Per-item pipeline work is CPU-bound; the default 100 parallel items only adds scheduling overhead.
CONCURRENT_ITEMS = 8
TELNETCONSOLE_ENABLED = False  # an open console is remote code execution; never on in production
# Scrapy 2.19's RemoteControl runs Python sent over HTTP on a localhost port: same risk, same answer.
REMOTE_CONTROL_ENABLED = False
# asyncio reactor: required by scrapy-playwright, and Scrapy's default since 2.13
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
LOG_LEVEL = os.environ.get("NEWSCRAWL_LOG_LEVEL", "INFO")

# ----------------------------------------------------------------------------- components
DOWNLOADER_MIDDLEWARES = {
    # Offline replay from WARC answers requests just above the downloader (see its module).
    "newscrawl.middlewares.replay.ReplayMiddleware": 950,
    "newscrawl.middlewares.record.RecordMiddleware": 960,
}
ITEM_PIPELINES = {
    "pipelines.clean.CleanPipeline": 100,
    "pipelines.validate.ValidatePipeline": 200,
    "pipelines.dedup.DedupPipeline": 300,
}

# ----------------------------------------------------------------------------- export
FEED_EXPORTERS = {"jsonl": "newscrawl.exporters.ArticleJsonLinesExporter"}
# Local files: torn-tail repair before append, the export journal (crash reconciliation), and
# write-then-rename for overwrite feeds, so no crash or empty run destroys an export (docs/reliability-crash.md).
FEED_STORAGES = {"": "newscrawl.feedstorage.SafeFileFeedStorage", "file": "newscrawl.feedstorage.SafeFileFeedStorage"}
# With JOBDIR, persist only finished requests and drop a queue a crash left stale (Scrapy's loses pages).
DUPEFILTER_CLASS = "newscrawl.dupefilter.ResumableDupeFilter"
# One new file per run (a run never overwrites an earlier export).
FEEDS = {
    os.environ.get("NEWSCRAWL_FEED_URI", "out/%(name)s/%(time)s.jsonl"): {
        "format": "jsonl",
        "encoding": "utf-8",
        "store_empty": False,
        "overwrite": False,
    },
}
FEED_EXPORT_ENCODING = "utf-8"

# ----------------------------------------------------------------------------- newscrawl
# Persistent state (seen URLs, body hashes, near-duplicate index) across scheduled runs.
NEWSCRAWL_STATE_PATH = os.environ.get("NEWSCRAWL_STATE_PATH", ".newscrawl/state.sqlite3")
NEWSCRAWL_DEDUP_NEAR_ACTION = "mark"   # "mark" sets duplicate_of; "drop" drops near-duplicates
NEWSCRAWL_DEDUP_NEAR_DISTANCE = 3      # max Hamming distance of 64-bit SimHashes (0-3)
NEWSCRAWL_DEDUP_DROP_SEEN = True       # drop an article exported by an earlier run
NEWSCRAWL_VALIDATE_MIN_WORDS = 30      # a body shorter than this is a teaser, not an article
NEWSCRAWL_REPLAY = os.environ.get("NEWSCRAWL_REPLAY", "")   # WARC file(s) to answer requests from
NEWSCRAWL_RECORD = os.environ.get("NEWSCRAWL_RECORD", "")   # WARC file to record responses into
