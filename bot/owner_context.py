"""What the owner's side of the core is told before a step (:class:`conversations.context.Context`),
read from the store in the message's transaction; the officer's is built in :mod:`bot.staff`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from bot.effects.views import dossier_view, owner_history
from bot.news import news_of
from bot.store import dossiers as dossiers_store
from bot.store import users as users_store
from bot.store.models import Enterprise, User
from conversations.context import Context
from rules.agencies import Agency
from rules.catalogue import Catalogue
from rules.dossier import OPEN
from rules.usage import used_this_year


def owner_context(
    s: Session,
    user: User,
    enterprise: Enterprise | None,
    n_dossiers: int,
    today: dt.date,
    catalogue: Catalogue,
    agencies: tuple[Agency, ...],
    answered_code: Any = None,
) -> Context:
    """What the core needs to know before a step. The firm's year of support is counted by its tax code
    (the one being declared, else the saved one) across accounts and channels (TT06 Art. 3.5)."""
    dossiers = dossiers_store.dossiers_of(s, user.id) if n_dossiers else []
    open_ids = {i.item_id for d in dossiers if d.status in OPEN for i in d.items}
    tax_code = str(answered_code) if answered_code else enterprise.tax_code if enterprise else None
    received = (
        dossiers_store.received_this_year(s, user.id, tax_code, today.year) if n_dossiers or tax_code else []
    )
    used = used_this_year(received, today.year, catalogue)
    return Context(
        today=today,
        catalogue=catalogue,
        consented=user.consent_at is not None and user.deleted_at is None,
        saved_profile=dict(enterprise.profile) if enterprise and enterprise.profile else None,
        open_item_ids=frozenset(open_ids),
        used=used,
        dossiers=tuple(
            dossier_view(
                d,
                owner_history(
                    dossiers_store.events_of(s, d.id),
                    users_store.user_key(user.channel, user.external_id),
                ),
            )
            for d in dossiers
        ),
        agencies=agencies,
        news=news_of(s, user.id),
    )
