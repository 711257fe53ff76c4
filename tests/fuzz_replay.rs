//! The fuzz targets' short run: every seed in `fuzz/seeds/<target>` and a few thousand
//! deterministic mutations of them go through the same code as `cargo fuzz run <target>`;
//! any panic fails the test. The long runs are cargo-fuzz's (README, Reliability).

use std::path::Path;

#[allow(dead_code)] // the long runs' entry points; every one is replayed below
#[path = "../fuzz/entries.rs"]
mod entries;

/// Mutations tried per seed.
const MUTATIONS: usize = 60;

/// Bytes that break parsers: quotes, separators, NUL, invalid UTF-8, formula starts, markup,
/// deep nesting, a ZIP header.
const NASTY: &[&[u8]] = &[
    b"\"",
    b",",
    b"\n",
    b"\r\n",
    b"\0",
    b"\xff\xfe",
    b"\xc3",
    b"=HYPERLINK(\"x\")",
    b"<script>",
    b"[[[[[[[[[[[[[[[[",
    b"{\"a\":",
    b"PK\x03\x04",
    b"\x01",
    b"\xe1\xbb\x87",
    b"\t",
];

/// splitmix64: deterministic, so a failure repeats.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut out = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(6) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
            1 => out.truncate(at),
            2 => {
                let nasty = NASTY[rng.below(NASTY.len())];
                out.splice(at..at, nasty.iter().copied());
            }
            3 if !out.is_empty() => {
                let from = rng.below(out.len());
                let len = rng.below(out.len() - from + 1).min(4096);
                let copy = out[from..from + len].to_vec();
                out.splice(at..at, copy);
            }
            4 => {
                let cut = rng.below(other.len() + 1);
                out.truncate(at);
                out.extend_from_slice(&other[cut..]);
            }
            _ => {
                let i = rng.below(out.len() + 1);
                out.insert(i, rng.next() as u8);
            }
        }
    }
    out
}

fn replay(target: &str, entry: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/seeds")
        .join(target);
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| std::fs::read(e.expect("seed entry").path()).expect("read seed"))
        .collect();
    seeds.sort();
    assert!(
        seeds.len() >= 10,
        "{target}: too few seeds in {}",
        dir.display()
    );
    let mut rng = Rng(0x7EC4_0A7C);
    let mut tried = 0;
    for (i, seed) in seeds.iter().enumerate() {
        entry(seed);
        tried += 1;
        let other = &seeds[(i + 1) % seeds.len()];
        for _ in 0..MUTATIONS {
            entry(&mutate(&mut rng, seed, other));
            tried += 1;
        }
    }
    eprintln!("{target}: {tried} inputs, no panic");
}

#[test]
fn import_jsonl_survives_its_seeds_and_their_mutations() {
    replay("import_jsonl", entries::import_jsonl);
}

#[test]
fn import_csv_survives_its_seeds_and_their_mutations() {
    replay("import_csv", entries::import_csv);
}

#[test]
fn import_xlsx_survives_its_seeds_and_their_mutations() {
    replay("import_xlsx", entries::import_xlsx);
}

#[test]
fn province_names_survive_their_seeds_and_their_mutations() {
    replay("province_names", entries::province_names);
}

#[test]
fn search_params_survive_their_seeds_and_their_mutations() {
    replay("search_params", entries::search_params);
}
