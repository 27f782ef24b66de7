"""What the bytes are: the media type from a file's first bytes, the types each kind of
file may be, and the words for a body that is no media (an HTML page, JSON)."""

from __future__ import annotations


def sniff(head: bytes) -> str | None:
    """The media type from the first bytes: mp4, jpeg, png, webp, gif, heic, avif, mp3, webm.

    ``None`` for anything else (an HTML error page, JSON, ...).
    """
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"mif1", b"msf1"):
            return "heic"
        if brand in (b"avif", b"avis"):
            return "avif"
        if brand in (b"M4A ", b"M4B "):
            return "m4a"
        return "mp4"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith(b"ID3") or (len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"
    return None


EXTENSIONS = {"mp4": ".mp4", "jpeg": ".jpg", "png": ".png", "webp": ".webp", "gif": ".gif",
              "heic": ".heic", "avif": ".avif", "mp3": ".mp3", "m4a": ".m4a", "webm": ".webm"}
WANTED = {
    "video": {"mp4", "webm"},
    "image": {"jpeg", "png", "webp", "gif", "heic", "avif"},
    "audio": {"mp3", "m4a", "mp4"},
}


def describe_bytes(head: bytes) -> str:
    text = head.lstrip()[:1]
    if text == b"<":
        return "an HTML page"
    if text in (b"{", b"["):
        return "a JSON document"
    return "not a media file"
