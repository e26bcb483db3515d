"""Ingestion: events in, durably; then hydrate, normalize, validate and store."""

from lifecyclegraph.ingest.journal import Journal
from lifecyclegraph.ingest.worker import Ingestor, PassResult, SubmitResult

__all__ = ["Ingestor", "Journal", "PassResult", "SubmitResult"]
