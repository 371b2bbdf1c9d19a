"""Which browser origins may post widget reports for a page (the per-page CORS allow-list).

Browsers send `Origin` with every cross-site POST; the CORS headers only tell a browser whether
the page may read the answer, so the POST itself is refused here when the origin is not allowed.
A page with an allow-list of its own (`allowed_origins`, or the site itself for a `site:HOST`
page) admits exactly those origins; a page without one (a social-network page) admits the global
`CORS_ALLOW_ORIGINS` / `CORS_ALLOW_ORIGIN_REGEX`. A request without `Origin` is not a browser's
cross-site request (a connector, curl) and is not subject to CORS.
"""

from __future__ import annotations

import re

from service.config import Settings
from service.errors import Forbidden
from service.items.references import References


def globally_allowed(settings: Settings, origin: str) -> bool:
    if origin in {o.rstrip("/").lower() for o in settings.cors_allow_origins}:
        return True
    pattern = settings.cors_allow_origin_regex
    return bool(pattern) and re.fullmatch(pattern, origin) is not None


async def check_origin(
    references: References, settings: Settings, page_id: str, origin: str | None
) -> None:
    if origin is None:
        return
    normalized = origin.rstrip("/").lower()
    own = await references.origins(page_id)
    if normalized in own or (not own and globally_allowed(settings, normalized)):
        return
    raise Forbidden(f"origin {origin!r} may not post reports for page {page_id!r}")
