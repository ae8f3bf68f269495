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


def bytes_text(n: float) -> str:
    """A size on disk for people: "14.2 MB", "3.05 GB"."""
    return f"{n / 1e9:.2f} GB" if n >= 1e9 else f"{n / 1e6:.1f} MB"


def bytes_on_disk(path: Path) -> int:
    """Bytes a folder takes, each file once: a kept checkpoint hard-linked to `last.pt` is not counted twice; 0 for a
    folder that is not there."""
    seen: dict[tuple[int, int], int] = {}
    for f in path.rglob("*") if path.exists() else ():
        if f.is_file() and not f.is_symlink():
            st = f.stat()
            seen[(st.st_dev, st.st_ino)] = st.st_size
    return sum(seen.values())
