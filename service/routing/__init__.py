"""Pure routing engine: catalog, place resolution, rules, the routing rule, evaluation.

No database and no web here; build one `Router` per process and call `route()`.
"""

from service.routing.catalog import Authority, Catalog, Category, Page, Place, load_catalog_dir
from service.routing.decision import Decision, RouteInput, Suggestion
from service.routing.engine import TRIAGE_AUTHORITY, Router
from service.routing.overrides import RoutingOverride, check_override

__all__ = [
    "TRIAGE_AUTHORITY",
    "Authority",
    "Catalog",
    "Category",
    "Decision",
    "Page",
    "Place",
    "RouteInput",
    "Router",
    "RoutingOverride",
    "Suggestion",
    "check_override",
    "load_catalog_dir",
]
