"""The attachment store: files the owners send, kept by checksum, with size and type limits."""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from conversations.engine import FileInfo


class Refused(ValueError):
    """The file cannot be kept; ``code`` is a locale key suffix (``file.refused.<code>``)."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class AttachmentStore:
    root: Path
    max_bytes: int
    allowed_mime_prefixes: tuple[str, ...]

    def check(self, name: str, mime: str, size: int) -> None:
        if size <= 0:
            raise Refused("empty", name=name)
        if size > self.max_bytes:
            raise Refused("too_big", name=name, max_mb=self.max_bytes // (1024 * 1024))
        if not any(mime.startswith(prefix) for prefix in self.allowed_mime_prefixes):
            raise Refused("type", name=name, mime=mime)

    def keep(self, name: str, content: bytes, mime: str | None = None) -> FileInfo:
        mime = mime or mimetypes.guess_type(name)[0] or "application/octet-stream"
        self.check(name, mime, len(content))
        digest = hashlib.sha256(content).hexdigest()
        folder = self.root / digest[:2]
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{digest}{Path(name).suffix.lower()}"
        if not path.exists():
            tmp = path.with_suffix(path.suffix + ".part")
            tmp.write_bytes(content)
            tmp.replace(path)
        return FileInfo(
            name=Path(name).name, mime=mime, size_bytes=len(content), sha256=digest, path=str(path)
        )
