"""The HTTP API (FastAPI): ``create_app`` for a platform, ``serve`` to run it with uvicorn."""

from silo.api.app import create_app
from silo.api.server import serve, serve_in_thread

__all__ = ["create_app", "serve", "serve_in_thread"]
