"""The one settings object. Every knob is an ``IOLAOS_*`` environment variable."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

_REPO_ROOT = Path(__file__).resolve().parents[2]


def _default_shared_data() -> Path:
    """``../shared/data`` beside the checkout, where the real Greek boundaries live."""
    return _REPO_ROOT.parent / "shared" / "data"


def _default_routing() -> dict[str, list[str]]:
    from iolaos.incidents.routing import DEFAULT_ROUTING

    return DEFAULT_ROUTING


class Settings(BaseSettings):
    """Service configuration, read once from the environment (and an optional ``.env`` file)."""

    model_config = SettingsConfigDict(env_prefix="IOLAOS_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///iolaos.db",
        description="SQLAlchemy URL: sqlite:///FILE (embedded default) or postgresql+psycopg://…",
    )
    broker_url: str | None = Field(default=None, description="redis://… for cross-process fan-out")
    host: str = "127.0.0.1"
    port: int = 8000
    shared_data_dir: Path = Field(default_factory=_default_shared_data)
    regions_file: str = "greece_regions_kallikratis.geojson"
    municipalities_file: str = "greece_municipalities_kallikratis_light.geojson"
    db_pool_size: int = 10
    max_concurrent_requests: int | None = Field(
        default=None, ge=1, description="API requests one process runs at once (default: db_pool_size); the "
                                        "others wait their turn (src/iolaos/admission.py)")
    request_queue_timeout: float = Field(default=10.0, gt=0, description="seconds a request may wait for its "
                                         "turn before answering 503 overloaded")
    db_statement_timeout_ms: int = 15_000
    # Fail fast while PostgreSQL is down or restarting: a request answers 503 within about two seconds instead
    # of hanging (docs/operations.md, "Failure behaviour"; tests/faults/test_postgres_restart.py).
    db_connect_timeout: int = Field(default=2, ge=2, le=60, description="seconds to open a PostgreSQL connection "
                                    "(libpq's minimum is 2)")
    db_pool_timeout: float = Field(default=2.0, gt=0, description="seconds a request waits for a free pooled "
                                   "connection before answering 503")
    token_ttl_hours: float = Field(default=12.0, gt=0, description="lifetime of a bearer token")
    login_window_minutes: int = Field(default=15, gt=0, description="window for counting failed sign-ins")
    login_max_failures_per_account: int = Field(default=10, gt=0)
    login_max_failures_per_address: int = Field(default=30, gt=0)
    incident_routing: dict[str, list[str]] = Field(
        default_factory=lambda: {k: list(v) for k, v in _default_routing().items()},
        description="incident kind → organisation kinds, lead first (JSON)",
    )
    pdf_font: Path = Field(default=Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
                           description="TrueType font with Greek glyphs for PDF documents")
    gil_switch_interval: float = Field(
        default=0.0005, gt=0, le=0.1,
        description="seconds a thread may hold Python's GIL before another may run (sys.setswitchinterval): the "
                    "event loop sends live events while request threads wait on the database, and the "
                    "interpreter's 5 ms default makes each of their round trips wait that long for the loop")
    # --- live updates over /ws (src/iolaos/realtime, docs/realtime.md) ---
    fanout: Literal["memory", "redis", "postgres"] | None = Field(
        default=None, description="wake-up backend between processes; default: redis when broker_url is set, "
                                  "else memory (in-process)")
    realtime_poll_interval: float = Field(default=1.0, gt=0, description="seconds between polls of the event "
                                          "table, so a lost wake-up only delays delivery")
    realtime_heartbeat_interval: float = Field(default=15.0, gt=0, description="seconds between ping messages")
    realtime_send_queue: int = Field(default=1000, ge=8, description="messages queued per connection before "
                                     "the client is closed as too slow (4008)")
    realtime_stall_timeout: float = Field(default=5.0, gt=0, description="seconds one send may block before "
                                          "the client is closed as too slow (4008)")
    realtime_socket_send_buffer: int = Field(default=131_072, ge=0, description="kernel send buffer per "
                                             "socket in bytes (0: OS default); small, so frozen clients are "
                                             "noticed quickly and pin little memory")
    realtime_max_replay: int = Field(default=10_000, ge=0, description="largest gap a resume may replay; "
                                     "further behind gets a reset")
    realtime_replay_cache: int = Field(default=5_000, ge=0, description="recent events kept in memory to "
                                       "serve resumes without reading the table")
    realtime_revalidate_interval: float = Field(default=2.0, gt=0, description="seconds between re-checks "
                                                "of every open socket's token")
    realtime_reauthorise_interval: float = Field(default=30.0, gt=0, description="seconds between re-checks "
                                                 "of every subscription's topics")
    realtime_auth_timeout: float = Field(default=10.0, gt=0, description="seconds to send the auth message")
    realtime_ticket_ttl: float = Field(default=30.0, gt=0, description="lifetime of a single-use /ws ticket")
    realtime_max_topics: int = Field(default=200, gt=0, description="topics one connection may subscribe")
    realtime_allowed_origins: str = Field(default="", description="comma-separated browser origins allowed "
                                          "on /ws besides the same origin; * allows any")
    # --- risk map, coverage planning and assignment (src/iolaos/planning, docs/planning.md) ---
    planning_max_hours_24h: float = Field(default=12.0, gt=0, le=24, description="most patrol hours a "
                                          "volunteer may do in any 24 hours")
    planning_min_rest_hours: float = Field(default=8.0, ge=0, le=48, description="least rest between the end "
                                           "of one patrol and the start of the next")
    planning_max_travel_km: float = Field(default=60.0, gt=0, le=500, description="farthest a volunteer's home "
                                          "base may be from the patrolled zone")
    planning_fairness_days: int = Field(default=7, ge=0, le=60, description="look-back of patrol hours for "
                                        "spreading work fairly")
    planning_fairness_weight: float = Field(default=0.05, ge=0, description="km-equivalent per hour² of the "
                                            "convex fairness cost")
    planning_cohesion_km: float = Field(default=5.0, ge=0, description="km-equivalent per crew member not "
                                        "from the crew's main organisation")
    planning_risk_weights: dict[int, int] = Field(default_factory=lambda: {1: 1, 2: 1, 3: 2, 4: 4, 5: 8},
                                                  description="risk weight of a filled crew place per "
                                                  "category (JSON)")
    # Field operations (positions, safety alerts).
    position_retention_days: int = Field(default=30, ge=1, le=3650, description="keep position reports this long")
    out_of_zone_metres: float = Field(default=500.0, gt=0, description="alert when a patrol is this far outside")
    lost_contact_minutes: float = Field(default=15.0, gt=0, description="alert when an active patrol is silent")
    field_sweep_seconds: float = Field(default=60.0, ge=0, description="lost-contact sweep interval; 0 = off")
    web_dir: Path = Field(default=_REPO_ROOT / "web")
    tile_url: str | None = Field(default=None, description="map tiles ({z}/{x}/{y} URL) for the pages; unset: no tiles")
    log_level: str = "info"
    # --- deployment: logs, metrics and the periodic worker (deploy/, docs/operations.md) ---
    log_format: Literal["text", "json"] = Field(default="text", description="text, or json: one JSON object per "
                                                "log line (secrets, tokens and passwords redacted)")
    metrics_enabled: bool = Field(default=True, description="serve Prometheus metrics on /metrics (keep it "
                                  "off the public proxy)")
    worker_sweep_seconds: float = Field(default=60.0, ge=0, description="`iolaos worker`: lost-contact sweep "
                                        "interval; 0 = off")
    worker_purge_seconds: float = Field(default=3600.0, ge=0, description="`iolaos worker`: retention purge "
                                        "interval; 0 = off")
    worker_checkpoint_seconds: float = Field(default=3600.0, ge=0, description="`iolaos worker`: signed audit "
                                             "checkpoint interval; 0 = off (needs the key and the folder)")
    worker_checkpoint_key: Path | None = Field(default=None, description="Ed25519 private key for checkpoints "
                                               "(`iolaos audit keygen`)")
    worker_checkpoint_dir: Path | None = Field(default=None, description="folder for checkpoint files; keep it "
                                               "off the database server")

    # --- languages (src/iolaos/i18n, docs/architecture.md "Languages") ---
    default_language: Literal["el", "en"] = Field(default="el", description="language of API texts (error "
                                                  "details, plan reasons) when a request has no usable "
                                                  "Accept-Language")

    @property
    def is_sqlite(self) -> bool:
        """True when the embedded SQLite backend is configured."""
        return self.database_url.startswith("sqlite")

    def data_path(self, name: str) -> Path:
        """A file in the shared data folder (absolute paths pass through)."""
        path = Path(name)
        return path if path.is_absolute() else self.shared_data_dir / path


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (tests build their own ``Settings`` instead)."""
    return Settings()
