"""Discovery: article URLs with date signals from feeds, sitemaps, robots.txt and home pages."""

from pipeline.discover.source import discover_source
from pipeline.discover.state import Discovery

__all__ = ["Discovery", "discover_source"]
