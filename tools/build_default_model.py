#!/usr/bin/env python3
"""Build despin's default context model, data/model/context.bin.

It distils CMU Sphinx's US-English trigram model (``en-us.lm.bin``,
BSD-2-Clause, in the ``pocketsphinx`` wheel) and interpolates it with an
interpolated modified Kneser-Ney trigram model of ../shared/corpus/clean_en
(news_reuters21578, news_abc2006, pd_us_speeches, pd_gutenberg_sample),
without the documents of donoharm_news_sample.jsonl. Steps:

1. read the Sphinx model (``despin.sphinx_lm``) and the corpus, the corpus
   read as despin's context model reads text (``despin.lm_text``, the Sphinx
   vocabulary deciding "u. s." and "don't");
2. hold out one in twenty documents of ABC 2006 (the most recent news of the
   corpus; by a hash of the document id), build the Kneser-Ney model from
   the rest, and find the interpolation weight that gives the held-out
   documents the highest likelihood (EM over every word);
3. build the Kneser-Ney model from all documents, interpolate (static
   mixture over the union of both models' n-grams, backoff weights
   renormalised), prune by relative entropy to ``--max-mb``, quantise, write.

Nothing is tuned on ../shared/corpus/real. The output is deterministic for the
same inputs. Reproduce the bundled model with (about 10 minutes, 6 GB):

    pip download pocketsphinx==5.1.1 --no-deps -d /tmp/ps
    python tools/build_default_model.py --sphinx /tmp/ps/pocketsphinx-5.1.1-*.whl \
        --corpus ../shared/corpus/clean_en -o data/model/context.bin
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import sys
import time
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

from despin.context import write_model
from despin.corpus import read_corpus, read_ids
from despin.lm_build import (
    NgramCounts,
    from_sphinx,
    kneser_ney,
    mix,
    prune_to_size,
    remap,
    to_arrays,
    token_logprobs,
    tune_weight,
    vocabulary,
)
from despin.lm_text import BOS, EOS, UNK, sentences
from despin.sphinx_lm import SphinxLM, parse_sphinx_lm

SOURCES = ("news_reuters21578.jsonl", "news_abc2006.jsonl", "pd_us_speeches.jsonl", "pd_gutenberg_sample.jsonl")
HOLDOUT = "donoharm_news_sample.jsonl"
TUNE_SOURCE = "news_abc2006.jsonl"
TUNE_SHARE = 20  # one document in twenty of TUNE_SOURCE tunes the weight
LM_IN_WHEEL = "pocketsphinx/model/en-us/en-us.lm.bin"
LM_SHA256 = "db21d0642286677699e6dbc859d2e5395570222361999387ce60f6e1d01995d6"  # pocketsphinx 5.1.1
MIN_WORD = 2  # corpus words seen fewer times are left to <unk>
MIN_TRIGRAM = 2  # corpus trigrams seen fewer times are not listed


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def read_sphinx(path: str) -> tuple[SphinxLM, str]:
    """The Sphinx model from a .lm.bin file or a pocketsphinx wheel, and its SHA-256."""
    if path.endswith(".whl"):
        with zipfile.ZipFile(path) as zf:
            data = zf.read(LM_IN_WHEEL)
    else:
        with open(path, "rb") as fh:
            data = fh.read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != LM_SHA256:
        log(f"warning: {path} is not the en-us.lm.bin of pocketsphinx 5.1.1 (sha256 {digest})")
    return parse_sphinx_lm(data, path), digest


def is_tuning_doc(source: str, doc_id: str) -> bool:
    return source == TUNE_SOURCE and hashlib.blake2b(doc_id.encode(), digest_size=8).digest()[0] % TUNE_SHARE == 0


def read_sentences(corpus: str, in_vocab, exclude: set[str]) -> dict[str, list[tuple[str, list[list[str]]]]]:
    """source -> [(document id, sentences)] for the corpus files, hold-out excluded."""
    out = {}
    for name in SOURCES:
        docs = []
        for doc in read_corpus([os.path.join(corpus, name)], exclude_ids=exclude):
            docs.append((doc.id, list(sentences(doc.text, in_vocab))))
        out[name] = docs
        log(f"read {name}: {len(docs):,} documents")
    return out


def counts_of(docs: dict[str, list[tuple[str, list[list[str]]]]], keep) -> NgramCounts:
    counts = NgramCounts()
    for name, items in docs.items():
        for doc_id, sents in items:
            if keep(name, doc_id):
                counts.add(sents)
    return counts


def interpolated(sphinx: SphinxLM, counts: NgramCounts):
    """The vocabulary, the Sphinx model and the Kneser-Ney model over it."""
    kn = kneser_ney(counts, MIN_TRIGRAM)
    words = vocabulary(sphinx.words, counts, MIN_WORD)
    ids = {w: i for i, w in enumerate(words)}
    cmu = from_sphinx(sphinx, ids)
    knr = remap(kn, ids, kn.uni[kn.words.index(UNK)])
    return words, ids, cmu, knr


def tune(sphinx: SphinxLM, docs) -> tuple[float, float, int]:
    counts = counts_of(docs, lambda name, doc_id: not is_tuning_doc(name, doc_id))
    log(f"tuning model: {counts.tokens:,} words")
    words, ids, cmu, kn = interpolated(sphinx, counts)
    held = [[ids.get(w, 0) for w in s] for doc_id, sents in docs[TUNE_SOURCE] if is_tuning_doc(TUNE_SOURCE, doc_id)
            for s in sents]
    bos, eos = ids[BOS], ids[EOS]
    lam, ppl = tune_weight(token_logprobs(cmu.lp3, held, bos, eos), token_logprobs(kn.lp3, held, bos, eos))
    n = sum(len(s) + 1 for s in held)
    log(f"weight of the Sphinx model: {lam:.4f} (held-out perplexity {ppl:.1f} over {n:,} words)")
    return lam, ppl, n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sphinx", required=True, help="en-us.lm.bin, or the pocketsphinx wheel holding it (glob ok)")
    ap.add_argument("--corpus", default="../shared/corpus/clean_en")
    ap.add_argument("-o", "--output", default="data/model/context.bin")
    ap.add_argument("--max-mb", type=float, default=24.0, help="size of the model file (default 24 MB)")
    ap.add_argument("--weight", type=float, help="use this Sphinx weight instead of tuning it")
    args = ap.parse_args(argv)
    found = glob.glob(args.sphinx)
    if len(found) != 1:
        ap.error(f"--sphinx {args.sphinx!r} matches {len(found)} files")
    t0 = time.time()
    sphinx, digest = read_sphinx(found[0])
    log(f"Sphinx model: {len(sphinx.words):,} words, n-grams {sphinx.counts}")
    vocab = set(sphinx.words)
    exclude = read_ids(os.path.join(args.corpus, HOLDOUT))
    docs = read_sentences(args.corpus, vocab.__contains__, exclude)
    if args.weight is None:
        lam, ppl, n_tune = tune(sphinx, docs)
    else:
        lam, ppl, n_tune = args.weight, float("nan"), 0
    n_docs = sum(len(items) for items in docs.values())
    counts = counts_of(docs, lambda name, doc_id: True)
    log(f"full corpus: {counts.tokens:,} words in {counts.sentences:,} sentences")
    words, ids, cmu, kn = interpolated(sphinx, counts)
    del docs
    mixed = mix(cmu, kn, lam, words)
    log(f"interpolated: {len(words):,} words, {len(mixed.bi):,} bigrams, {len(mixed.tri):,} trigrams")
    pruned, theta = prune_to_size(mixed, int(args.max_mb * 1e6))
    arrays, sizes = to_arrays(pruned)
    header = dict(
        sizes,
        kind="trigram",
        smoothing="static interpolation of the CMU Sphinx model and an interpolated modified Kneser-Ney model",
        sphinx={"file": "pocketsphinx 5.1.1 model/en-us/en-us.lm.bin", "sha256": digest, "licence": "BSD-2-Clause",
                "ngrams": list(sphinx.counts)},
        corpus={"files": list(SOURCES), "held_out": HOLDOUT, "documents": n_docs, "words": counts.tokens,
                "sentences": counts.sentences, "min_word": MIN_WORD, "min_trigram": MIN_TRIGRAM},
        sphinx_weight=round(lam, 6),
        tuning={"source": TUNE_SOURCE, "share": f"1 in {TUNE_SHARE} documents (blake2b of the id)",
                "words": n_tune, "perplexity": round(ppl, 2)},
        prune_threshold=theta,
    )
    size = write_model(args.output, header, arrays)
    log(f"wrote {args.output}: {size / 1e6:.1f} MB, {json.dumps(sizes)}, {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
