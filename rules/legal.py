"""Citations and bilingual texts: the two things every legal fact in the data carries."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Text(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    vi: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.vi


class Basis(BaseModel):
    """A legal citation: document, article, clause, point."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    document: str = Field(min_length=1)  # e.g. "ND80" (see DOCUMENTS) or a full number
    article: int | None = None
    clause: int | None = None
    point: str | None = None

    def cite(self, lang: str = "vi") -> str:
        doc = DOCUMENTS.get(self.document, Text(vi=self.document, en=self.document)).get(lang)
        parts: list[str] = []
        if lang == "en":
            if self.point:
                parts.append(f"point {self.point}")
            if self.clause is not None:
                parts.append(f"clause {self.clause}")
            if self.article is not None:
                parts.append(f"Art. {self.article}")
            return ", ".join([*parts, doc]) if parts else doc
        if self.point:
            parts.append(f"điểm {self.point}")
        if self.clause is not None:
            parts.append(f"khoản {self.clause}")
        if self.article is not None:
            parts.append(f"Điều {self.article}")
        text = " ".join(parts)
        if text:
            text = text[0].upper() + text[1:]
            return f"{text} {doc}"
        return doc


DOCUMENTS: dict[str, Text] = {
    "ND80": Text(vi="Nghị định 80/2021/NĐ-CP", en="Decree 80/2021/ND-CP"),
    "L04": Text(vi="Luật 04/2017/QH14", en="Law 04/2017/QH14"),
    "TT06": Text(vi="Thông tư 06/2022/TT-BKHĐT", en="Circular 06/2022/TT-BKHDT"),
    "ND20": Text(vi="Nghị định 20/2026/NĐ-CP", en="Decree 20/2026/ND-CP"),
    "ND45": Text(vi="Nghị định 45/2012/NĐ-CP", en="Decree 45/2012/ND-CP"),
    "ND235": Text(vi="Nghị định 235/2025/NĐ-CP", en="Decree 235/2025/ND-CP"),
    "ND13": Text(vi="Nghị định 13/2023/NĐ-CP", en="Decree 13/2023/ND-CP"),
    "TT06-A3.3-F1": Text(
        vi="Mẫu 1 Phụ lục 3.3 Thông tư 06/2022/TT-BKHĐT", en="Circular 06/2022/TT-BKHDT Annex 3.3, Form 1"
    ),
    "TT52": Text(vi="Thông tư 52/2023/TT-BTC", en="Circular 52/2023/TT-BTC"),
    "TT86": Text(vi="Thông tư 86/2024/TT-BTC", en="Circular 86/2024/TT-BTC"),
}
