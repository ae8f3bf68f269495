"""How values read on screen: nothing shows as "None", no empty parentheses, counts as integers."""

from __future__ import annotations

import pandas as pd

MISSING = "–"  # what an empty cell shows
INTEGER_COLUMNS = ("steps", "total_steps", "retries", "nodes", "epochs", "batch_size", "embedding_dim")


def text(value) -> str:
    """A value for prose and labels: missing ones read as the dash, never as 'None' or 'nan'."""
    if value is None or (isinstance(value, float) and value != value):
        return MISSING
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def run_label(row: dict) -> str:
    """'7 · simclr on digits', '8 · imported (tensorboard)'; parts that are missing are left out, not shown empty."""
    if row.get("method"):
        what = " on ".join(p for p in (row["method"], row.get("dataset")) if p)
    elif row.get("source") not in (None, "sslpilot"):
        what = f"imported ({row['source']})"
    else:
        what = row.get("dataset") or ""
    return f"{row['run_id']} · {what}" if what else str(row["run_id"])


def progress(steps, total) -> str:
    """'40 / 200', '0 / ?' for a run not started."""
    return f"{text(steps or 0)} / {'?' if total is None else text(total)}"


def score(value) -> str:
    """An accuracy as text with three decimals, or empty: st.dataframe's grid draws a missing number as 'None'."""
    return "" if value is None or value != value else f"{value:.3f}"


def table(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    """Rows as a frame for st.dataframe: counts as integers (nullable), missing text as empty cells."""
    df = pd.DataFrame(rows, columns=columns)
    for col in df.columns:
        if col in INTEGER_COLUMNS:
            df[col] = pd.to_numeric(df[col], errors="coerce").round().astype("Int64")
        elif not pd.api.types.is_numeric_dtype(df[col]):  # text (object or pandas' str dtype): empty, not "None"
            df[col] = df[col].astype(object).where(df[col].notna(), "")
    return df
