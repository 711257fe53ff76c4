//! Ranking-quality measures over labelled sets: nDCG@k, recall@k, MRR@k, and TREC run files.

use std::collections::HashMap;
use std::io::Write;

/// Relevance judgements: query id → document id → grade (> 0 is relevant).
pub type Qrels = HashMap<String, HashMap<String, u32>>;

/// Ranked document ids with scores, per query id.
pub type Run = Vec<(String, Vec<(String, f32)>)>;

/// Mean measures over the queries that have at least one relevant document.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Scores {
    /// Queries measured.
    pub queries: usize,
    /// Mean nDCG@10 (graded, log2 discount, gain as asked).
    #[serde(rename = "ndcg@10")]
    pub ndcg_10: f64,
    /// Mean recall@100.
    #[serde(rename = "recall@100")]
    pub recall_100: f64,
    /// Mean reciprocal rank of the first relevant document within 10.
    #[serde(rename = "mrr@10")]
    pub mrr_10: f64,
}

/// What a relevant document at the top is worth in nDCG, by its grade.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Gain {
    /// The grade itself: trec_eval's `ndcg_cut`, as BEIR and pytrec_eval report nDCG.
    #[default]
    Linear,
    /// 2^grade - 1 (Burges et al.), which favours the highest grades more.
    Exponential,
}

impl Gain {
    fn of(self, grade: u32) -> f64 {
        match self {
            Gain::Linear => f64::from(grade),
            Gain::Exponential => 2f64.powi(grade as i32) - 1.0,
        }
    }
}

fn dcg(grades: impl Iterator<Item = u32>, gain: Gain) -> f64 {
    grades
        .enumerate()
        .map(|(i, g)| gain.of(g) / ((i + 2) as f64).log2())
        .sum()
}

/// nDCG at `k` of one ranking against one query's judgements.
pub fn ndcg(ranked: &[&str], judged: &HashMap<String, u32>, k: usize, gain: Gain) -> f64 {
    let gains = ranked
        .iter()
        .take(k)
        .map(|id| judged.get(*id).copied().unwrap_or(0));
    let mut ideal: Vec<u32> = judged.values().copied().filter(|g| *g > 0).collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let best = dcg(ideal.into_iter().take(k), gain);
    if best == 0.0 {
        0.0
    } else {
        dcg(gains, gain) / best
    }
}

/// Scores a run against judgements; queries without relevant documents are skipped.
///
/// Documents are taken in trec_eval's order (score descending, equal scores by id descending),
/// so that the figures are those trec_eval and pytrec_eval give for the run file.
pub fn evaluate(run: &Run, qrels: &Qrels, gain: Gain) -> Scores {
    let mut s = Scores::default();
    for (qid, ranked) in run {
        let Some(judged) = qrels.get(qid) else {
            continue;
        };
        let relevant = judged.values().filter(|g| **g > 0).count();
        if relevant == 0 {
            continue;
        }
        let mut ordered: Vec<&(String, f32)> = ranked.iter().collect();
        ordered.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| b.0.cmp(&a.0)));
        let ids: Vec<&str> = ordered.iter().map(|(d, _)| d.as_str()).collect();
        let is_rel = |id: &str| judged.get(id).is_some_and(|g| *g > 0);
        s.queries += 1;
        s.ndcg_10 += ndcg(&ids, judged, 10, gain);
        s.recall_100 +=
            ids.iter().take(100).filter(|id| is_rel(id)).count() as f64 / relevant as f64;
        s.mrr_10 += ids
            .iter()
            .take(10)
            .position(|id| is_rel(id))
            .map_or(0.0, |p| 1.0 / (p + 1) as f64);
    }
    if s.queries > 0 {
        let n = s.queries as f64;
        s.ndcg_10 /= n;
        s.recall_100 /= n;
        s.mrr_10 /= n;
    }
    s
}

/// Writes a run in TREC format: `qid Q0 docid rank score tag`, at most `depth` per query.
pub fn write_trec(run: &Run, depth: usize, tag: &str, out: &mut impl Write) -> std::io::Result<()> {
    for (qid, ranked) in run {
        for (rank, (doc, score)) in ranked.iter().take(depth).enumerate() {
            writeln!(out, "{qid} Q0 {doc} {} {score} {tag}", rank + 1)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judged(pairs: &[(&str, u32)]) -> HashMap<String, u32> {
        pairs.iter().map(|(d, g)| (d.to_string(), *g)).collect()
    }

    #[test]
    fn perfect_ranking_scores_one_and_reversed_less() {
        let j = judged(&[("a", 2), ("b", 1)]);
        for gain in [Gain::Linear, Gain::Exponential] {
            assert!((ndcg(&["a", "b", "c"], &j, 10, gain) - 1.0).abs() < 1e-9);
            let reversed = ndcg(&["b", "a"], &j, 10, gain);
            assert!(reversed < 1.0 && reversed > 0.5, "{reversed}");
            assert_eq!(ndcg(&["x", "y"], &j, 10, gain), 0.0);
        }
    }

    #[test]
    fn linear_gain_is_trec_evals() {
        // Grades 2 and 1 reversed: trec_eval gives (1 + 2/log2 3) / (2 + 1/log2 3).
        let j = judged(&[("a", 2), ("b", 1)]);
        let l3 = 3f64.log2();
        let linear = ndcg(&["b", "a"], &j, 10, Gain::Linear);
        assert!((linear - (1.0 + 2.0 / l3) / (2.0 + 1.0 / l3)).abs() < 1e-9);
        let exponential = ndcg(&["b", "a"], &j, 10, Gain::Exponential);
        assert!((exponential - (1.0 + 3.0 / l3) / (3.0 + 1.0 / l3)).abs() < 1e-9);
    }

    #[test]
    fn equal_scores_are_taken_in_trec_evals_order() {
        // trec_eval orders equal scores by document id, descending: "b" before "a".
        let qrels: Qrels = [("q".to_string(), judged(&[("a", 1)]))].into();
        let run: Run = vec![("q".into(), vec![("a".into(), 1.0), ("b".into(), 1.0)])];
        let s = evaluate(&run, &qrels, Gain::Linear);
        assert!((s.mrr_10 - 0.5).abs() < 1e-9);
    }

    #[test]
    fn evaluate_averages_over_judged_queries() {
        let qrels: Qrels = [("q1".to_string(), judged(&[("a", 1)]))].into();
        let run: Run = vec![
            ("q1".into(), vec![("b".into(), 2.0), ("a".into(), 1.0)]),
            ("q2".into(), vec![("a".into(), 1.0)]),
        ];
        let s = evaluate(&run, &qrels, Gain::Linear);
        assert_eq!(s.queries, 1);
        assert!((s.mrr_10 - 0.5).abs() < 1e-9);
        assert!((s.recall_100 - 1.0).abs() < 1e-9);
        assert!((s.ndcg_10 - 1.0 / 3f64.log2()).abs() < 1e-9);
    }

    #[test]
    fn trec_lines_have_six_columns() {
        let run: Run = vec![("q1".into(), vec![("a".into(), 1.5), ("b".into(), 0.5)])];
        let mut out = Vec::new();
        write_trec(&run, 1, "techmatch", &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "q1 Q0 a 1 1.5 techmatch\n");
    }
}
