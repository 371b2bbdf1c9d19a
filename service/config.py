"""Typed configuration from environment variables (pydantic-settings)."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
SEED_CATALOG = PROJECT_ROOT / "service" / "catalog" / "seed"
# Real labelled appeals (third-party, never copied into the project): read beside the checkout.
REAL_DATA_DIR = SHARED_DATA / "real"


def default_catalog_dir() -> Path:
    """The shared seed data beside the checkout, else the packaged copy of it."""
    shared = SHARED_DATA / "altai"
    return shared if shared.is_dir() else SEED_CATALOG


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Environment = Environment.development
    database_url: str = Field(default="")
    redis_url: str = Field(default="")
    var_dir: Path = PROJECT_ROOT / "var"
    catalog_dir: Path = Field(default_factory=default_catalog_dir)
    # Where citizens reach the API (status URLs); defaults to the local API address.
    public_base_url: str = ""
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    log_level: str = "INFO"
    log_json: bool = True
    # FastAPI's own OpenTelemetry spans, metrics and logs (exported only where an OpenTelemetry
    # SDK is configured). Off by default: /metrics is Prometheus, and the per-request check for
    # a configured provider costs intake ~5 % of its throughput.
    otel_enabled: bool = False

    db_pool_size: int = 10
    # Intake endpoints remember a service token's caller this long (service/users/cache.py).
    # A revocation reaches every process sooner, through Redis (service/users/cache.py).
    auth_cache_s: float = 5.0
    db_max_overflow: int = 10

    widget_max_body_bytes: int = 64 * 1024
    widget_rate_limit_per_ip: int = 20
    widget_rate_window_s: int = 600
    # Proof of work (ALTCHA format, service/widget/proof.py): 0 = off; else the largest secret
    # number a browser may have to find (50,000 ≈ a fraction of a second in a browser).
    widget_pow_max_number: int = 0
    widget_pow_ttl_s: int = 600
    cors_allow_origins: list[str] = Field(default_factory=list)
    # Widget hosts from pages.csv are https://<code>.altai.example; production sets real hosts.
    cors_allow_origin_regex: str = r"https://[a-z0-9-]+\.altai\.example"

    sweep_interval_s: int = 30
    sweep_stale_after_s: int = 20
    triage_confidence: float = 0.55
    # The trained category model (`feedback-router classifier altai`); the router runs on its
    # rules alone while the file is missing and picks it up, or a retrained one, within
    # `category_model_check_s` without a restart.
    category_model_enabled: bool = True
    category_model_path: Path | None = None
    category_model_check_s: float = 5.0
    place_max_distance_km: float = 25.0
    alert_allow_private_targets: bool = False
    sla_sweep_interval_s: int = 2
    # The most a deadline extension may add to an appeal's resolution deadline (59-FZ art. 12
    # part 2: up to 30 days, once).
    extension_max_days: int = Field(default=30, ge=1, le=365)
    delivery_lease_s: int = 60
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_sender: str = "feedback-router@localhost"
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    # The feedback-platform adapter polled by the worker (off while the URL is empty).
    platform_poll_url: str = ""
    platform_poll_token: str = ""
    platform_poll_interval_s: int = 30
    # Where replies to platform messages go (same adapter and token; off while empty).
    platform_answer_url: str = ""
    # VK API for replies under citizens' comments (tests point it at a local fake).
    vk_api_url: str = "https://api.vk.com/method"
    vk_api_version: str = "5.199"
    telegram_bot_token: str = ""
    telegram_api_base: str = "https://api.telegram.org"
    # The `secret_token` given to setWebhook: comments from Telegram discussion groups are
    # taken only with it (off while empty). Telegram allows 1-256 of A-Z a-z 0-9 _ -.
    telegram_webhook_secret: str = Field(default="", pattern=r"^[A-Za-z0-9_-]{0,256}$")
    # At least a day: 0 would erase the contact of an item as soon as it is answered.
    pii_retention_days: int = Field(default=1825, ge=1)
    # The worker's Prometheus metrics (job runs by result, run time, what jobs counted) on this
    # port of API_HOST; 0: not served. One port per worker process on a host.
    worker_metrics_port: int = Field(default=0, ge=0, le=65535)
    # Signs widget tracking tokens; generated into var/ on a development machine if unset.
    secret_key: str = ""

    @property
    def base_url(self) -> str:
        return self.public_base_url or f"http://{self.api_host}:{self.api_port}"

    @property
    def effective_category_model_path(self) -> Path | None:
        if not self.category_model_enabled:
            return None
        return self.category_model_path or self.var_dir / "models" / "altai_category.joblib"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.var_dir / 'feedback-router.db'}"


_generated_keys: dict[Path, bytes] = {}
# prometheus-client's own variable: set, metrics live in files there and `/metrics` sums them.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def private_dir(path: Path) -> None:
    """Make the directory of the embedded database, Redis and keys, readable by its owner only
    (it holds citizens' contact details); an existing directory is left as its owner set it."""
    if not path.exists():
        # exist_ok: the API and the worker may start together and both get here.
        path.mkdir(parents=True, mode=0o700, exist_ok=True)


def resolve_secret_key(settings: Settings) -> bytes:
    if settings.secret_key:
        return settings.secret_key.encode()
    if settings.environment == Environment.production:
        raise RuntimeError("SECRET_KEY must be set in production")
    path = settings.var_dir / "secret.key"
    if path in _generated_keys:  # read once per process, not per request
        return _generated_keys[path]
    if not path.exists():
        import secrets

        private_dir(settings.var_dir)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    _generated_keys[path] = path.read_text().strip().encode()
    return _generated_keys[path]


@lru_cache
def get_settings() -> Settings:
    return Settings()
