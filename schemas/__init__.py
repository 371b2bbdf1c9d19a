"""SQLModel tables and API models. Importing this package registers every table."""

from schemas import catalog, channels, items, replies, routing, sla, users  # noqa: F401
from schemas.base import metadata

__all__ = ["metadata"]
