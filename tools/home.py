"""The home folder: $SSLPILOT_HOME, else --home, else ./.sslpilot. Holds the database, chroma/, runs/, literature/."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Home:
    root: Path

    @classmethod
    def resolve(cls, home: str | Path | None = None) -> Home:
        raw = os.environ.get("SSLPILOT_HOME") or home or ".sslpilot"
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
        return os.environ.get("SSLPILOT_DB_URL") or f"sqlite:///{self.root / 'sslpilot.db'}"
