"""Which tool a message asks for: a linear classifier over sentence embeddings and character n-grams.

The embeddings (all-MiniLM-L6-v2, the knowledge store's offline model) carry meaning, so a phrasing never
seen in training still lands near its intent; character n-grams catch typos and terse commands ("pretrian",
"ls runs"). Numbers, paths and quoted text are masked first, since they say nothing about the intent. The
examples live in agent/data/intent_examples.jsonl; their embeddings are cached in the home on first use and
the linear head refits in well under a second, so a changed example file simply retrains.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from pathlib import Path

import numpy as np

EXAMPLES = Path(__file__).parent / "data" / "intent_examples.jsonl"
MAX_CHARS = 600  # a 10,000-character message is classified by its start


def normalise(text: str) -> str:
    """Lower-cased, with paths, quoted strings and numbers masked, and at most MAX_CHARS long."""
    t = text[:MAX_CHARS].lower()
    t = re.sub(r"\"[^\"]*\"|'[^']*'|`[^`]*`", " QUOTED ", t)
    t = re.sub(r"(?:~|\.{1,2})?/[^\s,;]+|\b[\w.-]+/[^\s,;]*", " PATH ", t)
    t = re.sub(r"\b\d+(?:\.\d+)?(?:e-?\d+)?k?\b", " N ", t)
    return re.sub(r"\s+", " ", t).strip()


LAUNCH_VERB = re.compile(r"\b(pre-?tra\w*|train|launch|kick off|start|run|fit|fire up|spin up|begin|go|"
                         r"queue|schedule|new run|get .* going)\b")
QUESTION = re.compile(r"^\s*(why|what|how|which|has|have|is|are|did|does|do|was|were|can|could|should|any)\b|\?\s*$")


def cues(text: str) -> np.ndarray:
    """What the slot extractors see, as features: a time, a method, data or a path, how many runs are named, a
    launch verb, a question, training numbers, a knob. The classifier learns how they combine."""
    from agent.slots import (
        STATUS_WORDS,
        _explicit_ids,
        find_data,
        find_knobs,
        find_method,
        find_numbers,
        find_time,
    )

    low = text[:MAX_CHARS].lower()
    explicit = _explicit_ids(low, about_runs=False)
    bare = _explicit_ids(low, about_runs=True)
    return np.array([
        bool(find_time(low)), find_method(low) is not None, find_data(low) is not None,
        len(explicit) >= 1, len(explicit) >= 2, len(bare) >= 1, len(bare) >= 2,
        bool(LAUNCH_VERB.search(low)), bool(QUESTION.search(low)), bool(find_numbers(low)), bool(find_knobs(low)),
        bool(STATUS_WORDS.search(low)),
    ], dtype=np.float32)


def load_examples(path: Path = EXAMPLES) -> tuple[list[str], list[str]]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [r["text"] for r in rows], [r["intent"] for r in rows]


class IntentModel:
    def __init__(self, texts: list[str], labels: list[str], embed=None, cached: np.ndarray | None = None,
                 embed_weight: float = 1.0, c: float = 8.0, cue_weight: float = 1.0):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        self.embed, self.embed_weight, self.cue_weight = embed, embed_weight, cue_weight
        norm = [normalise(t) for t in texts]
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=1)
        grams = self.chars.fit_transform(norm)
        dense = cached if cached is not None else self._embed(norm)
        self.clf = LogisticRegression(C=c, max_iter=3000)
        self.clf.fit(self._features(grams, dense, texts), labels)
        self.labels = list(self.clf.classes_)
        self.example_embeddings = dense

    def _embed(self, norm: list[str]) -> np.ndarray | None:
        return None if self.embed is None else np.asarray(self.embed(norm), dtype=np.float32)

    def __getstate__(self) -> dict:
        return {**self.__dict__, "embed": None}  # the embedder is a live model: attached again after loading

    def _features(self, grams, dense, raw: list[str]):
        from scipy.sparse import csr_matrix, hstack

        parts = [grams, csr_matrix(np.stack([cues(t) for t in raw]) * self.cue_weight)]
        if dense is not None:
            parts.append(csr_matrix(dense * self.embed_weight))
        return hstack(parts).tocsr()

    def predict(self, text: str) -> list[tuple[str, float]]:
        """Every intent with its probability, most likely first."""
        norm = [normalise(text)]
        probs = self.clf.predict_proba(self._features(self.chars.transform(norm), self._embed(norm), [text]))[0]
        order = np.argsort(-probs)
        return [(self.labels[i], float(probs[i])) for i in order]


def _minilm():
    """The knowledge store's embedder (loaded once per process), or None where it is not installed."""
    try:
        from tools.knowledge.embedding import get_embedder

        return get_embedder("minilm").embed
    except Exception:  # noqa: BLE001 - char n-grams alone still classify; the benchmark says how well
        return None


@functools.lru_cache(maxsize=4)
def get_model(cache_dir: str | None = None, examples: str = str(EXAMPLES)) -> IntentModel:
    """The classifier for this process. With a cache folder (the home's cache/), the fitted classifier is saved
    there, named by a hash of the examples, the embedder and sklearn's version, and loaded on later starts;
    it is a file this code wrote itself, nothing downloaded."""
    import pickle

    import sklearn

    embed = _minilm()
    data = Path(examples).read_bytes()
    key = hashlib.sha256(data + f"{embed is not None}|{sklearn.__version__}|v2".encode()).hexdigest()[:16]
    path = Path(cache_dir) / f"intent-model-{key}.pkl" if cache_dir else None
    if path is not None and path.exists():
        try:
            with path.open("rb") as f:
                model = pickle.load(f)  # noqa: S301 - written by get_model below, in the user's own home
            model.embed = embed
            return model
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError):
            pass  # a stale or torn file: fit again
    texts, labels = load_examples(Path(examples))
    model = IntentModel(texts, labels, embed=embed)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            with tmp.open("wb") as f:
                pickle.dump(model, f)
            tmp.replace(path)
        except OSError:
            pass  # a read-only home only costs the fit again next time
    return model
