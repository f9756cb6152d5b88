"""Scrapy extensions: job health monitor and the remote-access guard."""
