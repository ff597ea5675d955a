"""A reply on its way out: rendered in the user's language (:class:`Rendered`), as the outbox keeps it
(:func:`reply_payload`), its documents rendered after the commit, off the event loop (:func:`materialize`),
and their spool files removed once delivered (:func:`delivered`). What :meth:`bot.service.Service.handle`
returns to a channel is an :class:`Outcome`."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Iterable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from bot.effects import (
    ChartDocument,
    Deferred,
    Document,
    DossierDocuments,
    Env,
    ExportDocuments,
    Results,
    deferred_to_json,
    document_data,
    render_chart,
    render_dossier_documents,
    render_export,
)
from bot.render_pool import for_workers
from bot.store import dossiers as dossiers_store
from bot.store.db import Database
from conversations.messages import Reply, render, render_line

log = logging.getLogger("smebot.replies")


@dataclass(frozen=True)
class Button:
    payload: str
    label: str


@dataclass(frozen=True)
class Rendered:
    text: str
    buttons: tuple[Button, ...] = ()
    documents: tuple[Document | Deferred, ...] = ()


@dataclass(frozen=True)
class Queued:
    """A reply put in the outbox by the transaction that produced it: the channel hands it to its
    sender at once, so the sender need not read it back (the table stays the durable copy)."""

    outbox_id: int
    user_id: int
    external_id: str
    payload: dict[str, Any]
    parts: dict[str, Any] = field(default_factory=dict)  # a message released from hold: its parts sent
    attempts: int = 0


@dataclass
class Outcome:
    replies: list[Rendered] = field(default_factory=list)
    lang: str = "vi"
    duplicate: bool = False  # the update was handled before: nothing done, nothing to send
    queued: list[Queued] = field(default_factory=list)  # the replies, as queued for a pushed channel
    notified: bool = False  # messages were queued for other users too (officer decisions)
    remove: tuple[str, ...] = ()  # files to delete once the transaction is committed (an erasure's)
    programmes_changed: bool = False  # a programme was published or closed: rebuild the live catalogue


async def materialize(
    documents: tuple[Document | Deferred, ...], db: Database, renderer: Executor | None, env: Env
) -> list[Document]:
    """Render the documents a reply carries, after it is shown and its transaction committed: a
    dossier's (a short read, then the DOCX), a chart, an export, off the event loop. Channels call
    this, so an answer never waits for a document and the writer never waits for a renderer."""
    out: list[Document] = []
    loop = asyncio.get_running_loop()
    for document in documents:
        if isinstance(document, Document):
            out.append(document)
            continue
        if isinstance(document, ChartDocument):
            out.extend(await loop.run_in_executor(renderer, render_chart, document))
            continue
        if isinstance(document, ExportDocuments):
            catalogue = for_workers(renderer, env.catalogue)
            out.extend(await loop.run_in_executor(renderer, render_export, document, catalogue))
            continue

        def read(s: Session, request: DossierDocuments = document) -> dict[str, Any] | None:
            dossier = dossiers_store.dossier_by_ref(s, request.ref)
            return document_data(env, dossier, request.lang) if dossier is not None else None

        data = await db.read(read)  # off the loop, in a snapshot: the writer never waits
        if data is not None:
            out.extend(
                await loop.run_in_executor(
                    renderer, render_dossier_documents, document.ref, data, document.lang
                )
            )
    return out


def reply_payload(reply: Rendered, tag: str, documents_dir: Path) -> dict[str, Any]:
    """A reply as the outbox keeps it. A document made for it (a /mydata export, a chart, a plan) is
    spooled to a file of its own (``spool``), which the sender deletes once it is delivered."""
    documents: list[dict[str, Any]] = []
    for document in reply.documents:
        if not isinstance(document, Document):  # rendered by the sender, after the commit
            documents.append(deferred_to_json(document))
            continue
        digest = hashlib.sha256(tag.encode() + document.content).hexdigest()[:16]
        path = documents_dir / f"{digest}-{document.filename}"
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.write_bytes(document.content)
        documents.append(
            {"path": str(path), "filename": document.filename, "mime": document.mime, "spool": True}
        )
    return {
        "kind": "reply",
        "text": reply.text,
        "buttons": [[b.payload, b.label] for b in reply.buttons],
        "documents": documents,
    }


def render_reply(reply: Reply, lang: str, results: Results) -> Rendered:
    """A reply in the user's language, with the values its effects produced (a reference, a summary)."""
    shown = results.shown()
    buttons = tuple(Button(c.payload, render_line(c.label, lang, shown)) for c in reply.choices)
    documents = tuple(results.documents.get(reply.attach, ())) if reply.attach else ()
    return Rendered(render(reply, lang, shown), buttons, documents)


def delivered(document: Mapping[str, Any]) -> None:
    """A document of an outbox message was delivered: its spool file is not needed any more (a /mydata
    export holds everything about a person, an officer's plan every firm's tax code)."""
    if document.get("spool") and document.get("path"):
        remove_files((str(document["path"]),))


def remove_files(paths: Iterable[str]) -> None:
    for path in paths:
        try:
            Path(path).unlink(missing_ok=True)
        except OSError as error:  # the rows are gone; a file left behind is logged, by path (no content)
            log.warning("could not delete %s: %s", path, type(error).__name__)
