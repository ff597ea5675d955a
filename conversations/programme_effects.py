"""The effects of the programme commands (issue 16), members of :data:`conversations.effects.Effect`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProgrammeDraft:
    """Store a programme an officer sent as a new draft version (validated by the core already)."""

    programme_id: str
    yaml_text: str
    agency_id: str | None  # the agency of the officer who sent it; None for an admin


@dataclass(frozen=True)
class ProgrammeStatus:
    """Publish or close one version of a stored programme, audited; the live catalogue is rebuilt after
    the commit."""

    programme_id: str
    version: int
    status: str  # published | closed
    before: str
