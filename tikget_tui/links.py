"""Pasted text → targets (profiles, posts, short links), or one clear ``ParseError``.

Pure input parsing: no network, no textual. :func:`parse` accepts what people
paste from the TikTok app or a browser, with or without the text around it.

Accepted shapes (with or without ``https://``/``http://``, any host case,
trailing slash, share query strings such as ``_r``/``_t``/``is_from_webapp``/
``sender_device``/``lang``, and fragments, all ignored):

========================================================  =========================
``@user``, ``user``, ``www.tiktok.com/@user``              ``UserTarget("user")``
``www.tiktok.com/@user/stories``, ``.../@user/posts``       ``UserTarget("user")``
``12345678`` (8-24 ASCII digits)                           ``UserTarget("ID", "ID")``
``www.tiktok.com/share/user/ID``                           ``UserTarget(None, "ID")``
``www.tiktok.com/@user/video/ID``                          ``PostTarget("ID", "user")``
``www.tiktok.com/@user/photo/ID``                          ``PostTarget(.., "photo")``
``www.tiktok.com/@user/story/ID``                          ``PostTarget("ID", "user")``
``www.tiktok.com/@/video/ID``                              ``PostTarget("ID")``
``www.tiktok.com/@MS4wLjABAAAA.../video/ID`` (internal id) ``PostTarget("ID")``
``www.tiktok.com/share/video/ID``, ``www.tiktokv.com/...`` ``PostTarget("ID")``
``m.tiktok.com/v/ID.html``                                 ``PostTarget("ID")``
``www.tiktok.com/embed/ID``, ``/embed/v2/ID``              ``PostTarget("ID")``
``vm.tiktok.com/CODE``, ``vt.tiktok.com/CODE``             ``ShortLink("CODE", "vm"|"vt")``
``www.tiktok.com/t/CODE``                                  ``ShortLink("CODE", "t")``
========================================================  =========================

Web paths are accepted on ``www.tiktok.com``, ``tiktok.com`` and
``m.tiktok.com``; with a custom :class:`~tikget_tui.service.Service` origin
(the demo, the tests) the same paths are accepted on exactly that host and port.

Rules worth knowing:

- Usernames are 2-24 ASCII letters, digits, ``_`` and ``.``, not ending in
  ``.`` (TikTok's own rule); they are case-insensitive and normalised to
  lower case.
- A bare token of ASCII digits only is ambiguous: 8-24 digits is a username
  first and else a numeric author id (``UserTarget("ID", "ID")``: the client
  looks the profile page up and falls back to the id when no such user
  exists), 2-7 digits a username. ``@12345678`` is always a username (all-digit
  handles exist; the profile page gives its id), ``/share/user/ID`` always an id.
- A bare word ending in a common domain ending (``tiktok.com``,
  ``nottiktok.com``) is read as a link, not a username; write ``@name.com`` to
  force a username.
- Several targets may be pasted at once, separated by spaces, commas,
  semicolons or new lines. When the paste holds at least one link or
  ``@handle``, other words are prose and ignored; when it holds only bare
  words, each must be a valid username (or author id), else the error names it.
- Duplicates are removed keeping the first position (a post is the same post
  whichever link shape named it; the first one carrying a username wins).
- A mistyped scheme (``https:/www.tiktok.com/...``) is reported as a malformed link.
- Refused: other hosts (look-alikes included), user info before the host
  (``https://www.tiktok.com@evil.example/``), non-ASCII hosts, backslashes,
  control and bidi-override characters, more than 10,000 characters or 200
  targets, and TikTok links that are neither a profile, a post nor a short link.

``parse`` raises only :class:`ParseError` for any ``str``; a non-``str``
argument raises ``TypeError`` (a programming error, not user input).
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import unquote, urlsplit

from tikget_tui.service import Service

MAX_INPUT_CHARS = 10_000
MAX_TARGETS = 200

USERNAME_MIN, USERNAME_MAX = 2, 24
USER_ID_MIN_DIGITS, USER_ID_MAX_DIGITS = 8, 24
POST_ID_MAX_DIGITS = 32

WEB_HOSTS = frozenset({"www.tiktok.com", "tiktok.com", "m.tiktok.com"})
SHARE_HOSTS = frozenset({"www.tiktokv.com", "tiktokv.com"})
SHORT_HOSTS = {"vm.tiktok.com": "vm", "vt.tiktok.com": "vt"}

ACCEPTED_SHAPES = (
    "@user, https://www.tiktok.com/@user, .../@user/video/ID or https://vm.tiktok.com/CODE"
)
EMPTY_MESSAGE = "paste a story/post link or a @username"

_USERNAME_RE = re.compile(r"[a-z0-9_.]{2,24}", re.ASCII)
_DIGITS_RE = re.compile(r"[0-9]+", re.ASCII)
_POST_ID_RE = re.compile(r"[0-9]{1,32}", re.ASCII)
_CODE_RE = re.compile(r"[A-Za-z0-9_-]{2,32}", re.ASCII)
_EMBED_VERSION_RE = re.compile(r"v[0-9]{1,2}", re.ASCII)
_SEPARATORS_RE = re.compile(r"[\s,;，；、]+")
_SCHEME_RE = re.compile(r"https?://", re.IGNORECASE)
_ANY_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
# "https:/host", "https:host", "https:///host", "https//host": a scheme mistyped
_MANGLED_SCHEME_RE = re.compile(r"https?(?::/?(?!/)|:///+|//)(?=\S)", re.IGNORECASE)
# TikTok's internal account id (secUid, "MS4wLjABAAAA..."), which some links (sponsored
# videos) carry in the author slot: longer than any username, base64url characters only
_INTERNAL_ID_RE = re.compile(r"[A-Za-z0-9_-]{25,200}", re.ASCII)
# The part of a scheme-less token before its first "/" that makes it a link.
# The last label of a domain starts with a letter (so "3.5/5" stays prose).
_HOSTLIKE_RE = re.compile(
    r"(?:(?:[\w-]+\.)+[^\W\d_][\w-]*\.?|[0-9]{1,3}(?:\.[0-9]{1,3}){3}|localhost"
    r"|\[[0-9A-Fa-f:.]+\])(?::[0-9]*)?"
)
# A slash-less bare word that is a domain, not a username (e.g. "tiktok.com").
_DOMAIN_WORD_RE = re.compile(
    r"[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|co|io|app|me|tv|us|eu|uk|ru|cn|info|biz|xyz"
    r"|link|ly|gl|page|site|online|example)\.?",
    re.IGNORECASE,
)
_LEADING_PUNCT = "\"'`([{<«“‘‹「『*~"
_TRAILING_PUNCT = "\"'`)]}>»”’›」』.,!?:;…*~"
# Invisible characters that pasted text carries harmlessly: treated as spaces.
_INVISIBLE_SEPARATORS = {"\u200b", "\ufeff", "\u2060", "\u00ad"}
_ALLOWED_CONTROLS = {"\t", "\n", "\r"}


class ParseError(ValueError):
    """Text that names no usable target; ``str()`` is one line saying what to do."""


@dataclass(frozen=True)
class UserTarget:
    """A creator, by ``@username`` (lower case) or by numeric author id."""

    username: str | None
    user_id: str | None = None

    @property
    def either(self) -> bool:
        """A bare number: a username first, else the author id (both fields hold it)."""
        return self.username is not None and self.username == self.user_id

    @property
    def display(self) -> str:
        if self.username and not self.either:
            return "@" + self.username
        return self.user_id or ""

    @property
    def path(self) -> str:
        """The profile page path on the web origin (an all-digit id works there too)."""
        return "/@" + (self.username or self.user_id or "")


@dataclass(frozen=True)
class PostTarget:
    """One post (a story is a post too), by id; the username when the link had one."""

    post_id: str
    username: str | None = None
    kind: Literal["video", "photo"] | str = "video"
    origin: str = field(default="", compare=False, repr=False)
    """The custom service origin the link was on (the demo), for display only."""

    @property
    def path(self) -> str:
        """The canonical post page path on the web origin."""
        kind = "photo" if self.kind == "photo" else "video"
        return f"/@{self.username or ''}/{kind}/{self.post_id}"

    @property
    def display(self) -> str:
        return (self.origin or "https://www.tiktok.com") + self.path


@dataclass(frozen=True)
class ShortLink:
    """A share short link; resolving it (one redirect) is the client's job."""

    code: str
    host_kind: Literal["vm", "vt", "t"] | str
    origin: str = field(default="", compare=False, repr=False)
    """The custom service origin the link was on (the demo), for display only."""

    @property
    def display(self) -> str:
        if self.origin:
            return f"{self.origin}/t/{self.code}"
        if self.host_kind in ("vm", "vt"):
            return f"{self.host_kind}.tiktok.com/{self.code}"
        return f"www.tiktok.com/t/{self.code}"


Target = UserTarget | PostTarget | ShortLink


def _show(token: str, limit: int = 60) -> str:
    """A token quoted for an error message: one line, bounded length."""
    if len(token) > limit:
        token = token[: limit - 1] + "…"
    return repr(token)


def is_valid_username(name: str) -> bool:
    """TikTok's rule: 2-24 ASCII letters, digits, ``_`` or ``.``, not ending in ``.``."""
    return (
        name.isascii() and bool(_USERNAME_RE.fullmatch(name.lower())) and not name.endswith(".")
    )


def _username_error(token: str) -> ParseError:
    return ParseError(
        f"{_show(token)} is not a valid TikTok username: use 2-24 letters, digits, '_' or '.'"
        f" (not ending in '.'), or paste a link like {ACCEPTED_SHAPES}"
    )


def _check_characters(text: str) -> str:
    """Refuse control/format characters; turn harmless invisible ones into spaces."""
    out: list[str] = []
    for pos, ch in enumerate(text):
        if ch in _INVISIBLE_SEPARATORS:
            out.append(" ")
            continue
        cat = unicodedata.category(ch)
        if (cat == "Cc" and ch not in _ALLOWED_CONTROLS) or cat in ("Cf", "Cs"):
            raise ParseError(
                f"the text has an invisible control character (U+{ord(ch):04X}) at position"
                f" {pos + 1}; paste plain text with links or @usernames only"
            )
        out.append(ch)
    return "".join(out)


def _strip_punctuation(token: str) -> str:
    token = token.lstrip(_LEADING_PUNCT)
    token = token.rstrip(_TRAILING_PUNCT)
    # a link pasted with text glued before it, e.g. "[here](https://...)"
    m = _SCHEME_RE.search(token)
    if m and m.start() > 0:
        token = token[m.start() :]
    return token


def _looks_like_link(token: str) -> bool:
    if _MANGLED_SCHEME_RE.match(token):
        return True
    if _ANY_SCHEME_RE.match(token) or token.startswith("//"):
        return True
    if "/" in token:
        return bool(_HOSTLIKE_RE.fullmatch(token.split("/", 1)[0]))
    return bool(_DOMAIN_WORD_RE.fullmatch(token))


def _parse_username(token: str, *, original: str) -> str:
    if not is_valid_username(token):
        raise _username_error(original)
    return token.lower()


def _parse_bare_word(token: str) -> UserTarget:
    if _DIGITS_RE.fullmatch(token) and len(token) >= USER_ID_MIN_DIGITS:
        if len(token) > USER_ID_MAX_DIGITS:
            raise ParseError(
                f"{_show(token)} is too long for a TikTok author id ({USER_ID_MAX_DIGITS} digits"
                " at most); paste a @username or a profile link instead"
            )
        return UserTarget(username=token, user_id=token)  # a username first, else an id
    return UserTarget(_parse_username(token, original=token))


def _default_port(scheme: str) -> int:
    return 80 if scheme == "http" else 443


def _not_a_page(shown: str) -> ParseError:
    return ParseError(
        f"{_show(shown)} is a TikTok link but not a profile, post or short link;"
        f" paste {ACCEPTED_SHAPES}"
    )


def _post_id(segment: str, shown: str) -> str:
    if not _POST_ID_RE.fullmatch(segment):
        raise ParseError(
            f"{_show(shown)} has no valid post id (expected digits, got {_show(segment, 30)});"
            " copy the link again from TikTok's Share button"
        )
    return segment


def _parse_web_path(segments: list[str], shown: str) -> Target:
    """Paths served by www.tiktok.com (and by a custom service origin)."""
    if not segments:
        raise _not_a_page(shown)
    first, rest = segments[0], segments[1:]
    lowered = [s.lower() for s in rest]
    if first.startswith("@"):
        name = first[1:]
        username: str | None = None
        if (name and _INTERNAL_ID_RE.fullmatch(name) and len(rest) == 2
                and lowered[0] in ("video", "photo", "story")):
            # the author slot holds TikTok's internal account id: the post id is enough
            kind = "photo" if lowered[0] == "photo" else "video"
            return PostTarget(_post_id(rest[1], shown), None, kind)
        if name:
            username = _parse_username(name, original=first)
        if not rest or lowered in (["stories"], ["story"], ["posts"]):
            if username is None:
                raise _not_a_page(shown)
            return UserTarget(username)
        if len(rest) == 2 and lowered[0] in ("video", "photo", "story"):
            kind = "photo" if lowered[0] == "photo" else "video"
            return PostTarget(_post_id(rest[1], shown), username, kind)
        raise _not_a_page(shown)
    head = first.lower()
    if head == "share" and len(lowered) == 2 and lowered[0] == "video":
        return PostTarget(_post_id(rest[1], shown))
    if head == "share" and len(lowered) == 2 and lowered[0] == "user":
        user_id = rest[1]
        if not _DIGITS_RE.fullmatch(user_id) or len(user_id) > USER_ID_MAX_DIGITS:
            raise ParseError(f"{_show(shown)} has no valid author id; paste a @username instead")
        return UserTarget(username=None, user_id=user_id)
    if head == "v" and len(rest) == 1:
        ident = rest[0]
        if ident.lower().endswith(".html"):
            ident = ident[: -len(".html")]
        return PostTarget(_post_id(ident, shown))
    if head == "embed" and len(rest) == 1:
        return PostTarget(_post_id(rest[0], shown))
    if head == "embed" and len(rest) == 2 and _EMBED_VERSION_RE.fullmatch(lowered[0]):
        return PostTarget(_post_id(rest[1], shown))
    if head == "t" and len(rest) == 1:
        return _short_link(rest[0], "t", shown)
    raise _not_a_page(shown)


def _short_link(code: str, host_kind: str, shown: str) -> ShortLink:
    if not _CODE_RE.fullmatch(code):
        raise ParseError(
            f"{_show(shown)} is not a complete short link (the code should be letters and"
            " digits); copy the link again from TikTok's Share button"
        )
    return ShortLink(code, host_kind)


def _other_host(host: str, service: Service | None) -> ParseError:
    where = "www.tiktok.com, vm.tiktok.com or vt.tiktok.com"
    if service is not None and service.custom:
        where += f" (or the service at {service.netloc})"
    return ParseError(f"{_show(host)} is not a TikTok address; paste a link on {where}")


def _parse_link(token: str, service: Service | None) -> Target:
    shown = token
    if _MANGLED_SCHEME_RE.match(token):
        raise ParseError(
            f"{_show(shown)} is a malformed link (it should start with https://); copy the"
            " link again from TikTok's Share button"
        )
    if "\\" in token:
        raise ParseError(
            f"{_show(shown)} contains a backslash, which no TikTok link has; copy the link again"
        )
    if token.startswith("//"):
        token = "https:" + token
    elif not _ANY_SCHEME_RE.match(token):
        token = "https://" + token
    scheme_end = token.index("://")
    scheme = token[:scheme_end].lower()
    if scheme not in ("http", "https"):
        raise ParseError(f"{_show(shown)} is not a web link; paste an https:// TikTok link")
    try:
        parts = urlsplit(token)
        netloc = parts.netloc
        host = (parts.hostname or "").rstrip(".")
        port = parts.port
    except ValueError:
        raise ParseError(
            f"{_show(shown)} is not a well-formed link; copy the link again from TikTok"
        ) from None
    if "@" in netloc:
        raise ParseError(
            f"{_show(shown)} hides its real host behind user info ('…@host'); paste the link as"
            " TikTok shares it"
        )
    if not host:
        raise ParseError(f"{_show(shown)} has no host; paste a full TikTok link")
    if not netloc.isascii():
        raise ParseError(
            f"{_show(netloc)} is not a TikTok address (it has non-ASCII look-alike letters);"
            " paste a link on www.tiktok.com"
        )
    segments = [unquote(s) for s in parts.path.split("/") if s]

    if service is not None and service.custom:
        service_parts = urlsplit(service.origin)
        service_port = service_parts.port or _default_port(service_parts.scheme)
        if (host, port or _default_port(scheme)) == (
            (service_parts.hostname or "").lower(),
            service_port,
        ):
            target = _parse_web_path(segments, shown)
            if isinstance(target, PostTarget | ShortLink):
                target = dataclasses.replace(target, origin=service.origin)
            return target

    is_tiktok = host in WEB_HOSTS or host in SHARE_HOSTS or host in SHORT_HOSTS
    if not is_tiktok:
        if host == "tiktok.com" or host.endswith(".tiktok.com"):
            raise _not_a_page(shown)
        raise _other_host(host, service)
    if port is not None and port != _default_port(scheme):
        raise ParseError(
            f"{_show(shown)} names an unusual port; paste the link as TikTok shares it"
        )
    if host in SHORT_HOSTS:
        if len(segments) != 1:
            raise ParseError(
                f"{_show(shown)} is not a complete short link; it looks like"
                f" https://{host}/CODE"
            )
        return _short_link(segments[0], SHORT_HOSTS[host], shown)
    if host in SHARE_HOSTS:
        lowered = [s.lower() for s in segments]
        if len(segments) == 3 and lowered[:2] == ["share", "video"]:
            return PostTarget(_post_id(segments[2], shown))
        raise _not_a_page(shown)
    return _parse_web_path(segments, shown)


def _dedupe_key(target: Target) -> tuple[str, ...]:
    if isinstance(target, PostTarget):
        return ("post", target.post_id)
    if isinstance(target, UserTarget):
        return ("user", target.username or "", target.user_id or "")
    return ("short", target.host_kind, target.code)


def _dedupe(targets: list[Target]) -> list[Target]:
    seen: dict[tuple[str, ...], int] = {}
    out: list[Target] = []
    for target in targets:
        key = _dedupe_key(target)
        if key in seen:
            kept = out[seen[key]]
            # the same post named by a share link first and by a full link later
            if isinstance(kept, PostTarget) and isinstance(target, PostTarget) and (
                kept.username is None and target.username is not None
            ):
                out[seen[key]] = target
            continue
        seen[key] = len(out)
        out.append(target)
    return out


@dataclass(frozen=True)
class ParseResult:
    """What :func:`parse_detailed` found: the targets, and the prose words it skipped."""

    targets: tuple[Target, ...]
    ignored: tuple[str, ...] = ()
    rejected: tuple[str, ...] = ()
    """One line per link or @handle that could not be used, while others could."""

    def rejected_note(self) -> str:
        """One line naming the refused entries ('' when none)."""
        if not self.rejected:
            return ""
        more = f" (and {len(self.rejected) - 1} more)" if len(self.rejected) > 1 else ""
        return f"skipped {len(self.rejected)}: {self.rejected[0]}{more}"

    def ignored_note(self, limit: int = 3) -> str:
        """One line telling the user which bare words were not looked up ('' when none)."""
        if not self.ignored:
            return ""
        shown = ", ".join(_show(w, 30) for w in self.ignored[:limit])
        more = f" and {len(self.ignored) - limit} more" if len(self.ignored) > limit else ""
        noun = "word" if len(self.ignored) == 1 else "words"
        return (
            f"ignored {len(self.ignored)} {noun} that are not links or @handles ({shown}{more});"
            " write @name to look one up"
        )


def parse(text: str, service: Service | None = None) -> list[Target]:
    """Every target named in ``text``, in order, without duplicates.

    Raises :class:`ParseError` (one line, what is wrong and what to do) when the
    text names nothing usable or holds something refused; see the module doc.
    """
    parsed = parse_detailed(text, service)
    if parsed.rejected:  # strict: every entry must be usable (the app uses parse_detailed)
        raise ParseError(parsed.rejected[0])
    return list(parsed.targets)


def parse_detailed(text: str, service: Service | None = None) -> ParseResult:
    """Like :func:`parse`, and also say which bare words were taken for prose and skipped."""
    if not isinstance(text, str):
        raise TypeError(f"parse() needs a str, not {type(text).__name__}")
    if len(text) > MAX_INPUT_CHARS:
        raise ParseError(
            f"the text is too long ({len(text):,} characters); paste at most"
            f" {MAX_INPUT_CHARS:,} characters at a time"
        )
    text = _check_characters(text)
    tokens = [t for t in (_strip_punctuation(raw) for raw in _SEPARATORS_RE.split(text)) if t]

    kinds = [
        "link" if _looks_like_link(t) else "handle" if t.startswith("@") and t != "@" else "word"
        for t in tokens
    ]
    prose_mode = "link" in kinds or "handle" in kinds
    targets: list[Target] = []
    ignored: list[str] = []
    rejected: list[str] = []
    for token, kind in zip(tokens, kinds, strict=True):
        try:
            if kind == "link":
                targets.append(_parse_link(token, service))
            elif kind == "handle":
                targets.append(UserTarget(_parse_username(token[1:], original=token)))
            elif not prose_mode:
                targets.append(_parse_bare_word(token))
            else:
                ignored.append(token)
        except ParseError as exc:  # one bad entry among good ones: the good ones go on
            rejected.append(str(exc))
    if not targets:
        if rejected:
            raise ParseError(rejected[0])
        raise ParseError(EMPTY_MESSAGE)
    targets = _dedupe(targets)
    if len(targets) > MAX_TARGETS:
        raise ParseError(
            f"the text names {len(targets)} targets; paste at most {MAX_TARGETS} at a time"
        )
    return ParseResult(tuple(targets), tuple(ignored), tuple(rejected))
