"""What the OA Open API answers when it says no, and the platform's numbers.

The platform answers HTTP 200 with ``{"error": N, "message": ...}``. Each code family the bot acts on has
its own exception, so the caller decides by type: -216 / -220 refresh the token, -230 / -232 hold the
message (only an approved template may go), -32 backs off, -213 (the user unfollowed) stops sending.
Facts the public documents leave uncertain are constants here and parameters of the client.
"""

from __future__ import annotations

OPENAPI_BASE_URL = "https://openapi.zalo.me"
OAUTH_BASE_URL = "https://oauth.zaloapp.com"
SEND_PATH = "/v3.0/oa/message/cs"
# Unconfirmed for v3: the upload endpoints integrations use are still the v2.0 ones.
UPLOAD_FILE_PATH = "/v2.0/oa/upload/file"
UPLOAD_IMAGE_PATH = "/v2.0/oa/upload/image"
TOKEN_PATH = "/v4/oa/access_token"

ERR_RATE_LIMIT = -32
ERR_UNFOLLOWED = -213
ERR_TOKEN_INVALID = -216
ERR_TOKEN_EXPIRED = -220
TOKEN_ERRORS = frozenset({ERR_TOKEN_INVALID, ERR_TOKEN_EXPIRED})
ERR_OUTSIDE_WINDOW = -230
ERR_NO_INTERACTION = -232
WINDOW_ERRORS = frozenset({ERR_OUTSIDE_WINDOW, ERR_NO_INTERACTION})
RATE_LIMIT_PER_MINUTE = 4000
# Unconfirmed: -32 says nothing of when to come back; the quota is per minute, so a minute by default.
RATE_LIMIT_BACKOFF = 60.0


class ZaloOAError(Exception):
    """The OA API refused a call, or it could not be made."""

    def __init__(self, what: str, code: int | None, message: str) -> None:
        super().__init__(f"{what}: {code} {message}" if code is not None else f"{what}: {message}")
        self.what = what
        self.code = code
        self.message = message


class PermanentError(ZaloOAError):
    """The request as it is will not succeed: do not resend it."""


class Unfollowed(PermanentError):
    """-213: the user no longer follows the OA; nothing reaches them until they follow again."""


class TransientError(ZaloOAError):
    """The platform or the network failed: the same call may succeed later."""


class RateLimited(TransientError):
    """-32: the app's quota is spent; wait ``retry_after`` seconds."""

    def __init__(self, what: str, message: str, retry_after: float) -> None:
        super().__init__(what, ERR_RATE_LIMIT, message)
        self.retry_after = retry_after


class TokenRefreshNeeded(ZaloOAError):
    """-216 / -220: the access token is invalid or expired (raised when a fresh one was refused too)."""


class WindowClosed(ZaloOAError):
    """-230 / -232: the recipient has not interacted within the window; only an approved template may go."""


class RefreshTokenLost(ZaloOAError):
    """No usable refresh token (missing, expired or refused): an admin must authorise the OA again.
    An alert for the admins, not a crash: the OA channel waits until then."""


def as_int(value: object, default: int) -> int:
    """An integer the platform sent as a number or as text (ids are parsed as text, never as numbers)."""
    try:
        return int(value) if isinstance(value, int | str) and not isinstance(value, bool) else default
    except ValueError:
        return default


def text_id(value: object) -> str:
    return value if isinstance(value, str) else str(value) if isinstance(value, int) else ""
