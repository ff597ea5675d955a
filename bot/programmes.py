"""The live catalogue (issue 16): the shipped programmes plus the published ones officers sent, rebuilt
after a publish or a close commits; and the officers' view of every programme with its use."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.orm import Session

from bot.staff import Staff
from bot.store import programmes as store
from bot.store.models import StoredProgramme
from conversations.officer.context import ProgrammeRecord
from conversations.officer.programmes import covers
from rules.catalogue import Catalogue, CatalogueError, Programme, parse_programme


def parsed(row: StoredProgramme) -> Programme:
    return parse_programme(row.yaml_text, f"{row.programme_id} v{row.version}")


def live_catalogue(shipped: Catalogue, rows: list[StoredProgramme]) -> Catalogue:
    """Shipped + published. A stored programme with a shipped id never shadows it (refused when sent;
    skipped here too, should one be in the table), nor one whose ids clash with the catalogue."""
    out = shipped
    for row in rows:
        if row.programme_id in shipped.programmes:
            continue
        try:
            out = Catalogue([*out.programmes.values(), parsed(row)], shipped.evidence, shipped.contents)
        except CatalogueError:
            continue  # checked at publication; a programme that no longer fits stays out
    return out


def live_staff(staff: Staff, rows: list[StoredProgramme], catalogue: Catalogue) -> Staff:
    """Dossiers of a published programme go to the agency that sent it (or, sent by an admin, to every
    agency whose area covers its region)."""
    agencies = dict(staff.agencies)
    for row in rows:
        if row.programme_id not in catalogue.programmes:
            continue
        region = catalogue.programmes[row.programme_id].region
        for agency_id, agency in staff.agencies.items():
            if (row.agency_id == agency_id) or (row.agency_id is None and covers(agency, region)):
                current = agencies[agency_id]
                agencies[agency_id] = replace(current, programmes=current.programmes | {row.programme_id})
    return replace(staff, agencies=agencies)


def records(s: Session, shipped: Catalogue) -> tuple[ProgrammeRecord, ...]:
    """Every programme an officer can list: the shipped ones, then the stored ones (newest version)."""
    used = store.usage(s)
    live = {row.programme_id: row.version for row in store.published(s)}
    out = [
        ProgrammeRecord(p, "shipped", used_vnd=used.get(pid, (0, 0))[0], dossiers=used.get(pid, (0, 0))[1])
        for pid, p in shipped.programmes.items()
    ]
    for row in store.latest(s):
        if row.programme_id in shipped.programmes:
            continue
        pid = row.programme_id
        out.append(
            ProgrammeRecord(
                parsed(row),
                row.status,
                version=row.version,
                live_version=live.get(pid),
                agency_id=row.agency_id,
                used_vnd=used.get(pid, (0, 0))[0],
                dossiers=used.get(pid, (0, 0))[1],
            )
        )
    return tuple(out)
