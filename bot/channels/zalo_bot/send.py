"""Out to the Zalo Bot: a rendered outbox message as ``sendMessage`` calls. Text only, at most 2,000
characters a message (cut at line breaks); buttons become the numbered lines of their labels (the
conversation reads a typed number or label); no document sending on the Zalo Bot, so a dossier's
documents become a message telling the owner how to get them from the agency."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.channels.choices import numbered_here
from bot.channels.zalo_bot_api import (
    MAX_TEXT_LENGTH,
    PermanentError,
    RateLimited,
    TransientError,
    ZaloBotClient,
)
from bot.pipeline.delivery import Flood, Message, Progress, Refused, Transient, split_text
from bot.replies import delivered
from locales import t


def reply_text(payload: Mapping[str, Any], text: str) -> str:
    """The reply's text with its choices listed under it, one a line, as their labels show them ("1. Đồng
    ý"); the page buttons too, so "Trang sau" can be typed. A staff member's choices (commands, labels
    without numbers: the dossiers under /queue) are numbered here, and the adapter reads the number."""
    buttons = [(str(choice), str(label)) for choice, label in payload.get("buttons") or []]
    numbered = numbered_here(buttons)
    labels = [f"{n}. {label}" if numbered else label for n, (_, label) in enumerate(buttons, 1)]
    if not labels:
        return text
    return f"{text}\n\n" + "\n".join(labels) if text else "\n".join(labels)


def document_text(document: Mapping[str, Any], lang: str) -> str:
    """What the owner reads instead of a document the Zalo Bot cannot send."""
    if "dossier" in document and document.get("for_staff"):  # an officer: where else to open it
        return t("zalo.dossier_for_staff", lang, ref=str(document["dossier"]))
    if "dossier" in document:
        return t("zalo.dossier_from_agency", lang, ref=str(document["dossier"]))
    if "render" in document:  # an officer's chart or export
        return t("zalo.report_not_sent", lang)
    return t("zalo.file_not_sent", lang, name=str(document.get("filename", "")))


class ZaloBotTransport:
    """Sends one outbox message, part by part (each piece of text, then a note per document), so a retry
    sends only what did not go."""

    def __init__(self, client: ZaloBotClient, text_limit: int = MAX_TEXT_LENGTH) -> None:
        self.client = client
        self.text_limit = text_limit

    async def _send(self, part: str, chat: str, text: str) -> None:
        try:
            await self.client.send_message(chat, text)
        except RateLimited as error:
            raise Flood(error.retry_after) from error
        except TransientError as error:
            raise Transient(str(error)) from error
        except PermanentError as error:  # an unknown chat, a bad token: a reply would get the same answer
            raise Refused(
                f"{error.error_code} {error.description}"[:200], part=part, reply_possible=False
            ) from error

    async def send(self, message: Message, progress: Progress) -> int | None:
        payload, done = message.payload, message.done
        documents = payload.get("documents") or []
        chunks = split_text(reply_text(payload, message.text), self.text_limit)
        for i, chunk in enumerate(chunks):
            part = f"text:{i}"
            if part in done:
                continue
            await self._send(part, message.chat, chunk)
            await progress(part, None, i == len(chunks) - 1 and not documents)
        for d, document in enumerate(documents):
            part = f"doc:{d}:0"
            if part in done:
                continue
            lang = str(document.get("lang", message.lang))
            for piece in split_text(document_text(document, lang), self.text_limit):
                await self._send(part, message.chat, piece)
            await progress(part, None, d == len(documents) - 1)
            if "path" in document:
                delivered(document)  # its spool file (a /mydata export, a plan) goes: it cannot be sent here
        return None
