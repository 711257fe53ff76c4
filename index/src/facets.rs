//! A collector that counts facet values over every matching document.

use std::collections::{BTreeMap, HashMap};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::StrColumn;
use tantivy::schema::Field;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

use crate::doc::Facet;
use crate::search::FacetCounts;

/// Counts the values of some facets, reading their fast columns.
pub struct FacetCollector {
    facets: Vec<(Facet, Field)>,
}

impl FacetCollector {
    /// A collector for these facets.
    pub fn new(facets: Vec<(Facet, Field)>) -> Self {
        FacetCollector { facets }
    }
}

/// Per-segment counts, by term ordinal, for each facet with a column in the segment.
pub struct SegmentFacets {
    columns: Vec<(Facet, StrColumn, Vec<u64>)>,
}

impl Collector for FacetCollector {
    type Fruit = BTreeMap<Facet, FacetCounts>;
    type Child = SegmentFacets;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentFacets> {
        let mut columns = Vec::new();
        for (facet, _) in &self.facets {
            if let Some(column) = reader.fast_fields().str(facet.name())? {
                let counts = vec![0; column.num_terms()];
                columns.push((*facet, column, counts));
            }
        }
        Ok(SegmentFacets { columns })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(
        &self,
        segments: Vec<HashMap<Facet, HashMap<String, u64>>>,
    ) -> tantivy::Result<Self::Fruit> {
        let mut merged: BTreeMap<Facet, HashMap<String, u64>> = self
            .facets
            .iter()
            .map(|(f, _)| (*f, HashMap::new()))
            .collect();
        for segment in segments {
            for (facet, counts) in segment {
                let into = merged.entry(facet).or_default();
                for (value, n) in counts {
                    *into.entry(value).or_default() += n;
                }
            }
        }
        Ok(merged
            .into_iter()
            .map(|(facet, counts)| {
                let mut counts: Vec<(String, u64)> = counts.into_iter().collect();
                counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                (facet, counts)
            })
            .collect())
    }
}

impl SegmentCollector for SegmentFacets {
    type Fruit = HashMap<Facet, HashMap<String, u64>>;

    fn collect(&mut self, doc: DocId, _score: Score) {
        for (_, column, counts) in &mut self.columns {
            for ord in column.term_ords(doc) {
                if let Some(c) = counts.get_mut(ord as usize) {
                    *c += 1;
                }
            }
        }
    }

    fn harvest(self) -> Self::Fruit {
        let mut out = HashMap::new();
        for (facet, column, counts) in self.columns {
            let mut values = HashMap::new();
            let mut value = String::new();
            for (ord, n) in counts.into_iter().enumerate() {
                if n > 0 && column.ord_to_str(ord as u64, &mut value).unwrap_or(false) {
                    values.insert(value.clone(), n);
                }
            }
            out.insert(facet, values);
        }
        out
    }
}
