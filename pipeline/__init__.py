"""news-pipeline: discover, fetch, extract, clean, normalise and store news articles."""

__version__ = "0.1.0"
