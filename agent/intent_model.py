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
    from agent.run_refs import _explicit_ids
    from agent.setting_words import find_knobs
    from agent.slots import STATUS_WORDS, find_data, find_method, find_numbers, find_time

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


def char_wb_ngrams(text: str, low: int = 2, high: int = 5) -> list[str]:
    """Character n-grams inside word boundaries, each word padded with a space: the same list as
    sklearn's `TfidfVectorizer(analyzer="char_wb")` (equality tested), so scoring needs no sklearn import,
    which costs a cold process 1.8 s."""
    grams: list[str] = []
    for word in re.sub(r"\s\s+", " ", text.lower()).split():
        w = f" {word} "
        for n in range(low, high + 1):
            grams += [w[i:i + n] for i in range(max(1, len(w) - n + 1))]
            if len(w) <= n:  # a short word counts once, as in sklearn
                break
    return grams


class IntentModel:
    """A fitted multinomial logistic regression over [tf-idf char n-grams | slot cues | MiniLM embedding].
    `fit` trains with scikit-learn; what is kept is plain arrays (vocabulary, idf, weights), scored with numpy."""

    NGRAMS = (2, 5)

    def __init__(self, vocabulary: list[str], idf: np.ndarray, coef: np.ndarray, intercept: np.ndarray,
                 labels: list[str], embed_weight: float = 1.0, cue_weight: float = 1.0, embed=None):
        self.vocabulary = {g: i for i, g in enumerate(vocabulary)}
        self.idf, self.coef, self.intercept = idf, coef, intercept
        self.labels, self.embed_weight, self.cue_weight, self.embed = [str(x) for x in labels], embed_weight, cue_weight, embed

    @classmethod
    def fit(cls, texts: list[str], labels: list[str], embed=None, cached: np.ndarray | None = None,
            embed_weight: float = 1.0, c: float = 8.0, cue_weight: float = 1.0) -> IntentModel:
        from scipy.sparse import csr_matrix, hstack
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        norm = [normalise(t) for t in texts]
        chars = TfidfVectorizer(analyzer="char_wb", ngram_range=cls.NGRAMS, sublinear_tf=True, min_df=1)
        parts = [chars.fit_transform(norm), csr_matrix(np.stack([cues(t) for t in texts]) * cue_weight)]
        dense = cached if cached is not None else (None if embed is None else np.asarray(embed(norm), np.float32))
        if dense is not None:
            parts.append(csr_matrix(dense * embed_weight))
        clf = LogisticRegression(C=c, max_iter=3000).fit(hstack(parts).tocsr(), labels)
        return cls(list(chars.get_feature_names_out()), chars.idf_, clf.coef_, clf.intercept_, list(clf.classes_),
                   embed_weight, cue_weight, embed)

    def features(self, text: str) -> np.ndarray:
        """One message's feature row, as the classifier was trained on it."""
        norm = normalise(text)
        grams = np.zeros(len(self.idf))
        for g in char_wb_ngrams(norm, *self.NGRAMS):
            if (i := self.vocabulary.get(g)) is not None:
                grams[i] += 1
        seen = grams > 0
        grams[seen] = (1 + np.log(grams[seen])) * self.idf[seen]  # sublinear tf times idf, then l2 norm
        grams /= max(np.linalg.norm(grams), 1e-300) if seen.any() else 1.0
        parts = [grams, cues(text) * self.cue_weight]
        if self.embed is not None:
            parts.append(np.asarray(self.embed([norm])[0], np.float64) * self.embed_weight)
        return np.concatenate(parts)

    def predict(self, text: str) -> list[tuple[str, float]]:
        """Every intent with its probability, most likely first."""
        logits = self.coef @ self.features(text) + self.intercept
        probs = np.exp(logits - logits.max())
        probs /= probs.sum()
        order = np.argsort(-probs)
        return [(self.labels[i], float(probs[i])) for i in order]

    def save(self, path: Path) -> None:
        """Arrays only (no pickle): written to a temporary name and renamed, so a torn file is never read."""
        vocab = sorted(self.vocabulary, key=self.vocabulary.get)
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("wb") as f:
            np.savez(f, vocabulary=np.array(vocab, dtype=str), idf=self.idf, coef=self.coef, intercept=self.intercept,
                     labels=np.array(self.labels, dtype=str), weights=np.array([self.embed_weight, self.cue_weight]))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path, embed=None) -> IntentModel:
        with np.load(path, allow_pickle=False) as z:
            w = z["weights"]
            return cls(z["vocabulary"].tolist(), z["idf"], z["coef"], z["intercept"], z["labels"].tolist(),
                       float(w[0]), float(w[1]), embed)


def _minilm():
    """The knowledge store's embedder (loaded once per process), or None where it is not installed."""
    try:
        from tools.knowledge.embedding import get_embedder

        return get_embedder("minilm").embed
    except Exception:  # noqa: BLE001 - char n-grams alone still classify; the benchmark says how well
        return None


CUE_SOURCES = tuple(Path(__file__).with_name(f) for f in ("intent_model.py", "slots.py", "setting_words.py",
                                                          "grid_words.py", "run_refs.py"))
"""The code that turns a message into the classifier's features (`cues` reads the slot extractors): a fitted model
saved before a change to it would score messages with features it was not fitted on."""


def cache_key(examples: bytes, embedded: bool) -> str:
    """The saved model's name: the examples, whether MiniLM embeds them, the feature code, this format."""
    digest = hashlib.sha256(examples + f"{embedded}|v4".encode())
    for source in CUE_SOURCES:
        digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


_FITTED: dict[str, IntentModel] = {}
"""Models fitted in this process, by `cache_key`: a second home (a test's, or another user's) is given the same one
and its cache file, not a fit of its own (seconds each)."""


@functools.lru_cache(maxsize=4)
def get_model(cache_dir: str | None = None, examples: str = str(EXAMPLES)) -> IntentModel:
    """The classifier for this process. With a cache folder (the home's cache/), the fitted arrays are saved
    there, named by `cache_key`, and loaded on later starts."""
    embed = _minilm()
    key = cache_key(Path(examples).read_bytes(), embed is not None)
    path = Path(cache_dir) / f"intent-model-{key}.npz" if cache_dir else None
    if path is not None and path.exists():
        try:
            return IntentModel.load(path, embed)
        except (OSError, ValueError, KeyError):
            pass  # a stale or damaged file: fit again
    model = _FITTED.get(key)  # fitted already in this process for another home: the same examples, the same model
    if model is None:
        texts, labels = load_examples(Path(examples))
        model = _FITTED[key] = IntentModel.fit(texts, labels, embed=embed)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            model.save(path)
        except OSError:
            pass  # a read-only home only costs the fit again next time
    return model
