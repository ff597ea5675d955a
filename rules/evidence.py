"""Which evidence a dossier's checklist asks of this owner (TT06 Art. 3.3, 14, 16, 17; ND80 Art. 4.1):
a priority proof only for the priority declared, the provider's quote only when there is one."""

from __future__ import annotations

from collections.abc import Collection, Iterable

#: Evidence a dossier needs only when the owner declared what it proves (TT06 Art. 3.3, 14, 16, 17; ND80
#: Art. 4.1): no social-enterprise proof for a firm that said it is not one.
PROOF_OF_FLAG = {
    "women_ownership_proof": "women_owned",
    "female_workers_proof": "many_female_workers",
    "social_enterprise_proof": "social_enterprise",
    "startup_evidence": "startup",
    "cluster_evidence": "cluster",
    "value_chain_evidence": "value_chain",
    "disadvantaged_area_proof": "disadvantaged_area",
}
#: The form smebot writes itself (the dossier document): provided with the dossier, never missing.
PROVIDED_BY_BOT = frozenset({"declaration_form"})


def required_evidence(evidence: Iterable[str], flags: Collection[str], quote: bool) -> list[str]:
    """What this owner's answers require of a checklist: a priority proof only for the flag declared, the
    provider's quote only when the owner said there is one, each once, in order."""
    out: list[str] = []
    for evidence_id in evidence:
        if evidence_id in out:
            continue
        if evidence_id in PROOF_OF_FLAG and PROOF_OF_FLAG[evidence_id] not in flags:
            continue
        if evidence_id == "provider_quote" and not quote:
            continue
        out.append(evidence_id)
    return out
