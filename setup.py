"""Packaging for scrapyd eggs and pip installs: packages listed explicitly, tests excluded."""
from setuptools import setup

setup(
    name="newscrawl",
    version="0.1.0",
    description="Scrapy project turning news pages into clean, deduplicated JSONL Article records",
    packages=[
        "newscrawl", "newscrawl.extract", "newscrawl.middlewares", "newscrawl.commands",
        "spiders", "pipelines",
    ],
    package_data={"newscrawl": ["schema/*.json", "data/*"]},
    include_package_data=True,
    python_requires=">=3.10",
    entry_points={"scrapy": ["settings = newscrawl.settings"]},
    zip_safe=False,
)
