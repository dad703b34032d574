"""The HTTP API (FastAPI): ``create_app(config)``; routes under ``/v1``."""

from kakehashi.service.api.app import create_app

__all__ = ["create_app"]
