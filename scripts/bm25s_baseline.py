#!/usr/bin/env python3
"""The plain-BM25 baseline of `techmatch eval`: bm25s (k1 1.5, b 0.75, Lucene idf) over
title + text of a BEIR-layout set, nDCG@10 by pytrec_eval (linear gain, as BEIR reports it).

    python3 -m pip install bm25s pytrec_eval-terrier
    scripts/bm25s_baseline.py ../shared/eval/cranfield-dev [--queries queries-long.jsonl] [--run FILE]

With --check RUN it scores a TREC run file (e.g. `techmatch eval --run RUN`) with pytrec_eval
instead, to compare with the figures `techmatch eval` prints.
"""
import argparse
import json
import os

import pytrec_eval


def jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def qrels_of(path):
    qrels = {}
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            cols = line.rstrip("\n").split("\t")
            if i == 0 and cols[0].startswith("query"):
                continue
            if len(cols) == 3 and int(cols[2]) > 0:
                qrels.setdefault(cols[0], {})[cols[1]] = int(cols[2])
    return qrels


def read_run(path):
    run = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            q, _, d, _, s, _ = line.split()
            run.setdefault(q, {})[d] = float(s)
    return run


def score(run, qrels):
    judged = {q: r for q, r in qrels.items() if q in run or True}
    ev = pytrec_eval.RelevanceEvaluator(judged, {"ndcg_cut.10", "recall.100"})
    per = ev.evaluate(run)
    # Queries without any retrieved document count 0, as in `techmatch eval`.
    n = len(judged)
    ndcg = sum(per.get(q, {}).get("ndcg_cut_10", 0.0) for q in judged) / n
    rec = sum(per.get(q, {}).get("recall_100", 0.0) for q in judged) / n
    return n, ndcg, rec


def main():
    p = argparse.ArgumentParser()
    p.add_argument("set")
    p.add_argument("--queries", default="queries.jsonl")
    p.add_argument("--run")
    p.add_argument("--check")
    p.add_argument("--stopwords", default=None)
    a = p.parse_args()
    qrels = qrels_of(os.path.join(a.set, "qrels.tsv"))
    queries = jsonl(os.path.join(a.set, a.queries))
    qrels = {q["_id"]: qrels[q["_id"]] for q in queries if q["_id"] in qrels}
    if a.check:
        run = read_run(a.check)
    else:
        import bm25s

        corpus = jsonl(os.path.join(a.set, "corpus.jsonl"))
        ids = [d["_id"] for d in corpus]
        texts = [((d.get("title") or "") + " " + (d.get("text") or "")).lower() for d in corpus]
        retriever = bm25s.BM25(k1=1.5, b=0.75, method="lucene")
        retriever.index(bm25s.tokenize(texts, stopwords=a.stopwords, show_progress=False), show_progress=False)
        qtexts = [q["text"].lower() for q in queries]
        tokens = bm25s.tokenize(qtexts, stopwords=a.stopwords, show_progress=False)
        docs, scores = retriever.retrieve(tokens, k=100, show_progress=False)
        run = {}
        for q, ds, ss in zip(queries, docs, scores):
            run[q["_id"]] = {ids[d]: float(s) for d, s in zip(ds, ss) if s > 0}
        if a.run:
            with open(a.run, "w", encoding="utf-8") as f:
                for q, ranked in run.items():
                    for r, (d, s) in enumerate(sorted(ranked.items(), key=lambda x: -x[1])):
                        f.write(f"{q} Q0 {d} {r + 1} {s} bm25s\n")
    n, ndcg, rec = score(run, qrels)
    print(json.dumps({"judged_queries": n, "ndcg@10": round(ndcg, 4), "recall@100": round(rec, 4)}))


if __name__ == "__main__":
    main()
