"""What the core asks the shell to do, in the transaction that saves the new state: one frozen dataclass
per kind of effect, and :data:`Effect`, their union. The shell runs each with a runner registered for its
type (``bot/effects/``); a kind the shell does not know is a type error here, not a missing key there.

Values are plain (str, int, mappings of JSON-like data): an effect says what to do, never how.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from conversations.broadcast_effects import (
    CancelBroadcast,
    ChooseTopics,
    StartBroadcast,
    Subscribe,
    Unsubscribe,
)
from conversations.messages import Msg
from conversations.programme_effects import ProgrammeDraft, ProgrammeStatus

# --- the owner ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordConsent:
    version: str
    lang: str


@dataclass(frozen=True)
class DeclineConsent:
    """No consent: nothing kept but what addresses the answer."""


@dataclass(frozen=True)
class SaveProfile:
    profile: Mapping[str, Any]


@dataclass(frozen=True)
class FileDossier:
    """One dossier for one agency: the journey's data with the items routed to it."""

    data: Mapping[str, Any]
    agency_id: str | None


@dataclass(frozen=True)
class AttachFile:
    """A file the owner sent (already stored by the channel), for ``ref`` or kept for the next dossier."""

    name: str
    mime: str
    size_bytes: int
    sha256: str
    path: str
    ref: str | None


@dataclass(frozen=True)
class AnswerRequest:
    """The owner's file or words answer the officer's open request for documents on ``ref``."""

    ref: str
    note: str


@dataclass(frozen=True)
class OwnerMessage:
    """What the owner wrote about an open dossier, for its officer."""

    ref: str
    text: str


@dataclass(frozen=True)
class ExportMyData:
    """Everything kept about the owner, as a file (attached as ``mydata``)."""


@dataclass(frozen=True)
class EraseMe:
    """Everything about the owner goes, but what the law keeps."""


@dataclass(frozen=True)
class Withdraw:
    ref: str


@dataclass(frozen=True)
class DossierDocument:
    """The dossier's documents (DOCX, HTML) with the reply (attached as ``dossier``); ``for_staff``: an
    officer reads them (a channel that cannot send files tells them where else to open it)."""

    ref: str
    for_staff: bool = False


# --- officers ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transition:
    """A status move on the one state machine, with the optimistic version check and the owner told."""

    ref: str
    dossier_id: int
    version: int
    action: str  # claim | ask | approve | reject
    from_status: str
    to_status: str
    notify_key: str
    notify_params: Mapping[str, Any]
    done: Msg  # what the officer reads when the move is made
    note: str | None = None
    approvals: Mapping[str, int] | None = None  # item id -> approved amount (approve)
    request: Mapping[str, Any] | None = None  # the request for documents, as stored (ask)


@dataclass(frozen=True)
class Note:
    ref: str
    dossier_id: int
    note: str


@dataclass(frozen=True)
class AuditRefused:
    """A staff command from someone not allowed it: answered like a typo, audited."""

    command: str


@dataclass(frozen=True)
class AuditConflict:
    """An officer was refused a decision on a dossier they are recorded against."""

    dossier_id: int
    ref: str
    action: str
    reason: str
    who: str | None = None  # the officer concerned, when not the one who asked (a reassignment)


@dataclass(frozen=True)
class Reassign:
    ref: str
    dossier_id: int
    version: int
    from_officer: str | None
    to_officer: str
    status: str
    new_status: str


@dataclass(frozen=True)
class SendFiles:
    """The dossier's attachments as files (attached as ``files``)."""

    ref: str
    dossier_id: int


@dataclass(frozen=True)
class Assign:
    """A file proves a checklist item."""

    dossier_id: int
    attachment_id: int
    evidence_id: str
    before: str | None
    number: int


@dataclass(frozen=True)
class OfficerAdd:
    user_key: str
    agency_id: str


@dataclass(frozen=True)
class OfficerRemove:
    user_key: str


@dataclass(frozen=True)
class Chart:
    """The year's dossiers per status as a picture (attached as ``chart``), rendered after the commit."""

    title_key: str
    year: int
    series: tuple[tuple[str, int], ...] = field(default_factory=tuple)  # status -> count, in order


@dataclass(frozen=True)
class Export:
    """The year's plan tables and dossier list (attached as ``export``), rendered after the commit."""

    year: int


Effect = (
    RecordConsent
    | DeclineConsent
    | SaveProfile
    | FileDossier
    | AttachFile
    | AnswerRequest
    | OwnerMessage
    | ExportMyData
    | EraseMe
    | Withdraw
    | DossierDocument
    | Transition
    | Note
    | AuditRefused
    | AuditConflict
    | Reassign
    | SendFiles
    | Assign
    | OfficerAdd
    | OfficerRemove
    | Chart
    | Export
    | ProgrammeDraft
    | ProgrammeStatus
    | Subscribe
    | ChooseTopics
    | Unsubscribe
    | StartBroadcast
    | CancelBroadcast
)
