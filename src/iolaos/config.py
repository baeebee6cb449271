"""The one settings object. Every knob is an ``IOLAOS_*`` environment variable."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

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
    db_statement_timeout_ms: int = 15_000
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
    web_dir: Path = Field(default=_REPO_ROOT / "web")
    log_level: str = "info"

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
