"""The chat's reading on tests/data/intents.jsonl, the regression set from before the classifier (>= 95%).

Those messages name runs up to 30 and paths on another machine, so they are read against a home where
those runs exist and every path counts as present (tests/understanding_eval.py)."""

import pytest
from understanding_eval import load, regression_world, score

from agent.intent_model import get_model
from agent.understand import understand


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return get_model(str(tmp_path_factory.mktemp("intent-cache")))


def test_regression_set_is_large_and_varied(tmp_path):
    rows = load("intents.jsonl", tmp_path)
    assert len(rows) >= 60 and len({r["tool"] for r in rows}) == 12


def test_regression_routing_and_arguments(model, tmp_path):
    result = score(load("intents.jsonl", tmp_path),
                   lambda m, c: understand(m, c, regression_world(c), model, path_exists=lambda p: True))
    print(f"regression accuracy {result['accuracy']:.3f}, misses: {result['misses']}")
    assert result["accuracy"] >= 0.95, result["misses"]


def test_numpy_scoring_equals_scikit_learn(tmp_path):
    """The classifier is fitted with scikit-learn but scored with numpy (a cold CLI skips importing sklearn):
    the n-grams, tf-idf features and probabilities must be sklearn's, and a saved model must score the same."""
    import numpy as np
    from scipy.sparse import csr_matrix, hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from agent.intent_model import IntentModel, char_wb_ngrams, cues, load_examples, normalise

    texts, labels = load_examples()
    probes = ["why did  run 7 collapse??", "pretrian dino on ~/photos 10k steps", "a", "héllo wörld", "ls runs", ""]
    norm = [normalise(t) for t in texts]
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=1).fit(norm)
    analyzer = vec.build_analyzer()
    for t in norm[:200] + [normalise(p) for p in probes]:
        assert char_wb_ngrams(t) == analyzer(t), t

    ours = IntentModel.fit(texts, labels)  # no embedder: grams and cues only, so sklearn's side is rebuilt here
    x = hstack([vec.transform(norm), csr_matrix(np.stack([cues(t) for t in texts]))]).tocsr()
    clf = LogisticRegression(C=8.0, max_iter=3000).fit(x, labels)
    saved = tmp_path / "m.npz"
    ours.save(saved)
    loaded = IntentModel.load(saved)
    for text in texts[::25] + probes:
        row = hstack([vec.transform([normalise(text)]), csr_matrix(cues(text)[None])]).tocsr()
        np.testing.assert_allclose(ours.features(text), row.toarray()[0], atol=1e-6)
        ref = dict(zip(clf.classes_, clf.predict_proba(row)[0], strict=True))
        for got in (ours.predict(text), loaded.predict(text)):
            assert max(abs(p - ref[label]) for label, p in got) < 1e-6, text


def test_a_saved_classifier_is_refitted_when_the_code_that_reads_its_features_changes(tmp_path, monkeypatch):
    """A model saved before a change to the slot extractors would score messages with features it was not fitted
    on (a number read as a setting instead of a run, say)."""
    from agent import intent_model

    source = tmp_path / "slots.py"
    source.write_text("A = 1\n")
    monkeypatch.setattr(intent_model, "CUE_SOURCES", (source,))
    before = intent_model.cache_key(b"examples", True)
    assert intent_model.cache_key(b"examples", True) == before
    source.write_text("A = 2\n")
    assert intent_model.cache_key(b"examples", True) != before
    assert intent_model.cache_key(b"other examples", True) != intent_model.cache_key(b"examples", True)
