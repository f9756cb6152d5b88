"""Packaging for scrapyd eggs and pip installs: newscrawl, spiders and pipelines with every subpackage; no tests."""
from setuptools import find_packages, setup

setup(
    name="newscrawl",
    version="0.1.0",
    description="Scrapy project turning news pages into clean, deduplicated JSONL Article records",
    # every subpackage of the three (a new one cannot be forgotten in the egg); tests/ is not included
    packages=find_packages(include=["newscrawl", "newscrawl.*", "spiders", "spiders.*", "pipelines",
                                    "pipelines.*"]),
    package_data={"newscrawl": ["schema/*.json", "data/*"]},
    include_package_data=True,
    python_requires=">=3.10",
    entry_points={"scrapy": ["settings = newscrawl.settings"]},
    zip_safe=False,
)
