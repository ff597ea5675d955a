"""The store's functions by aggregate: users, dossiers, privacy, officers (and inbox, outbox, programmes in
their own modules). Callers import the aggregate module; this name stays while callers move."""

from __future__ import annotations

from bot.store.dossiers import (  # noqa: F401
    ITEM_MONEY_KEYS,
    add_attachment,
    add_dossier,
    add_event,
    agency_dossiers,
    dossier_attachments,
    dossier_by_ref,
    dossiers_of,
    events_of,
    format_ref,
    last_event,
    move_dossier,
    next_dossier_ref,
    open_item_ids,
    received_this_year,
    unlinked_attachments,
)
from bot.store.officers import (  # noqa: F401
    add_officer,
    interests_of,
    list_officers,
    officer_of,
    remove_officer,
)
from bot.store.privacy import (  # noqa: F401
    RETAINED_STATUSES,
    dossier_statuses,
    erase_user,
    export_user_data,
)
from bot.store.users import (  # noqa: F401
    enterprise_of,
    get_or_create_user,
    load_state,
    lock_user,
    save_state,
    upsert_enterprise,
    user_by_key,
    user_key,
    user_snapshot,
)
