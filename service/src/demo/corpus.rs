//! A synthetic corpus for benchmarks and tests: listings and queries drawn, from a fixed seed, from the
//! sentences, titles and words of the demo data, over every kind, province and field.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::demo::FILES;
use crate::domain::alert::{Delivery, SavedQuery, StandingSearch};
use crate::domain::field::fields;
use crate::domain::Provinces;

/// A small, fast, seedable generator (SplitMix64); benchmarks need repeatability, not crypto.
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// One element of `items`.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Draws listings and queries.
pub struct Corpus {
    rng: Rng,
    titles: Vec<String>,
    sentences: Vec<String>,
    words: Vec<String>,
    provinces: Vec<String>,
    fields: Vec<String>,
}

impl Corpus {
    /// A corpus from the demo data, seeded.
    pub fn new(seed: u64) -> Self {
        let mut titles = Vec::new();
        let mut sentences = Vec::new();
        for (_, text) in FILES {
            for line in text.lines() {
                let Ok(v) = serde_json::from_str::<Value>(line) else {
                    continue;
                };
                if let Some(t) = v["title"].as_str() {
                    titles.push(t.to_string());
                }
                if let Some(d) = v["description"].as_str() {
                    sentences.extend(
                        d.split_inclusive(". ")
                            .map(str::trim)
                            .filter(|s| s.len() > 20)
                            .map(str::to_string),
                    );
                }
            }
        }
        let mut words: Vec<String> = titles
            .iter()
            .flat_map(|t| t.split_whitespace())
            .map(|w| {
                w.trim_matches(|c: char| !c.is_alphanumeric())
                    .to_lowercase()
            })
            .filter(|w| w.chars().count() > 1)
            .collect();
        words.sort();
        words.dedup();
        let provinces = Provinces::get()
            .all()
            .iter()
            .flat_map(|p| [p.short_name.clone(), p.code.to_string()])
            .collect();
        let fields = fields()
            .iter()
            .filter(|f| f.code.as_str().contains('.'))
            .map(|f| f.code.as_str().to_string())
            .collect();
        Corpus {
            rng: Rng::new(seed),
            titles,
            sentences,
            words,
            provinces,
            fields,
        }
    }

    fn title(&mut self) -> String {
        let mut words: Vec<String> = self
            .rng
            .pick(&self.titles)
            .split_whitespace()
            .map(str::to_string)
            .collect();
        // Swap a word or two so that titles repeat as rarely as in real data.
        for _ in 0..1 + self.rng.below(2) {
            let i = self.rng.below(words.len());
            words[i] = self.rng.pick(&self.words).clone();
        }
        words.join(" ")
    }

    fn text(&mut self, min: usize, max: usize) -> String {
        let n = min + self.rng.below(max - min + 1);
        (0..n)
            .map(|_| self.rng.pick(&self.sentences).clone())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The `n`th listing as an import record (JSON object).
    pub fn listing(&mut self, n: usize) -> Value {
        let roll = self.rng.below(100);
        let kind = match roll {
            0..=44 => "research_output",
            45..=64 => "patent",
            _ => "need",
        };
        let mut l = json!({
            "id": format!("b{n}"),
            "kind": kind,
            "title": self.title(),
            "description": self.text(1, 8),
            "keywords": [self.rng.pick(&self.words).clone(), self.rng.pick(&self.words).clone()],
            "field": self.rng.pick(&self.fields).clone(),
            "province": self.rng.pick(&self.provinces).clone(),
            "owner": format!("Tổ chức {}", self.rng.below(5_000)),
            "contact_email": format!("lienhe{}@example.vn", self.rng.below(100_000)),
            "transfer_modes": [crate::domain::TransferMode::ALL[self.rng.below(5)].as_str()],
        });
        let trl = 1 + self.rng.below(9);
        match kind {
            "need" => {
                l["trl_min"] = json!(trl);
                let budget = 100_000_000 * (1 + self.rng.below(50)) as u64;
                l["budget_max_vnd"] = json!(budget);
                l["industry"] = json!(self.rng.pick(&self.words).clone());
            }
            "patent" => {
                l["trl"] = json!(trl);
                l["patent_type"] = json!(if self.rng.below(2) == 0 {
                    "invention"
                } else {
                    "utility_solution"
                });
                l["expiry_date"] = json!(format!("{}-01-01", 2026 + self.rng.below(20)));
            }
            _ => {
                l["trl"] = json!(trl);
                l["price_vnd"] = json!(50_000_000 * (1 + self.rng.below(40)) as u64);
            }
        }
        l
    }

    /// A short query of one to three title words, sometimes typed without diacritics.
    pub fn query(&mut self) -> String {
        let n = 1 + self.rng.below(3);
        let q: Vec<String> = (0..n).map(|_| self.rng.pick(&self.words).clone()).collect();
        let q = q.join(" ");
        if self.rng.below(3) == 0 {
            techmatch_index::analysis::fold_text(&q)
        } else {
            q
        }
    }

    /// A long need text, as enterprises write them.
    pub fn need_text(&mut self) -> String {
        format!("{} {}", self.title(), self.text(3, 6))
    }

    /// A province name, for filters.
    pub fn province(&mut self) -> String {
        self.rng.pick(&self.provinces).clone()
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        self.rng.below(n)
    }

    /// The `i`-th saved search of a standing set, saved at `now`: a query, every third one
    /// in a province, every fifth research outputs and patents from TRL 5.
    pub fn standing_search(&mut self, i: usize, now: DateTime<Utc>) -> StandingSearch {
        let mut query = SavedQuery {
            q: Some(self.query()),
            ..SavedQuery::default()
        };
        if i % 3 == 1 {
            query.province = Some(self.province());
        }
        if i % 5 == 2 {
            query.kind = Some("research_output,patent".into());
            query.trl_min = Some("5".into());
        }
        StandingSearch {
            id: format!("ss-{i}"),
            user_id: format!("u-{}", i % 10_000),
            query,
            listing_id: None,
            secret: String::new(),
            delivery: Delivery::Immediate,
            created_at: now,
            active: true,
        }
    }
}
