"""Pure extraction: page bytes to a clean article (HTML, body, metadata, boilerplate, normalisation)."""

from pipeline.extract.process import EXTRACTOR_VERSION, process_page, process_raw

__all__ = ["EXTRACTOR_VERSION", "process_page", "process_raw"]
