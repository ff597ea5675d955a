"""Settings from SMEBOT_* environment variables or a .env file (pydantic-settings)."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SMEBOT_", env_file=".env", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///smebot.db"
    files_dir: Path = Path("var/files")
    max_file_bytes: int = 20 * 1024 * 1024
    allowed_mime_prefixes: tuple[str, ...] = (
        "image/",
        "application/pdf",
        "application/vnd.",
        "application/msword",
    )
    admin_ids: str = ""  # channel-qualified: "telegram:12345,console:alice"


def load_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]
