"""The Zalo Official Account (OA Open API v3): the client, its tokens, the webhook's signature and events,
the interaction windows, and the channel that runs them in the pipeline (``channel.py``: import it from
there; it needs the service)."""

from bot.channels.zalo_oa.api import MAX_BUTTONS, Button, ZaloOAClient, numbered_choices
from bot.channels.zalo_oa.errors import (
    PermanentError,
    RateLimited,
    RefreshTokenLost,
    TokenRefreshNeeded,
    TransientError,
    Unfollowed,
    WindowClosed,
    ZaloOAError,
)
from bot.channels.zalo_oa.events import OAAttachment, OAEvent, parse_event
from bot.channels.zalo_oa.signature import SIGNATURE_HEADER, signature, verify_signature
from bot.channels.zalo_oa.tokens import (
    JsonFileTokenStore,
    MemoryTokenStore,
    TokenManager,
    TokenPair,
    TokenStore,
)
from bot.channels.zalo_oa.windows import ALLOWED_WINDOW, FREE_WINDOW, Window, window_at

__all__ = [
    "ALLOWED_WINDOW",
    "FREE_WINDOW",
    "MAX_BUTTONS",
    "SIGNATURE_HEADER",
    "Button",
    "JsonFileTokenStore",
    "MemoryTokenStore",
    "OAAttachment",
    "OAEvent",
    "PermanentError",
    "RateLimited",
    "RefreshTokenLost",
    "TokenManager",
    "TokenPair",
    "TokenRefreshNeeded",
    "TokenStore",
    "TransientError",
    "Unfollowed",
    "Window",
    "WindowClosed",
    "ZaloOAClient",
    "ZaloOAError",
    "numbered_choices",
    "parse_event",
    "signature",
    "verify_signature",
    "window_at",
]
