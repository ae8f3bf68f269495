"""W&B offline run folders (`wandb/offline-run-*/run-*.wandb`), decoded with wandb's own protobuf records.

wandb >= 0.2x no longer ships a Python reader for its transaction log (the Go core reads it), so the log's
framing is read here: W&B's documented LevelDB-log layout, a 7-byte file header (`:W&B`, magic 0xBEE1,
version 0), 32 KiB blocks, and records of [crc32 | length | type] + data, split FIRST/MIDDLE/LAST across
blocks. Each record's checksum is verified; a torn tail (a killed run) ends the read and is reported.
The records themselves are parsed with `wandb.proto.wandb_internal_pb2` (the `sslpilot[wandb]` extra).
"""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

from ssl_runtime.errors import SSLPilotError
from tools.imports.foreign import ForeignRun

BLOCK = 32768
HEADER = struct.Struct("<IHB")  # crc32, length, type
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


def run_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root] if root.suffix == ".wandb" else []
    return sorted(p for p in root.rglob("run-*.wandb") if "latest-run" not in p.parts)


def records(path: Path) -> tuple[list[bytes], str | None]:
    """The log's records, and why reading stopped early (None when the file ended cleanly)."""
    data = path.read_bytes()
    if data[:4] != b":W&B" or struct.unpack("<HB", data[4:7]) != (0xBEE1, 0):
        return [], "not a W&B transaction log (bad header)"
    out: list[bytes] = []
    pos, pending = 7, b""
    while pos < len(data):
        left = BLOCK - pos % BLOCK
        if left < HEADER.size:  # block trailer: padding
            pos += left
            continue
        if pos + HEADER.size > len(data):
            return out, "the file ends inside a record header (the run was killed while writing)"
        crc, length, kind = HEADER.unpack_from(data, pos)
        if length == 0 and kind == 0:  # zero padding at the end of a preallocated block
            break
        chunk = data[pos + HEADER.size: pos + HEADER.size + length]
        if len(chunk) < length:
            return out, "the file ends inside a record (the run was killed while writing)"
        if zlib.crc32(chunk, zlib.crc32(bytes([kind]))) & 0xFFFFFFFF != crc:
            return out, f"a damaged record at byte {pos}"
        pos += HEADER.size + length
        if kind == FULL:
            out.append(chunk)
        elif kind == FIRST:
            pending = chunk
        elif kind == MIDDLE:
            pending += chunk
        elif kind == LAST:
            out.append(pending + chunk)
            pending = b""
        else:
            return out, f"an unknown record type {kind} at byte {pos}"
    return out, None


def read(root: Path) -> list[ForeignRun]:
    try:
        from wandb.proto import wandb_internal_pb2
    except ImportError:
        raise SSLPilotError("reading W&B offline runs needs the wandb package", field="path",
                            fix="pip install 'sslpilot[wandb]', or export the run's history as CSV and import that") from None
    runs = []
    for f in run_files(root):
        scalars: dict[str, list[tuple[int, float]]] = {}
        params: dict = {}
        name = f.stem.removeprefix("run-")
        blobs, stopped = records(f)
        notes = [f"{f.name}: {stopped}; {len(blobs)} records read"] if stopped else []
        for blob in blobs:
            rec = wandb_internal_pb2.Record()
            try:
                rec.ParseFromString(blob)
            except Exception:  # noqa: BLE001 - protobuf's DecodeError: skip the record, keep the rest
                notes.append("an undecodable record was skipped")
                continue
            kind = rec.WhichOneof("record_type")
            if kind == "history":
                items = {i.key or "/".join(i.nested_key): i.value_json for i in rec.history.item}
                step = rec.history.step.num if rec.history.HasField("step") else _int(items.get("_step"))
                for key, raw in items.items():
                    value = _number(raw)
                    if value is not None and not key.startswith("_"):
                        scalars.setdefault(key, []).append((int(step or 0), value))
            elif kind in ("config", "run"):  # wandb.init(config=...) arrives in the run record
                config = rec.config if kind == "config" else rec.run.config
                for item in config.update:
                    key = item.key or ".".join(item.nested_key)
                    if not key.startswith("_"):
                        params[key] = _config_value(item.value_json)
                if kind == "run" and rec.run.display_name:
                    name = rec.run.display_name
        runs.append(ForeignRun("wandb", str(f), name, scalars, params, notes))
    return runs


def _number(raw: str) -> float | None:
    try:
        v = json.loads(raw)
    except (json.JSONDecodeError, TypeError):
        return float("nan") if raw == "NaN" else None
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _int(raw: str | None) -> int | None:
    v = _number(raw) if raw is not None else None
    return int(v) if v is not None and v == v else None


def _config_value(raw: str):
    """W&B stores config values as {"value": x} (older clients: x itself)."""
    try:
        v = json.loads(raw)
    except json.JSONDecodeError:
        return raw
    return v.get("value", v) if isinstance(v, dict) and set(v) <= {"value", "desc"} else v
