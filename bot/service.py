"""One message, one transaction: load the user's state and context, run the engine, apply its effects,
save the new state, commit; then render the replies. Channels call :meth:`Service.handle`.

A process may die at any point: before the commit nothing happened, after it everything did, so an
answer is never lost and a dossier is never filed twice. One user's messages are handled one after the
other (an in-process lock plus a row lock in the database); different users' run concurrently.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Executor
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from bot.effects import (
    Ctx,
    Deferred,
    Document,
    Env,
    Results,
    render_notification,
    run,
)
from bot.news import StoreNews
from bot.owner_context import owner_context
from bot.prepare import Prepared, decide_report, read_subscribers
from bot.programmes import live_catalogue, live_staff, records
from bot.replies import Outcome, Queued, Rendered, materialize, remove_files, render_reply, reply_payload
from bot.report_worker import ReportWorkers, can_run_in_workers
from bot.staff import Staff, officer_context
from bot.store import inbox, outbox
from bot.store import programmes as stored_programmes
from bot.store import users as users_store
from bot.store.db import Database
from bot.store.models import Enterprise, User, utcnow
from conversations.context import Context
from conversations.effects import AuditRefused, Effect
from conversations.engine import Input, State
from conversations.engine import Outcome as EngineOutcome
from conversations.messages import Reply
from conversations.officer import broadcast_status, workbench
from conversations.officer import handler as officer
from conversations.officer.context import OfficerContext, Subscriber
from conversations.open_programmes import open_programmes
from conversations.owner.handler import handle as owner_handle
from conversations.owner.handler import resume
from conversations.programme_effects import ProgrammeStatus
from locales import t
from rules.catalogue import Catalogue

log = logging.getLogger("smebot.service")

PROGRAMMES_CHECK_EVERY = 5.0  # seconds between two looks at what other processes published


class Service:
    def __init__(
        self,
        db: Database,
        catalogue: Catalogue,
        today: Callable[[], dt.date] = dt.date.today,
        staff: Staff | None = None,
        inline_channels: frozenset[str] = frozenset({"console"}),
        outbox_channels: frozenset[str] = frozenset({"telegram", "zalo"}),
        documents_dir: Path = Path("var/documents"),
        renderer: Executor | None = None,
        programmes_check_every: float = PROGRAMMES_CHECK_EVERY,
    ) -> None:
        self.db = db
        self.catalogue = catalogue
        # the shipped programmes and agencies; the live ones add the published programmes (issue 16)
        self.shipped = catalogue
        self._programmes_loaded = False
        # another process (a second server, the terminal chat) may publish or close one: looked at this often
        self.programmes_check_every = programmes_check_every
        self._programmes_checked = 0.0
        self._published: tuple[int, ...] = ()
        self.today = today
        self.staff = staff or Staff()
        self.base_staff = self.staff
        self.programmes_generation = 0  # how many times the published programmes were loaded
        # Channels without a push sender (the terminal) get their pending notifications with the next reply.
        self.inline_channels = inline_channels
        # Channels whose replies are sent by a rate-limited sender: they are queued in the outbox in the
        # same transaction as the state, so a crash after the commit loses no answer.
        self.outbox_channels = outbox_channels
        self.documents_dir = documents_dir
        # Where documents are rendered: None is a thread; the Telegram bot passes a process pool, so a
        # DOCX (about 50 ms of CPU) never competes with the event loop for the GIL.
        self.renderer = renderer
        # the server's reports are decided in its worker processes, never on a thread of this one
        url = db.engine.url.render_as_string(hide_password=False)
        self.reports = (
            ReportWorkers(renderer, url, catalogue, self.staff)
            if renderer is not None and can_run_in_workers(renderer, url)
            else None
        )
        # one lock per user with a message in hand (and how many wait for it): gone when nobody does
        self._locks: dict[str, tuple[asyncio.Lock, list[int]]] = {}
        # staff with a broadcast draft open in this process: their subscribers are read off the loop
        self.drafting: set[str] = set()

    @contextlib.asynccontextmanager
    async def _serial(self, key: str) -> AsyncIterator[None]:
        """One user's messages one after the other, in this process."""
        lock, holders = self._locks.setdefault(key, (asyncio.Lock(), [0]))
        holders[0] += 1
        try:
            async with lock:
                yield
        finally:
            holders[0] -= 1
            if not holders[0]:
                del self._locks[key]

    async def handle(
        self, channel: str, external_id: str, inp: Input, update: tuple[str, str] | None = None
    ) -> Outcome:
        """One message. With ``update`` (source, update id) it is handled at most once."""
        key = users_store.user_key(channel, external_id)
        if not self._programmes_loaded or await self._programmes_changed_elsewhere():
            await self.reload_programmes()
        async with self._serial(key):
            try:
                prepared = await self.prepare_read(channel, external_id, key, inp)
                outcome = await self.db.run(self.step, channel, external_id, key, inp, update, prepared)
            except Exception as error:
                # by type and ids: an exception's message may quote what the user typed
                log.error(
                    "error handling update %s of %s: %s", update, key, type(error).__name__, exc_info=True
                )
                return await self._apologise(channel, external_id, update)
        if outcome.programmes_changed:  # after the commit: the owners' journey sees it from the next message
            await self.reload_programmes()
        remove_files(outcome.remove)
        return outcome

    async def prepare_read(self, channel: str, external_id: str, key: str, inp: Input) -> Prepared | None:
        """What a staff message needs that is slow to read, read off the event loop before the write
        transaction (:mod:`bot.prepare`): a report decided whole, or a broadcast draft's subscribers."""
        if inp.payload and inp.payload.startswith("/"):  # a button that stands for a command (see decide)
            inp = Input(text=inp.payload)
        command = inp.command
        name = command[0] if command else None
        if command and name in officer.READS:
            if self.reports is not None:
                try:
                    return await self.reports.decide(self, channel, external_id, key, command)
                except Exception:  # a worker gone (killed, the pool shut down): decided here instead
                    log.warning("a report could not be decided in a worker", exc_info=True)
            return await self.db.read(decide_report, self, channel, external_id, key, command)
        if name in broadcast_status.COMMANDS or key in self.drafting:
            return await self.db.read(read_subscribers, self, channel, external_id, key)
        return None

    def step(
        self,
        s: Session,
        channel: str,
        external_id: str,
        key: str,
        inp: Input,
        update: tuple[str, str] | None,
        prepared: Prepared | None = None,
    ) -> Outcome:
        """The unit of work of one message, in one transaction (see the module docstring)."""
        if update is not None and not inbox.claim_update(s, *update):
            return Outcome(duplicate=True)
        user, outcome, results = self.decide(s, channel, external_id, key, inp, prepared)
        if broadcast_status.concerns(None, outcome.state.pending):  # a broadcast draft open: see prepare_read
            self.drafting.add(key)
        else:
            self.drafting.discard(key)
        changed = any(isinstance(e, ProgrammeStatus) for e in outcome.effects)
        lang = outcome.state.lang
        rendered = [self.render(r, lang, results) for r in outcome.replies]
        if results.notifications:
            rendered.insert(0, Rendered("\n".join([t("notify.header", lang), *results.notifications])))
        # they wrote, so a platform that held messages for them (a closed window) carries them again:
        # those go out first, in order, then the reply
        released = [
            Queued(d.outbox_id, user.id, d.external_id, d.payload, d.parts, d.attempts)
            for d in (outbox.release_held(s, user.id) if user.channel in self.outbox_channels else ())
        ]
        queued = [*released, *self.finish(s, user, rendered, update)]
        # an erasure's files; and the documents the terminal chat wrote of the dossiers it erased
        written = [
            self.documents_dir / f"{ref}{copy}.{ext}"
            for ref in results.erased_dossiers
            for copy in ("", "-en")  # the Vietnamese form and an English owner's copy
            for ext in ("docx", "html")
        ]
        remove = (*results.remove, *map(str, written))
        return Outcome(
            rendered,
            lang,
            queued=queued,
            notified=results.notified,
            remove=remove,
            programmes_changed=changed,
        )

    async def reload_programmes(self) -> None:
        """The live catalogue and routing: the shipped programmes plus the published ones (issue 16)."""

        await self.db.run(self.load_programmes)
        self._programmes_loaded = True
        self._programmes_checked = time.monotonic()

    async def _programmes_changed_elsewhere(self) -> bool:
        """Whether another process published or closed a programme since this one loaded them (looked at
        no more than every ``programmes_check_every`` seconds: one short query)."""
        now = time.monotonic()
        if now - self._programmes_checked < self.programmes_check_every:
            return False
        self._programmes_checked = now  # the messages arriving meanwhile do not look again
        try:
            return await self.db.run(stored_programmes.published_ids) != self._published
        except Exception:  # the message goes on with the programmes it has; the next look may do better
            log.warning("could not look for programmes published elsewhere", exc_info=True)
            return False

    def load_programmes(self, s: Session) -> None:
        rows = stored_programmes.published(s)
        self._published = tuple(row.id for row in rows)
        catalogue = live_catalogue(self.shipped, rows)
        self.staff = live_staff(self.base_staff, rows, catalogue)
        self.catalogue = catalogue
        self.programmes_generation += 1

    def officer_context(
        self,
        s: Session,
        key: str,
        role: str,
        agency: Any,
        about: str | None = None,
        subscribers: tuple[Subscriber, ...] | None = None,
    ) -> OfficerContext:
        octx = officer_context(s, self.staff, self.catalogue, self.today(), key, role, agency, about)
        news = StoreNews(s, key, agency, subscribers)  # the subscribers read off the loop, if they were
        return replace(octx, programmes=records(s, self.shipped), news=news)

    async def notice(
        self,
        channel: str,
        external_id: str,
        key: str,
        params: dict[str, Any],
        update: tuple[str, str] | None = None,
    ) -> Outcome:
        """A message from the shell itself (a refused file, a stale button), in the user's language."""

        def work(s: Session) -> Outcome:
            if update is not None and not inbox.claim_update(s, *update):
                return Outcome(duplicate=True)
            user, saved, _, _ = users_store.user_snapshot(s, channel, external_id)
            lang = State.from_json(saved or {"lang": user.lang}).lang
            replies = [Rendered(t(key, lang, **params))]
            return Outcome(replies, lang, queued=self.finish(s, user, replies, update))

        return await self.db.run(work)

    def finish(
        self,
        s: Session,
        user: User,
        replies: list[Rendered],
        update: tuple[str, str] | None,
    ) -> list[Queued]:
        """For pushed channels, queue the replies (in the transaction that claimed the update). A document
        to render (a dossier's, a chart, an export) is queued as its request, in the reply's row: the
        sender renders it in the worker pool when it delivers the reply."""
        if user.channel not in self.outbox_channels or not replies:
            return []
        key = users_store.user_key(user.channel, user.external_id)
        tag = f"{update[0]}:{update[1]}" if update else f"{key}:{dt.datetime.now(dt.UTC).timestamp()}"
        queued = []
        for i, reply in enumerate(replies):
            payload = self.reply_payload(reply, f"{tag}:{i}")
            outbox_id = outbox.enqueue(s, user, payload, dedup_key=f"reply:{tag}:{i}")
            if outbox_id is not None:
                queued.append(Queued(outbox_id, user.id, user.external_id, payload))
        return queued

    async def materialize(self, documents: tuple[Document | Deferred, ...]) -> list[Document]:
        """Render a reply's documents after its commit, off the event loop (channels call this)."""
        env = Env(self.today(), self.staff, self.catalogue)
        return await materialize(documents, self.db, self.renderer, env)

    def reply_payload(self, reply: Rendered, tag: str = "") -> dict[str, Any]:
        return reply_payload(reply, tag, self.documents_dir)

    def render(self, reply: Reply, lang: str, results: Results) -> Rendered:
        return render_reply(reply, lang, results)

    def decide(
        self,
        s: Session,
        channel: str,
        external_id: str,
        key: str,
        inp: Input,
        prepared: Prepared | None = None,
    ) -> tuple[User, EngineOutcome, Results]:
        """Load, run the engine (owner or staff), apply the effects, save the state. A report decided
        off the loop (``prepared``) only has its replies queued here."""
        user, saved, enterprise, n_dossiers = users_store.user_snapshot(s, channel, external_id)
        users_store.lock_user(s, user.id)
        if user.unreachable:  # they wrote to us: reachable again, even after blocking the bot once
            user.unreachable = False
        user.last_seen_at = utcnow()  # the Zalo OA's free-message window and the reminders count from it
        state = State.from_json(saved or {"lang": user.lang})
        report = prepared.report if prepared is not None else None
        if report is not None and report[0].state.lang == state.lang:
            outcome, results = report
            if channel in self.inline_channels:
                results.notifications = self.take_notifications(s, user, state.lang)
            return user, replace(outcome, state=state), results
        subscribers = prepared.subscribers if prepared is not None else None
        if inp.payload and inp.payload.startswith("/"):  # a button that stands for a command
            inp = Input(text=inp.payload)
        if inp.text.startswith("/programme_add\n"):  # the YAML pasted on the lines after the command
            inp = Input(text="/programme_add " + inp.text[len("/programme_add\n") :], file=inp.file)
        command = inp.command
        if command and command[0] == "/programme_add" and inp.file is not None:  # the YAML as a file
            command = (command[0], Path(inp.file.path).read_text(encoding="utf-8-sig", errors="replace"))
            inp = Input(text=inp.text)  # never an owner's attachment
        outcome: EngineOutcome | None = None
        refused: tuple[Effect, ...] = ()
        if command and command[0] == "/programmes" and self.staff.role(s, key)[0] == "owner":
            ctx = self.context(s, user, enterprise, n_dossiers)
            outcome = open_programmes(state, ctx)  # each programme a choice (issue 16)
        elif command and officer.is_staff_command(command[0]):
            role, agency = self.staff.role(s, key)
            if officer.allowed(command[0], role):
                octx = self.officer_context(s, key, role, agency, command[1])
                outcome = officer.handle(command[0], command[1], octx, state)
            else:  # the same answer as a typo, and an audit row of the attempt
                refused = (AuditRefused(inp.text.strip()[:200]),)
        elif workbench.concerns(
            command[0] if command else None,
            user.consent_at is not None and user.deleted_at is None,
            state.pending,
        ):
            role, agency = self.staff.role(s, key)  # officers and admins: their workbench, no consent screen
            if role != "owner":
                octx = self.officer_context(s, key, role, agency, subscribers=subscribers)
                state, outcome = workbench.route(state, inp, octx)
        if outcome is None:
            ctx = self.context(s, user, enterprise, n_dossiers, state.answers.get("tax_code"))
            outcome = owner_handle(state, inp, ctx)
        results = self.apply(s, user, key, (*refused, *outcome.effects), outcome.state.lang)
        if not results.forget:
            users_store.save_state(s, user.id, outcome.state.to_json(), exists=saved is not None)
            if user.lang != outcome.state.lang:
                user.lang = outcome.state.lang
            if channel in self.inline_channels:
                results.notifications = self.take_notifications(s, user, outcome.state.lang)
        return user, outcome, results

    def take_notifications(self, s: Session, user: User, lang: str) -> list[str]:
        texts = []
        for message in outbox.pending_for_user(s, user.id):
            texts.append(render_notification(message.payload, lang))
            outbox.mark_sent(s, message.id)
        return texts

    async def _apologise(self, channel: str, external_id: str, update: tuple[str, str] | None) -> Outcome:
        """A handler error never leaves the user in silence: sorry, and the question again.

        The failed transaction was rolled back, so the state is the one before the message. This one
        marks the update handled (a message that fails every time must not fail forever) and, for a
        pushed channel, queues the apology like any reply.
        """

        def work(s: Session) -> Outcome:
            if update is not None and not inbox.claim_update(s, *update):
                return Outcome(duplicate=True)
            user, saved, enterprise, n_dossiers = users_store.user_snapshot(s, channel, external_id)
            state = State.from_json(saved or {"lang": user.lang})
            lang = state.lang
            replies = [Rendered(t("error_apology", lang))]
            try:
                with s.begin_nested():
                    again = resume(state, self.context(s, user, enterprise, n_dossiers))
                replies += [self.render(r, lang, Results()) for r in again.replies]
            except Exception:
                log.exception("could not repeat the question to %s:%s", channel, external_id)
            return Outcome(replies, lang, queued=self.finish(s, user, replies, update))

        try:
            return await self.db.run(work)
        except Exception:
            log.exception("error while apologising to %s:%s", channel, external_id)
            return Outcome([Rendered(t("error_apology", "vi"))])

    def context(
        self,
        s: Session,
        user: User,
        enterprise: Enterprise | None,
        n_dossiers: int,
        answered_code: Any = None,
    ) -> Context:
        agencies = tuple(self.staff.agencies.values())
        return owner_context(
            s, user, enterprise, n_dossiers, self.today(), self.catalogue, agencies, answered_code
        )

    def apply(self, s: Session, user: User, key: str, effects: tuple[Effect, ...], lang: str) -> Results:
        """Run the effects, in order, in the message's transaction; nothing slow (see ``materialize``)."""
        ctx = Ctx(s, user, key, lang, Env(self.today(), self.staff, self.catalogue), Results())
        for effect in effects:
            run(effect, ctx)
        return ctx.results
