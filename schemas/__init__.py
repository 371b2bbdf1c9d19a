"""SQLModel tables and API models. Importing this package registers every table."""

from schemas import (  # noqa: F401
    catalog,
    channels,
    extensions,
    items,
    replies,
    routing,
    sla,
    users,
)
from schemas.base import metadata

__all__ = ["metadata"]
