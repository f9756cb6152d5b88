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
    # Browser outlets' article requests -> Chromium; NotConfigured (free) when no browser handlers.
    "newscrawl.browser.BrowserRoutingMiddleware": 565,
    # After decompression (590) and redirects (600), before RetryMiddleware (550): a Cloudflare 503
    # interstitial is counted as a challenge instead of fetched twice more (newscrawl/middlewares/challenge.py).
    "newscrawl.middlewares.challenge.ChallengeMiddleware": 575,
    # Network-facing reliability (docs/reliability-network.md); each module's docstring says why its order.
    # Private/loopback/link-local/file:/data: targets are refused, redirects and DNS answers included.
    "newscrawl.middlewares.ssrf.SsrfGuardMiddleware": 60,
    # RFC 9309: a robots.txt answering 5xx or unreachable means disallow-all (Scrapy: allow-all).
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "newscrawl.middlewares.robots.RobotsMiddleware": 100,
    # Retry-After (429/503) and robots.txt Crawl-delay, per origin, capped (Scrapy ignores both).
    "newscrawl.middlewares.pacing.HostPacingMiddleware": 560,
    # Scrapy's bounded decompression + a stat for bombs, corrupt bodies dropped, no charset guess on gzip bytes.
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "newscrawl.middlewares.decompress.BoundedDecompressionMiddleware": 590,
    # Stats for DOWNLOAD_TIMEOUT/DOWNLOAD_MAXSIZE hits; HTML too big to extract without stalling the reactor.
    "newscrawl.middlewares.limits.DownloadLimitsMiddleware": 589,
    # A PDF or JPEG served as text/html becomes a binary Response instead of a garbage "article".
    "newscrawl.middlewares.sniff.BinarySniffMiddleware": 587,
    # The charset the bytes are in: valid UTF-8 beats a wrong header; Portuguese is not cp1250.
    "newscrawl.middlewares.charset.CharsetMiddleware": 585,
    # Redirect loops and over-long chains: a stat and a WARNING (Scrapy: DEBUG only).
    "newscrawl.middlewares.redirects.RedirectGuardMiddleware": 610,
}
SPIDER_MIDDLEWARES = {
    # Per-origin budget of non-article pages per run: calendar and pagination traps end, with a stat.
    "newscrawl.middlewares.budget.PageBudgetMiddleware": 900,
    # Skip article requests already exported unless the listing says they changed or a re-check is due
    # (docs/incremental.md): a scheduled run fetches only what is new or may have been edited.
    "newscrawl.middlewares.incremental.IncrementalMiddleware": 950,
}
EXTENSIONS = {
    # Refuses TELNETCONSOLE/REMOTE_CONTROL even when a scrapyd schedule.json passes setting=...=1.
    "newscrawl.extensions.security.RemoteAccessGuard": -1000,
    # Job health at close: coverage vs baseline, drops, errors, challenges; reports next to the export.
    "newscrawl.extensions.monitor.JobMonitor": 500,
}
# Installs scrapy-playwright's download handlers only for crawls that may render (docs/browser.md):
# its handler starts Playwright's driver at engine start even if no request ever asks for a page.
# RedisAddon: NEWSCRAWL_REDIS_URL (-s or environment) turns a crawl distributed (docs/distributed.md); no-op without it.
ADDONS = {"newscrawl.browser.BrowserAddon": 0, "newscrawl.distributed.RedisAddon": 10}
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
# Hosts, IPs or CIDRs the SSRF guard lets through besides public addresses ("127.0.0.1,10.1.0.0/16,.corp").
NEWSCRAWL_ALLOW_HOSTS = os.environ.get("NEWSCRAWL_ALLOW_HOSTS", "")
NEWSCRAWL_ROBOTS_RETRY_TIMES = 2           # an unreachable robots.txt is fetched again 2 more times...
NEWSCRAWL_ROBOTS_RETRY_DELAY = 10.0        # ...after 10 s, then 20 s; then the host is disallow-all this run
NEWSCRAWL_PACING_RETRY_AFTER_MAX = 120.0   # longer Retry-After: pause the host this long, give the request up
NEWSCRAWL_PACING_CRAWL_DELAY_MAX = 30.0    # robots.txt Crawl-delay honoured up to this many seconds
NEWSCRAWL_LIMITS_HTML_MAX_BYTES = 4 * 1024 * 1024  # largest real article page measured: 2.1 MB
NEWSCRAWL_BUDGET_PER_HOST = 1000           # non-article pages (sitemaps, sections, pagination) per host per run

# ----------------------------------------------------------------------------- browser (docs/browser.md)
# Outlets whose article pages only show their text after JavaScript runs (or set render_js = True).
NEWSCRAWL_BROWSER_OUTLETS = os.environ.get("NEWSCRAWL_BROWSER_OUTLETS", "")
NEWSCRAWL_BROWSER_ENABLED = False      # install the handlers anyway, for spiders setting meta["playwright"]
NEWSCRAWL_BROWSER_WAIT_MS = 10_000     # bound on waiting for an outlet's render_wait_for selector
NEWSCRAWL_CHALLENGE_ENABLED = True
NEWSCRAWL_CHALLENGE_BROWSER_RETRY = False  # fetch an article that hit a bot wall once more, in Chromium
NEWSCRAWL_CHALLENGE_SHELL_MAX_WORDS = 40   # an article page with fewer visible words (and scripts) is a shell
# Debian's chromium: Playwright's installer cannot download its own browser build here.
PLAYWRIGHT_BROWSER_TYPE = "chromium"
PLAYWRIGHT_LAUNCH_OPTIONS = {
    "executable_path": os.environ.get("NEWSCRAWL_CHROMIUM", "/usr/bin/chromium"),
    "headless": True,
    # Keep Chromium off the network except for the pages it is asked for: without the background-networking
    # flags it opens connections of its own (component updates, sync, variations), which this machine's closed
    # network refuses, many at a time. Playwright 1.65 passes most of them too; listed so they hold if it stops.
    # Even with them it still looked up a few Google service hosts (strace: accounts.google.com,
    # update.googleapis.com, clients2.google.com); the resolver rule answers those "not found" locally.
    # Playwright adds an empty temporary --user-data-dir per launch (no profile, no first-run state).
    "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-default-apps",
             "--host-resolver-rules=" + ", ".join(f"MAP {host} ~NOTFOUND" for host in (
                 "accounts.google.com", "update.googleapis.com", "clients2.google.com", "clients2.googleusercontent.com",
                 "safebrowsing.googleapis.com", "optimizationguide-pa.googleapis.com", "redirector.gvt1.com"))],
}
# One shared context, a few pages at once: each open page is a renderer (~45 MB PSS measured, 4 pages ~180 MB),
# and scrapy-playwright never closes a context mid-crawl, so the context cap only matters to spiders naming contexts.
PLAYWRIGHT_MAX_CONTEXTS = 2
PLAYWRIGHT_MAX_PAGES_PER_CONTEXT = 4
PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT = 30_000  # ms, as DOWNLOAD_TIMEOUT: one stuck page must not hold a slot
# Images, media and fonts never carry article text; private-IP sub-resources are refused (newscrawl/browser.py).
PLAYWRIGHT_ABORT_REQUEST = "newscrawl.browser.abort_request"
