//! The tantivy tokenizer behind every chain: splits text into words and emits one chain's forms.

use std::collections::HashMap;

use rustc_hash::FxHashMap;

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

use super::fold::{exact_form, folded_form, is_word_char};

/// Words longer than this (in bytes) are noise such as base64 or hashes and are skipped.
const MAX_WORD_BYTES: usize = 64;

/// Forms remembered per thread and chain; Vietnamese has a few thousand syllables, so these
/// cover nearly every word of a corpus.
const REMEMBERED_FORMS: usize = 1 << 16;

thread_local! {
    /// The exact and folded forms of accented words seen lately: normalising one (decompose,
    /// take the tone off, compose) costs far more than looking it up.
    static FORMS: std::cell::RefCell<[HashMap<String, String>; 2]> =
        std::cell::RefCell::new([HashMap::new(), HashMap::new()]);
}

/// Writes `chain`'s form of `word` into `out` (exact or folded), remembering accented words.
fn form(chain: Chain, word: &str, out: &mut String) {
    let normalise = if chain == Chain::Exact {
        exact_form
    } else {
        folded_form
    };
    // ASCII words only need lowercasing, which is cheaper than a lookup.
    if word.is_ascii() {
        return normalise(word, out);
    }
    FORMS.with(|cell| {
        let mut maps = cell.borrow_mut();
        let map = &mut maps[usize::from(chain != Chain::Exact)];
        if let Some(f) = map.get(word) {
            out.clear();
            out.push_str(f);
            return;
        }
        normalise(word, out);
        if map.len() >= REMEMBERED_FORMS {
            map.clear();
        }
        map.insert(word.to_string(), out.clone());
    });
}

thread_local! {
    /// English stems of folded words seen lately, with the stemmer: a text's words repeat
    /// across texts, and the Snowball stemmer was a sixth of an import's CPU time.
    static STEMS: std::cell::RefCell<(FxHashMap<String, String>, rust_stemmers::Stemmer)> =
        std::cell::RefCell::new((
            FxHashMap::default(),
            rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::English),
        ));
}

/// Replaces the folded word in `word` by its English stem (as tantivy's `Stemmer` filter
/// would), remembering the stems of words seen lately.
fn stem(word: &mut String) {
    STEMS.with(|cell| {
        let (stems, stemmer) = &mut *cell.borrow_mut();
        if let Some(s) = stems.get(word.as_str()) {
            word.clone_from(s);
            return;
        }
        let stemmed = stemmer.stem(word).into_owned();
        if stems.len() >= REMEMBERED_FORMS {
            stems.clear();
        }
        let folded = std::mem::replace(word, stemmed);
        stems.insert(folded, word.clone());
    })
}

/// Which forms a tokenizer emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Chain {
    /// Lowercase, NFC, tone mark as a trailing digit.
    Exact,
    /// Lowercase, diacritics removed (stemming is added by the analyzer).
    Folded,
    /// Adjacent folded words joined by `_`.
    Bigram,
}

/// Splits text into words (letters, digits and combining marks) and emits one chain's tokens.
#[derive(Clone)]
pub struct VietTokenizer {
    chain: Chain,
    /// Whether folded words are stemmed (English), the folded chain's last step.
    stemmed: bool,
    tokens: Vec<Token>,
}

impl VietTokenizer {
    /// A tokenizer for `chain`, without stemming.
    pub fn new(chain: Chain) -> Self {
        VietTokenizer {
            chain,
            stemmed: false,
            tokens: Vec::new(),
        }
    }

    /// The folded chain with its English stemming: the same tokens as [`VietTokenizer::new`]
    /// (`Chain::Folded`) followed by tantivy's English `Stemmer`, with stems remembered.
    pub fn folded_stemmed() -> Self {
        VietTokenizer {
            chain: Chain::Folded,
            stemmed: true,
            tokens: Vec::new(),
        }
    }
}

/// The tokens of one text, computed up front so that bigrams can look one word ahead.
pub struct VecTokenStream<'a> {
    tokens: &'a mut [Token],
    next: usize,
}

impl TokenStream for VecTokenStream<'_> {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

/// One word of the input with its byte span and whether it follows the previous word directly.
struct Word {
    from: usize,
    to: usize,
    joined_to_previous: bool,
}

/// Splits `text` into words; a gap of only spaces, `-` or `/` keeps two words adjacent.
fn words(text: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let mut start = None;
    // Whether the next word follows the last kept word with nothing but a soft gap between.
    let mut joined = false;
    let close = |out: &mut Vec<Word>, from: usize, to: usize, joined: &mut bool| {
        // An over-long word is dropped and breaks adjacency as punctuation does.
        if to - from <= MAX_WORD_BYTES {
            out.push(Word {
                from,
                to,
                joined_to_previous: *joined,
            });
            *joined = true;
        } else {
            *joined = false;
        }
    };
    for (i, c) in text.char_indices() {
        if is_word_char(c) {
            start.get_or_insert(i);
        } else {
            if let Some(s) = start.take() {
                close(&mut out, s, i, &mut joined);
            }
            if !(c.is_whitespace() || c == '-' || c == '/') {
                joined = false;
            }
        }
    }
    if let Some(s) = start {
        close(&mut out, s, text.len(), &mut joined);
    }
    out
}

/// The `n`th token of `tokens`, added if missing, placed at `from..to` and `position`; `n` moves
/// on. Returns its text, for the caller to overwrite.
fn slot<'t>(
    tokens: &'t mut Vec<Token>,
    n: &mut usize,
    from: usize,
    to: usize,
    position: usize,
) -> &'t mut String {
    if *n == tokens.len() {
        tokens.push(Token::default());
    }
    let token = &mut tokens[*n];
    *n += 1;
    token.offset_from = from;
    token.offset_to = to;
    token.position = position;
    token.position_length = 1;
    &mut token.text
}

thread_local! {
    /// The last text analysed on this thread, split into words, with their folded forms once a
    /// chain needed them. The index gives each text to the three chains one after the other
    /// (its exact, folded and bigram fields), so the second and third find it here and neither
    /// split it nor fold its words again.
    static LAST: std::cell::RefCell<Analysed> = std::cell::RefCell::new(Analysed::default());
}

/// One text's words and (when computed) their folded forms.
#[derive(Default)]
struct Analysed {
    text: String,
    words: Vec<Word>,
    /// The folded form of each word, when `folded_ready`; strings kept for their memory.
    folded: Vec<String>,
    folded_ready: bool,
}

impl Analysed {
    /// Makes this the analysis of `text`, splitting it unless it already is.
    fn of(&mut self, text: &str) {
        if self.text != text {
            self.text.clear();
            self.text.push_str(text);
            self.words = words(text);
            self.folded_ready = false;
        }
    }

    /// The folded form of every word.
    fn folded(&mut self) -> &[String] {
        if !self.folded_ready {
            if self.folded.len() < self.words.len() {
                self.folded.resize(self.words.len(), String::new());
            }
            for (w, out) in self.words.iter().zip(&mut self.folded) {
                form(Chain::Folded, &self.text[w.from..w.to], out);
            }
            self.folded_ready = true;
        }
        &self.folded[..self.words.len()]
    }
}

impl Tokenizer for VietTokenizer {
    type TokenStream<'a> = VecTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream<'a> {
        // The tokens of the last text are overwritten in place: their strings keep their
        // memory, so that most tokens cost no allocation.
        let tokens = &mut self.tokens;
        let mut n = 0;
        LAST.with(|cell| {
            let analysed = &mut *cell.borrow_mut();
            analysed.of(text);
            match self.chain {
                Chain::Exact => {
                    for (position, w) in analysed.words.iter().enumerate() {
                        let out = slot(tokens, &mut n, w.from, w.to, position);
                        self::form(Chain::Exact, &text[w.from..w.to], out);
                    }
                }
                Chain::Folded => {
                    analysed.folded();
                    for (position, (w, f)) in
                        analysed.words.iter().zip(&analysed.folded).enumerate()
                    {
                        let out = slot(tokens, &mut n, w.from, w.to, position);
                        out.clone_from(f);
                        if self.stemmed {
                            stem(out);
                        }
                    }
                }
                Chain::Bigram => {
                    analysed.folded();
                    for (position, pair) in analysed.words.windows(2).enumerate() {
                        let (a, b) = (&pair[0], &pair[1]);
                        if b.joined_to_previous {
                            let out = slot(tokens, &mut n, a.from, b.to, position);
                            out.clear();
                            out.push_str(&analysed.folded[position]);
                            out.push('_');
                            out.push_str(&analysed.folded[position + 1]);
                        }
                    }
                }
            }
        });
        // Tokens past `n` are kept (unused) for their memory.
        VecTokenStream {
            tokens: &mut self.tokens[..n],
            next: 0,
        }
    }
}
