"""The CLI's signed-in sessions, one per site, cached in the user's config directory:
``$XDG_CONFIG_HOME/quantdesk/tokens.json`` (``~/.config`` when unset; ``~/Library/Application
Support`` on macOS, ``%APPDATA%`` on Windows). The file is created ``0600`` and its directory
``0700``, written atomically (a reader never sees half a file); nothing else is stored there.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

FILE_MODE: Final = 0o600
DIR_MODE: Final = 0o700
#: refresh this long before the ID token expires, so a command never sends a dying token
EXPIRY_MARGIN_S: Final = 60


def config_dir() -> Path:
    home = Path.home()
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or home / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    return base / "quantdesk"


def site_key(url: str) -> str:
    """One key per site however its URL is written (case, default port, trailing slash)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower() or "http"
    host = (parts.hostname or "").lower()
    default = {"http": 80, "https": 443}.get(scheme)
    port = f":{parts.port}" if parts.port and parts.port != default else ""
    return f"{scheme}://{host}{port}"


@dataclass(frozen=True)
class Session:
    username: str
    id_token: str
    refresh_token: str
    #: epoch seconds at which the ID token expires
    expires_at: float
    #: ``cognito`` or ``local``: how to refresh it
    mode: str

    def expired(self, now: float | None = None) -> bool:
        return (now if now is not None else time.time()) >= self.expires_at - EXPIRY_MARGIN_S


class TokenCache:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or config_dir() / "tokens.json"

    def get(self, url: str) -> Session | None:
        entry = self._load().get(site_key(url))
        if not isinstance(entry, dict):
            return None
        try:
            return Session(**entry)
        except TypeError:
            return None  # written by another version: sign in again

    def put(self, url: str, session: Session) -> None:
        sessions = self._load()
        sessions[site_key(url)] = asdict(session)
        self._save(sessions)

    def remove(self, url: str) -> bool:
        sessions = self._load()
        if sessions.pop(site_key(url), None) is None:
            return False
        self._save(sessions)
        return True

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _save(self, sessions: dict[str, Any]) -> None:
        self.path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            self.path.parent.chmod(DIR_MODE)
        temp = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(sessions, out, indent=2)
            os.chmod(temp, FILE_MODE)  # umask cannot widen it, an existing file could have
            os.replace(temp, self.path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
