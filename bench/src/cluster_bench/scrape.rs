//! Where the time goes inside the nodes: mean request and store-call durations from each
//! node's `GET /metrics`, summed over the nodes at the end of a bench.

use std::collections::BTreeMap;

use super::http::Pool;

/// The histograms read, and the label that names each series.
const HISTOGRAMS: &[(&str, &str, &str)] = &[
    ("techmatch_http_request_duration_seconds", "route", "http"),
    ("techmatch_store_duration_seconds", "operation", "store"),
];

/// Adds the `_sum` and `_count` series of [`HISTOGRAMS`] in `text` to `totals`, keyed
/// "http <route>" or "store <operation>".
fn add(text: &str, totals: &mut BTreeMap<String, (f64, f64)>) {
    for line in text.lines() {
        for (name, label, kind) in HISTOGRAMS {
            let Some(rest) = line.strip_prefix(name) else {
                continue;
            };
            let (is_sum, rest) = match (rest.strip_prefix("_sum{"), rest.strip_prefix("_count{")) {
                (Some(r), _) => (true, r),
                (_, Some(r)) => (false, r),
                _ => continue,
            };
            let Some((labels, value)) = rest.split_once("} ") else {
                continue;
            };
            let Some(series) = labels
                .split(',')
                .find_map(|l| l.strip_prefix(&format!("{label}=\"")))
                .map(|v| v.trim_end_matches('"'))
            else {
                continue;
            };
            let Ok(value) = value.trim().parse::<f64>() else {
                continue;
            };
            let entry = totals.entry(format!("{kind} {series}")).or_default();
            if is_sum {
                entry.0 += value;
            } else {
                entry.1 += value;
            }
        }
    }
}

/// Mean milliseconds per request route and store operation over every node (the restarted
/// node counts from its restart).
pub async fn node_means(nodes: &[Pool], token: &str) -> BTreeMap<String, f64> {
    let mut totals = BTreeMap::new();
    for node in nodes {
        if let Ok(answer) = node.request("GET", "/metrics", Some(token), None).await {
            if answer.status == 200 {
                add(&String::from_utf8_lossy(&answer.body), &mut totals);
            }
        }
    }
    totals
        .into_iter()
        .filter(|(_, (_, count))| *count > 0.0)
        .map(|(k, (sum, count))| (k, super::report::round(sum / count * 1000.0)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn means_from_sums_and_counts() {
        let text = "techmatch_http_request_duration_seconds_sum{route=\"/api/v1/search\"} 0.5\n\
                    techmatch_http_request_duration_seconds_count{route=\"/api/v1/search\"} 100\n\
                    techmatch_http_request_duration_seconds_bucket{route=\"/api/v1/search\",le=\"0.1\"} 99\n\
                    techmatch_store_duration_seconds_sum{operation=\"get_many\"} 1\n\
                    techmatch_store_duration_seconds_count{operation=\"get_many\"} 4\n";
        let mut totals = BTreeMap::new();
        add(text, &mut totals);
        add(text, &mut totals);
        assert_eq!(totals["http /api/v1/search"], (1.0, 200.0));
        assert_eq!(totals["store get_many"], (2.0, 8.0));
        assert_eq!(totals.len(), 2);
    }
}
