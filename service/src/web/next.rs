//! Where to send a visitor after signing in (`next`): a path on this site, checked in one
//! place for every redirect that follows one. An open redirect would lend our name to
//! phishing, and a lenient URL parser reads `/<TAB>/evil.example` as `//evil.example`.

/// `next` when it is a local path: it starts with a single `/`, and holds no backslash,
/// control character or white space; nor does its path (before `?` or `#`) once
/// percent-decoded, nor does that start with `//`. Anything else gives `None` (the caller goes
/// to its default, e.g. `/`). An encoded space in the query (`?q=nuoi%20tom`) is kept: it
/// cannot move the address off-site.
pub fn local_path(next: &str) -> Option<String> {
    if !local(next) {
        return None;
    }
    let path = next.split(['?', '#']).next().unwrap_or_default();
    let mut text = path.to_string();
    // Decoding a few times over catches `%2509`, which becomes `%09` and then a TAB.
    for _ in 0..3 {
        if !local(&text) {
            return None;
        }
        let decoded = String::from_utf8_lossy(&percent_decode(&text)).into_owned();
        if decoded == text {
            break;
        }
        text = decoded;
    }
    local(&text).then(|| next.to_string())
}

fn local(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && !path
            .chars()
            .any(|c| c == '\\' || c.is_control() || c.is_whitespace())
}

/// `%XX` sequences decoded as bytes; malformed ones kept as they are.
pub(crate) fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).and_then(|&b| hex(b)),
            bytes.get(i + 2).and_then(|&b| hex(b)),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_pass() {
        for good in [
            "/desk",
            "/listings/L-1?lang=en",
            "/search?q=c%C3%A1",
            "/search?q=nuoi%20tom",
            "/",
        ] {
            assert_eq!(local_path(good).as_deref(), Some(good), "{good}");
        }
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil",
            "desk",
            "",
            "/%09/evil.example",
            "/\t/evil.example",
            "/%0a/evil",
            "/x\nLocation: //evil",
            "/%2509/evil.example",
            "/%2F/evil.example",
            "/%5Cevil",
            "/ /evil",
            "/%00",
        ] {
            assert_eq!(local_path(bad), None, "{bad:?}");
        }
    }
}
