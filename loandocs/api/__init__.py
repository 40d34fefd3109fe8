"""HTTP API (FastAPI). ``create_app(services)`` builds the app; ``loandocs serve`` runs it."""

from loandocs.api.app import create_app

__all__ = ["create_app"]
