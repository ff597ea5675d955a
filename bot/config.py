"""Settings from SMEBOT_* environment variables or a .env file (pydantic-settings)."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SMEBOT_", env_file=".env", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///smebot.db"
    files_dir: Path = Path("var/files")
    documents_dir: Path = Path("var/documents")  # where the terminal chat writes the documents it sends
    agencies_file: Path | None = None  # default: rules/data/agencies.yaml
    extra_days_off: str = ""  # "2027-02-03,2027-02-11": days off an admin adds to the public holidays
    max_file_bytes: int = 20 * 1024 * 1024
    allowed_mime_prefixes: tuple[str, ...] = (
        "image/",
        "application/pdf",
        "application/vnd.",
        "application/msword",
    )
    admin_ids: str = ""  # channel-qualified: "telegram:12345,console:alice"
    telegram_token: str = ""
    telegram_api_url: str = "https://api.telegram.org"  # a self-hosted Bot API server, or the test fake
    telegram_webhook_url: str = ""  # set it (or pass --webhook-url) to receive updates by webhook
    telegram_webhook_listen: str = "127.0.0.1:8080"  # where the aiohttp server listens (behind a proxy)
    telegram_webhook_secret: str = ""  # X-Telegram-Bot-Api-Secret-Token; random at each start when empty
    telegram_messages_per_second: float = 30.0  # Telegram's limits; lift them only against a test server
    telegram_chat_interval: float = 1.0  # seconds between two messages to one chat
    telegram_max_in_flight: int = 8  # messages being sent at once
    telegram_broadcast_per_second: float = 25.0  # broadcasts' share of the 30/s (paid broadcasts allow more)
    zalo_bot_token: str = (
        ""  # the Zalo Bot's token (Zalo Bot Creator); `smebot run` starts the Zalo Bot with it
    )
    zalo_bot_api_url: str = "https://bot-api.zaloplatforms.com"  # or https://bot-api.zapps.me, or the fake
    zalo_bot_webhook_url: str = ""  # set it to receive updates by webhook instead of polling getUpdates
    zalo_bot_webhook_secret: str = (
        ""  # X-Bot-Api-Secret-Token (8-256 characters); random at each start when empty
    )
    zalo_bot_messages_per_second: float = 10.0  # unconfirmed: the platform publishes no limit; keep it modest
    zalo_bot_chat_interval: float = 1.0  # seconds between two messages to one chat
    zalo_bot_max_in_flight: int = 4  # messages being sent at once
    # the agency's Zalo Official Account (issue 17; see the README): `smebot run` starts it with an app id
    zalo_oa_app_id: str = ""  # the Zalo app's id (developers.zalo.me) the OA is linked to
    zalo_oa_secret_key: str = ""  # the app's secret key: refreshing the OA's token
    zalo_oa_oa_secret_key: str = ""  # the OA secret key (Webhook page): checks the signatures
    zalo_oa_signed_with: str = "oa_secret"  # unconfirmed: which secret signs (oa_secret, app_secret)
    zalo_oa_access_token: str = ""  # the first token pair, put in the database once (then rotated there)
    zalo_oa_refresh_token: str = ""
    zalo_oa_webhook_url: str = ""  # the public URL set as the app's webhook; its path is served
    zalo_oa_api_url: str = "https://openapi.zalo.me"  # or the fake
    zalo_oa_oauth_url: str = "https://oauth.zaloapp.com"  # the token endpoint's host, or the fake
    zalo_oa_window_hours: float = 168.0  # unconfirmed: how long after a user's last message the OA may write
    zalo_oa_max_buttons: int = 5  # unconfirmed: buttons a message may carry; more become numbered lines
    zalo_oa_messages_per_second: float = 20.0  # the app's quota: 4,000 requests a minute, uploads included
    zalo_oa_chat_interval: float = 1.0  # seconds between two messages to one chat
    zalo_oa_max_in_flight: int = 4  # messages being sent at once
    zalo_oa_broadcast_per_second: float = 15.0  # broadcasts' share of the 20/s
    zalo_oa_rate_limit_backoff: float = 60.0  # unconfirmed: seconds to wait after -32
    zalo_bot_broadcast_per_second: float = 8.0  # broadcasts' share of the 10/s (as unconfirmed as that)
    broadcast_batch: int = 100  # recipients claimed at a time: a crash may send these twice, no more
    broadcast_send_timeout: float = 15.0  # seconds a broadcast send may take before it is tried again
    broadcast_progress_every: float = 60.0  # seconds between two progress reports to the officer
    broadcast_progress_percent: int = 25  # and one each time this share more of the recipients is done
    webhook_listen: str = ""  # host:port of the one webhook server (default: SMEBOT_TELEGRAM_WEBHOOK_LISTEN)
    render_processes: int = 1  # `smebot run`: worker processes that render dossier documents
    # reminders (issue 16), at local hours of Vietnam (Asia/Ho_Chi_Minh): from this hour on working days
    reminder_hour: int = 8
    reminder_until_hour: int = 20  # nobody is reminded from this hour until the next morning
    reminder_interval: float = 60.0  # seconds between two scans of what is due; 0 turns reminders off


def load_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]
