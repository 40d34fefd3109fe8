"""Client file names made safe to store and show.

The name an upload arrives with is the client's to choose: ``../../etc/passwd``, ``C:\\x\\y``,
NUL and other control characters, a right-to-left override that makes ``gpj.exe`` read as
``exe.jpg``, or a thousand characters. Files are stored by content hash, so the name never
reaches a path; it is kept only to be shown to people (review pages, lists, logs), and that is
where such names do harm. ``safe_filename`` keeps the last path component, drops characters
that are invisible or reorder text, and bounds the length, keeping the extension.
"""

from __future__ import annotations

import re
import unicodedata

MAX_BYTES = 255  # the usual file-system name limit, in UTF-8 bytes
FALLBACK = "upload"
# Characters Windows forbids in names; shown as "_" so a name never looks like a path or a drive.
_RESERVED = re.compile(r'[<>:"/\\|?*]')
_SPACES = re.compile(r"\s+")
# Device names Windows treats specially, whatever the extension.
_DEVICES = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def safe_filename(name: str | None) -> str:
    """A printable, single-component name of at most ``MAX_BYTES`` UTF-8 bytes, or ``upload``."""
    if not name:
        return FALLBACK
    name = unicodedata.normalize("NFC", name)
    # Drop control (Cc), format (Cf: bidi overrides, zero-width), surrogate (Cs), private-use
    # (Co) and unassigned (Cn) characters before splitting, so "a/\u202e/b" cannot hide a slash.
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = re.split(r"[/\\]", name)[-1]  # the last component of a POSIX or Windows path
    name = _RESERVED.sub("_", name)
    name = _SPACES.sub(" ", name).strip(" .")  # no leading dots (hidden files, "..")
    if not name:
        return FALLBACK
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or len(ext) > 16 or " " in ext:
        stem, ext = name, ""
    if stem.split(".")[0].upper() in _DEVICES:
        stem = "_" + stem
    suffix = f".{ext}" if ext else ""
    room = MAX_BYTES - len(suffix.encode())
    stem = stem.encode()[:room].decode("utf-8", "ignore").rstrip(" .") or FALLBACK
    return stem + suffix


# The type stored with an upload is the one its bytes were sniffed as, never the client's
# declared type: whatever later serves the file sends a type that matches its decoder.
MIME_TYPES = {
    "jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "tiff": "image/tiff",
    "bmp": "image/bmp", "heic": "image/heic", "pdf": "application/pdf", "ofd": "application/ofd",
}


__all__ = ["MAX_BYTES", "MIME_TYPES", "safe_filename"]
