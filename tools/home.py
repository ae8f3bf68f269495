"""The home folder: --home, else $SSLPILOT_HOME, else ./.sslpilot. Holds the database, chroma/, runs/, literature/."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ssl_runtime import settings


@dataclass(frozen=True)
class Home:
    root: Path

    @classmethod
    def resolve(cls, home: str | Path | None = None) -> Home:
        """The explicit argument (the CLI's --home) wins over $SSLPILOT_HOME, as a command-line flag should."""
        raw = home or settings.get("SSLPILOT_HOME") or ".sslpilot"
        root = Path(raw).expanduser().resolve()
        (root / "runs").mkdir(parents=True, exist_ok=True)
        return cls(root)

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    @property
    def chroma(self) -> Path:
        return self.root / "chroma"

    @property
    def db_url(self) -> str:
        return settings.get("SSLPILOT_DB_URL") or f"sqlite:///{self.root / 'sslpilot.db'}"
