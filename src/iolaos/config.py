"""The one settings object. Every knob is an ``IOLAOS_*`` environment variable."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CAP_SENDER = "iolaos-exercise@invalid"  # RFC 2606 .invalid: a real deployment sets its own


def _default_shared_data() -> Path:
    """``../shared/data`` beside the checkout, where the real Greek boundaries live."""
    return REPO_ROOT.parent / "shared" / "data"


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
    auth_cache_seconds: float = Field(default=2.0, ge=0, le=60, description="seconds a request may rely on a "
                                      "cached principal (token, account, role, organisation, scope): the bound "
                                      "within which a revocation or change made elsewhere takes effect; 0: none "
                                      "(src/iolaos/auth/cache.py)")
    answer_cache_bytes: int = Field(default=16 * 1024 * 1024, ge=0, description="memory for whole answers of "
                                    "reads that depend only on journaled state, kept until the journal head moves "
                                    "(src/iolaos/answers.py); 0: none")
    answer_cache_seconds: float = Field(default=60.0, gt=0, le=3600, description="the longest an answer is kept "
                                        "even if the journal head has not moved: the bound for a change written "
                                        "without a journal record (SQL by hand)")
    login_window_minutes: int = Field(default=15, gt=0, description="window for counting failed sign-ins")
    # Sign-in throttling (src/iolaos/auth/throttle.py, docs/security.md): growing delays per (account, address)
    # and per address, never a hard lock that the right password from a clean address cannot pass.
    login_free_failures_per_account_address: int = Field(default=5, ge=1, description="failed sign-ins of "
                                                         "one account from one address before delays start")
    login_free_failures_per_address: int = Field(default=30, ge=1, description="failed sign-ins from one "
                                                 "address (any account) before delays start")
    login_base_delay_seconds: float = Field(default=1.0, ge=0, description="first delay; doubles with each "
                                            "further failure")
    login_max_delay_seconds: float = Field(default=900.0, ge=0, description="longest delay between attempts")
    # The defaults live with the rules that read them (incidents/routing.py, notifications/rules.py), not here:
    # settings sit below every feature and import none of them.
    incident_routing: dict[str, list[str]] | None = Field(
        default=None,
        description="incident kind → organisation kinds, lead first (JSON); unset: the defaults in "
        "incidents/routing.py",
    )
    pdf_font: Path = Field(default=Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
                           description="TrueType font with Greek glyphs for PDF documents")
    gil_switch_interval: float = Field(
        default=0.0005, gt=0, le=0.1,
        description="seconds a thread may hold Python's GIL before another may run (sys.setswitchinterval): the "
                    "event loop sends live events while request threads wait on the database, and the "
                    "interpreter's 5 ms default makes each of their round trips wait that long for the loop")
    gzip_minimum_size: int = Field(default=8192, ge=0, description="responses at least this large (bytes) are "
                                   "gzip-compressed for clients that accept it")
    # --- live updates over /ws (src/iolaos/realtime, docs/realtime.md) ---
    fanout: Literal["memory", "redis", "postgres"] | None = Field(
        default=None, description="wake-up backend between processes; default: redis when broker_url is set, "
                                  "else memory (in-process)")
    realtime_poll_interval: float = Field(default=1.0, gt=0, description="seconds between polls of the event "
                                          "table, so a lost wake-up only delays delivery")
    realtime_heartbeat_interval: float = Field(default=15.0, gt=0, description="seconds between ping messages")
    realtime_send_queue: int = Field(default=1000, ge=8, description="messages queued per connection before "
                                     "the client is closed as too slow (4008)")
    realtime_coalesce_after: int = Field(default=64, ge=1, description="messages queued for one connection "
                                         "after which a new position replaces the queued one of the same patrol "
                                         "crew member (marked coalesced) instead of queueing behind it")
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
    # --- the patrol's state machine (src/iolaos/patrols, docs/patrols.md) ---
    patrol_checkin_lead_minutes: float = Field(default=120.0, ge=0, le=24 * 60, description="crew may check in "
                                               "from this long before the shift starts")
    patrol_start_lead_minutes: float = Field(default=60.0, ge=0, le=24 * 60, description="a patrol may start "
                                             "from this long before its shift starts (never after it ends)")
    patrol_min_crew: int = Field(default=2, ge=1, le=20, description="checked-in crew a patrol needs to start "
                                 "(capped at its crew size) unless a dispatcher overrides with a reason")
    lost_contact_realert_minutes: float = Field(default=30.0, gt=0, description="an acknowledged lost-contact "
                                                "alert stays quiet this long while the crew stays silent")
    # --- season coverage and equity analytics (src/iolaos/planning/season.py, docs/planning.md) ---
    coverage_max_days: int = Field(default=184, ge=1, le=366, description="longest range of the coverage, equity "
                                   "and season reports: a fire season, 1 May – 31 October, is 184 days")
    coverage_baseline_days: int = Field(default=7, ge=1, le=60, description="most days the planner-vs-greedy "
                                        "comparison re-plans (it builds and solves one instance per day)")
    coverage_worst_zones: int = Field(default=15, ge=1, le=500, description="worst-served municipalities named "
                                      "in the season report")
    coverage_work_mem: str = Field(default="64MB", pattern=r"^[1-9][0-9]{0,5}(kB|MB|GB)$", description="PostgreSQL "
                                   "work_mem for the season statements (SET LOCAL): their sorts and hashes stay in "
                                   "memory instead of spilling to disk")
    # Field operations (positions, safety alerts).
    position_retention_days: int = Field(default=30, ge=1, le=3650, description="keep position reports this long")
    position_skew_seconds: float = Field(default=120.0, ge=0, le=3600, description="clock skew tolerated on a "
                                         "position's time: it must lie between the patrol's start and now, each "
                                         "widened by this much (docs/permissions.md, \"Location\")")
    out_of_zone_metres: float = Field(default=500.0, gt=0, description="alert when a patrol is this far outside")
    lost_contact_minutes: float = Field(default=15.0, gt=0, description="alert when an active patrol is silent")
    field_sweep_seconds: float = Field(default=60.0, ge=0, description="lost-contact sweep interval; 0 = off")
    # --- public warnings, CAP 1.2 (src/iolaos/warnings, src/iolaos/cap, docs/warnings.md) ---
    # Exercise by default, so that a demo or a test install can never send a real (Actual) warning by mistake.
    cap_status: Literal["Actual", "Exercise", "Test"] = Field(default="Exercise", description="CAP <status> "
                                                               "of every public message")
    cap_sender: str = Field(default=DEFAULT_CAP_SENDER, pattern=r"^[^\s,<>&\"']{3,200}$",
                            description="CAP <sender>: globally unique per deployment, e.g. warnings@region.gr")
    warning_four_eyes: bool = Field(default=False, description="a warning (and each update) is published only "
                                    "after another authorised person approved that exact revision")
    warning_feed_retention_hours: float = Field(default=24.0, ge=0, le=24 * 30, description="hours a cancelled or "
                                                "expired warning stays in the public feed")
    warning_max_hours: float = Field(default=72.0, gt=0, le=24 * 30, description="latest `expires` a warning may "
                                     "have, counted from publication")
    web_dir: Path = Field(default=REPO_ROOT / "web")
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
    # --- security hardening (src/iolaos/hardening, docs/security.md) ---
    trusted_proxies: str = Field(default="", description="comma-separated addresses or networks of reverse "
                                 "proxies whose X-Forwarded-For/-Proto are believed; empty: none (the peer "
                                 "address is the client)")
    max_body_bytes: int = Field(default=1_048_576, ge=1024, description="largest request body in bytes; "
                                "larger answers 413 before it is read")
    max_body_bytes_positions: int = Field(default=262_144, ge=1024, description="largest position batch "
                                          "(POST /api/v1/positions: up to 500 reports)")
    max_body_bytes_imports: int = Field(default=4_194_304, ge=1024, description="largest risk-map import "
                                        "(POST /api/v1/risk/levels: up to 5,000 levels)")
    metrics_token: str | None = Field(default=None, description="bearer token Prometheus must send to "
                                      "/metrics; unset: /metrics answers only loopback peers")
    worker_checkpoint_dir: Path | None = Field(default=None, description="folder for checkpoint files; keep it "
                                               "off the database server")

    # --- notifications by rule: Web Push, e-mail, SMS (src/iolaos/notifications, docs/notifications.md) ---
    notify_rules: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="rule name → {enabled, recipients, life_safety, "
        "channels, …} (JSON); merged over the defaults in notifications/rules.py")
    notify_channels_default: list[str] = Field(default_factory=lambda: ["push", "email"], description="channels "
                                               "of a user who has not chosen any (push, email, sms)")
    worker_notify_seconds: float = Field(default=2.0, ge=0, description="`iolaos worker`: how often due "
                                         "notifications are delivered; 0 = off")
    notify_max_tries: int = Field(default=5, ge=1, le=50, description="attempts per (notification, channel) "
                                  "before giving up")
    notify_backoff_seconds: float = Field(default=30.0, gt=0, description="wait after the first failed attempt; "
                                          "doubled after each further failure")
    notify_backoff_max_seconds: float = Field(default=3600.0, gt=0, description="longest wait between attempts")
    notify_lease_seconds: float = Field(default=60.0, gt=0, description="how long a worker holds a delivery it "
                                        "is sending; a delivery still held after this was interrupted")
    notify_send_timeout: float = Field(default=10.0, gt=0, description="seconds one send may take (keep it "
                                       "well under notify_lease_seconds)")
    notify_batch: int = Field(default=200, ge=1, description="deliveries one worker turn sends at most")
    notify_base_url: str = Field(default="http://127.0.0.1:8000", description="address of the service put in "
                                 "e-mails and notifications as a link")
    notify_vapid_private_key: Path | None = Field(default=None, description="VAPID private key (PEM) from "
                                                  "`iolaos notify vapid-keygen`; unset: no Web Push")
    notify_vapid_subject: str = Field(default="mailto:ops@iolaos.invalid", description="VAPID `sub` claim: a "
                                      "mailto: or https: contact for push services")
    notify_push_ttl: int = Field(default=3600, ge=0, description="seconds a push service keeps an undelivered "
                                 "message")
    notify_smtp_host: str | None = Field(default=None, description="SMTP server; unset: no e-mail")
    notify_smtp_port: int = Field(default=25, ge=1, le=65535)
    notify_smtp_starttls: bool = Field(default=False, description="upgrade the SMTP connection with STARTTLS")
    notify_smtp_username: str | None = None
    notify_smtp_password: str | None = None
    notify_smtp_from: str = Field(default="IOLAOS <noreply@iolaos.invalid>", description="From: of e-mails")
    notify_sms_url: str | None = Field(default=None, description="SMS gateway URL (HTTP POST, JSON body); "
                                       "'fake' uses the built-in fake gateway; unset: no SMS")
    notify_sms_body: dict[str, str] = Field(
        default_factory=lambda: {"to": "{to}", "text": "{text}", "reference": "{reference}"},
        description="JSON body template of a gateway request: each value is formatted with {to}, {text}, "
                    "{reference}")
    notify_sms_headers: dict[str, str] = Field(default_factory=dict, description="extra headers of gateway "
                                               "requests (e.g. Authorization)")
    @model_validator(mode="after")
    def _actual_needs_own_sender(self) -> Settings:
        """An Actual warning must name its own sender: two deployments must never share one."""
        if self.cap_status == "Actual" and self.cap_sender == DEFAULT_CAP_SENDER:
            raise ValueError("IOLAOS_CAP_STATUS=Actual needs IOLAOS_CAP_SENDER set to this deployment's own sender")
        return self
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
