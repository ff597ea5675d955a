"""The attachment store: files the owners send, kept by checksum, with size and type limits.

A file's type is decided by its content, never by its name or by what the sender's phone declares: the
bytes must be one of the kinds a dossier needs (:data:`KINDS`: PDF, JPEG/PNG/WebP/HEIC images, Word,
Excel and PowerPoint documents, OpenDocument text, or a ZIP holding only those). Anything else is
refused: executables, scripts and web pages with a message that says so, office documents with macros,
and whatever is not recognised. Names are cleaned (no path, no control or direction characters, short)
and given the extension of what the file really is.

The signatures are checked here rather than with a library: the pure-Python ones (``filetype``,
``puremagic``) recognise Word and Excel 97-2003 files by bytes at fixed offsets (a real .doc can fail,
an .msi installer is the same container), cannot tell DOCX from PPTX by confidence, and look neither for
macros nor inside a ZIP. Reading the OLE directory and the ZIP index answers all of these.
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

from conversations.engine import FileInfo

NAME_CHARS = 80  # a cleaned name's length without its extension
ZIP_MEMBERS = 100  # at most this many files in a ZIP
ZIP_EXPANSION = 4  # a ZIP may unpack to at most this many times the size limit (no zip bombs)


@dataclass(frozen=True)
class Kind:
    extension: str
    mime: str


KINDS = {
    "pdf": Kind("pdf", "application/pdf"),
    "jpeg": Kind("jpg", "image/jpeg"),
    "png": Kind("png", "image/png"),
    "webp": Kind("webp", "image/webp"),
    "heic": Kind("heic", "image/heic"),
    "docx": Kind("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": Kind("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "pptx": Kind("pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    "doc": Kind("doc", "application/msword"),
    "xls": Kind("xls", "application/vnd.ms-excel"),
    "odt": Kind("odt", "application/vnd.oasis.opendocument.text"),
    "zip": Kind("zip", "application/zip"),
}
# the same kind under another usual extension: a name keeps it
ALIASES = {"jpg": ("jpg", "jpeg", "jpe", "jfif"), "heic": ("heic", "heif")}

HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# the content of things that run or render: refused whatever their name
EXECUTABLE_MAGIC = (
    b"MZ",  # Windows .exe, .dll, .scr
    b"\x7fELF",  # Linux
    b"\xcf\xfa\xed\xfe",  # macOS (Mach-O 64)
    b"\xce\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",  # macOS universal, Java class
    b"#!",  # scripts
    b"dex\n",  # Android
)
MARKUP = re.compile(rb"<\s*(!doctype\s+html|html|script|svg|\?xml|body|head|iframe|object|meta)\b", re.I)
SCRIPT_WORDS = re.compile(
    rb"^\s*(@echo|echo |set |powershell|import |function |var |const |let |<\?php|sub |dim |on error)", re.I
)
UNSAFE_CHARS = re.compile(r'[\\/:*?"<>|]+')
EXTENSION = re.compile(r"[A-Za-z][A-Za-z0-9]{0,9}")


class Refused(ValueError):
    """The file cannot be kept; ``code`` is a locale key suffix (``file.refused.<code>``)."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def clean_name(name: str, extension: str | None = None) -> str:
    """A file name safe to store and to show back: the last path part, no control, format or direction
    characters, no characters a file system forbids, at most :data:`NAME_CHARS` before the extension.
    With ``extension`` (what the content is) it ends with it, unless it has an alias of it already."""
    base = re.split(r"[\\/]", unicodedata.normalize("NFC", name or ""))[-1]
    kept = (" " if ch.isspace() or unicodedata.category(ch)[0] == "Z" else ch for ch in base)
    base = "".join(ch for ch in kept if unicodedata.category(ch)[0] != "C")  # control, format, bidi
    base = " ".join(UNSAFE_CHARS.sub("_", base).split()).strip(" .")
    stem, dot, suffix = base.rpartition(".")
    if not dot or not EXTENSION.fullmatch(suffix):  # "báo giá v1.2": a name, not a type
        stem, suffix = base, ""
    stem = stem[:NAME_CHARS].rstrip(" .") or "tep"
    if extension is None:
        return f"{stem}.{suffix}" if suffix else stem
    if suffix.lower() in ALIASES.get(extension, (extension,)):
        return f"{stem}.{suffix.lower()}"
    return f"{stem}.{extension}"


def _looks_unsafe(content: bytes) -> bool:
    head = content[:1024].lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n")
    if head.startswith(EXECUTABLE_MAGIC):
        return True
    return bool(MARKUP.search(head[:512])) or bool(SCRIPT_WORDS.match(head))


def _ole_streams(content: bytes) -> set[str]:
    """The names in an OLE compound file's directory (Word 97-2003, Excel 97-2003, MSI...)."""
    if len(content) < 512:
        return set()
    sector_size = 1 << struct.unpack_from("<H", content, 30)[0]
    if sector_size not in (512, 4096):
        return set()
    first_dir = struct.unpack_from("<i", content, 48)[0]
    fat_sectors = [s for s in struct.unpack_from("<109i", content, 76) if s >= 0]

    def sector(n: int) -> bytes:
        start = (n + 1) * sector_size
        return content[start : start + sector_size]

    fat: list[int] = []
    for n in fat_sectors:
        block = sector(n)
        fat.extend(struct.unpack(f"<{len(block) // 4}i", block[: len(block) // 4 * 4]))
    names: set[str] = set()
    n, seen = first_dir, set[int]()
    while 0 <= n < len(fat) and n not in seen and len(seen) < 4096:
        seen.add(n)
        block = sector(n)
        for offset in range(0, len(block) - 127, 128):
            length = struct.unpack_from("<H", block, offset + 64)[0]
            if 2 <= length <= 64:
                names.add(block[offset : offset + length - 2].decode("utf-16-le", "replace"))
        n = fat[n]
    return names


def _ole_kind(content: bytes) -> str:
    names = _ole_streams(content)
    if names & {"Macros", "_VBA_PROJECT_CUR", "VBA"}:
        return "macro"
    if "WordDocument" in names:
        return "doc"
    if names & {"Workbook", "Book"}:
        return "xls"
    return "unknown"


def _zip_kind(archive: zipfile.ZipFile) -> str:
    names = set(archive.namelist())
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        return "macro"
    if "[Content_Types].xml" in names:
        for part, kind in (("word/document.xml", "docx"), ("xl/workbook.xml", "xlsx")):
            if part in names:
                return kind
        return "pptx" if "ppt/presentation.xml" in names else "unknown"
    if "mimetype" in names:
        declared = archive.read("mimetype")[:100].strip()
        return "odt" if declared == KINDS["odt"].mime.encode() else "unknown"
    return "zip"


@dataclass(frozen=True)
class AttachmentStore:
    root: Path
    max_bytes: int
    # the kinds this store takes, by the MIME type of the content (default: all of KINDS)
    allowed_mime_prefixes: tuple[str, ...] = ("",)

    def check(self, name: str, mime: str, size: int) -> None:
        """What can be refused before downloading: the size the platform announces."""
        shown = clean_name(name)
        if size <= 0:
            raise Refused("empty", name=shown)
        if size > self.max_bytes:
            raise Refused("too_big", name=shown, max_mb=self.max_bytes // (1024 * 1024))

    def kind_of(self, content: bytes, name: str, nested: bool = False) -> Kind:
        """What the content is, if it is a kind this store takes; else :class:`Refused`."""
        try:
            kind = self._sniff(content, name, nested)
        except (zipfile.BadZipFile, struct.error, KeyError, EOFError, NotImplementedError, RuntimeError):
            kind = "unknown"  # a damaged or unreadable container is not a document we can check
        if kind in ("unknown", "macro"):
            code = "unsafe" if kind == "unknown" and _looks_unsafe(content) else kind
            raise Refused(code, name=clean_name(name))
        found = KINDS[kind]
        if kind != "zip" and not any(found.mime.startswith(p) for p in self.allowed_mime_prefixes):
            raise Refused("unknown", name=clean_name(name))
        return found

    def _sniff(self, content: bytes, name: str, nested: bool) -> str:
        head = content[:1024]
        if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"%PDF-"):
            return "pdf"
        if b"%PDF-" in head and not _looks_unsafe(content):  # readers allow bytes before the header
            return "pdf"
        if content.startswith(b"\xff\xd8\xff"):
            return "jpeg"
        if content.startswith(b"\x89PNG\r\n\x1a\n"):
            return "png"
        if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
            return "webp"
        if content[4:8] == b"ftyp" and content[8:12] in HEIF_BRANDS:
            return "heic"
        if content.startswith(OLE_MAGIC):
            return _ole_kind(content)
        if not content.startswith(b"PK\x03\x04"):
            return "unknown"
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            kind = _zip_kind(archive)
            if kind == "zip":
                if nested:
                    raise Refused("archive_unreadable", name=clean_name(name))
                self._check_members(archive, name)
            return kind

    def _check_members(self, archive: zipfile.ZipFile, name: str) -> None:
        """A ZIP is taken when every file in it is: read with a cap, not trusting the sizes it declares."""
        members = [m for m in archive.infolist() if not m.is_dir()]
        budget = self.max_bytes * ZIP_EXPANSION
        if not members or len(members) > ZIP_MEMBERS or any(m.flag_bits & 0x1 for m in members):
            raise Refused("archive_unreadable", name=clean_name(name))
        for member in members:
            with archive.open(member) as handle:
                data = handle.read(min(budget, self.max_bytes) + 1)
            budget -= len(data)
            if budget < 0 or len(data) > self.max_bytes:
                raise Refused("archive_unreadable", name=clean_name(name))
            try:
                self.kind_of(data, member.filename, nested=True)
            except Refused as refused:
                if refused.code == "archive_unreadable":
                    raise Refused("archive_unreadable", name=clean_name(name)) from refused
                raise Refused(
                    "archive", name=clean_name(name), member=clean_name(member.filename)
                ) from refused

    def keep_programme(self, name: str, content: bytes) -> FileInfo:
        """An officer's programme file (``/programme_add``, issue 16): YAML text, not a document kind, so
        only a ``.yaml``/``.yml`` name, UTF-8 text without control characters, within the size limit."""
        self.check(name, "application/yaml", len(content))
        shown = clean_name(name)
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise Refused("programme_text", name=shown) from None
        if not name.lower().endswith((".yaml", ".yml")) or any(
            ord(ch) < 32 and ch not in "\n\r\t" for ch in text
        ):
            raise Refused("programme_text", name=shown)
        digest = hashlib.sha256(content).hexdigest()
        folder = self.root / digest[:2]
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{digest}.yaml"
        if not path.exists():
            tmp = path.with_suffix(".yaml.part")
            tmp.write_bytes(content)
            tmp.replace(path)
        return FileInfo(
            name=shown, mime="application/yaml", size_bytes=len(content), sha256=digest, path=str(path)
        )

    def keep(self, name: str, content: bytes, mime: str | None = None) -> FileInfo:
        """Store a file the user sent (``mime``, what their app declared, is not trusted)."""
        self.check(name, mime or "", len(content))
        kind = self.kind_of(content, name)
        digest = hashlib.sha256(content).hexdigest()
        folder = self.root / digest[:2]
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{digest}.{kind.extension}"
        if not path.exists():
            tmp = path.with_suffix(path.suffix + ".part")
            tmp.write_bytes(content)
            tmp.replace(path)
        return FileInfo(
            name=clean_name(name, kind.extension),
            mime=kind.mime,
            size_bytes=len(content),
            sha256=digest,
            path=str(path),
        )
