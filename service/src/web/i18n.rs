//! The pages' two languages: Vietnamese by default, English by `?lang=en`, which a cookie then
//! remembers; and the names of kinds, stages and transfer modes in both.

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use crate::domain::deal::Stage;

/// A language of the pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// Vietnamese, the default.
    #[default]
    Vi,
    /// English.
    En,
}

impl Lang {
    /// Reads `vi` or `en`.
    pub fn parse(code: &str) -> Option<Lang> {
        match code.trim() {
            "vi" => Some(Lang::Vi),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language's code, as in `lang=` and `<html lang>`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    /// The other language, which the switch offers.
    pub fn other(self) -> Lang {
        match self {
            Lang::Vi => Lang::En,
            Lang::En => Lang::Vi,
        }
    }

    /// One of two texts: Vietnamese or English.
    pub fn t<'a>(self, vi: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Vi => vi,
            Lang::En => en,
        }
    }

    /// A kind of listing by its JSON name.
    pub fn kind(self, kind: &str) -> String {
        match kind {
            "research_output" => self.t("Kết quả nghiên cứu", "Research output"),
            "patent" => self.t("Sáng chế", "Patent"),
            "need" => self.t("Nhu cầu công nghệ", "Technology need"),
            other => other,
        }
        .to_string()
    }

    /// A transfer mode by its JSON name.
    pub fn mode(self, mode: &str) -> String {
        let Some((vi, en)) = crate::domain::TransferMode::parse(mode).map(|m| m.label()) else {
            return mode.to_string();
        };
        let label = self.t(vi, en);
        // Labels stand alone here: capitalised, as the other labels of a page.
        let mut chars = label.chars();
        chars
            .next()
            .map(|c| c.to_uppercase().chain(chars).collect())
            .unwrap_or_default()
    }

    /// A deal stage.
    pub fn stage(self, stage: Stage) -> &'static str {
        match stage {
            Stage::Proposed => self.t("Đề xuất", "Proposed"),
            Stage::Contacted => self.t("Đã liên hệ", "Contacted"),
            Stage::Negotiating => self.t("Đàm phán", "Negotiating"),
            Stage::Agreed => self.t("Đã ký", "Agreed"),
            Stage::Lost => self.t("Không thành", "Lost"),
        }
    }
}

/// Remembers `?lang=vi|en` in a year-long cookie, so the switch holds on every later page.
pub async fn remember(request: Request, next: Next) -> Response {
    let chosen = request.uri().query().and_then(|q| {
        form_pairs(q)
            .into_iter()
            .find(|(k, _)| k == "lang")
            .and_then(|(_, v)| Lang::parse(&v))
    });
    let mut response = next.run(request).await;
    if let Some(lang) = chosen {
        let cookie = format!(
            "{}={}; Path=/; Max-Age=31536000; SameSite=Lax",
            super::LANG_COOKIE,
            lang.code()
        );
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// The pairs of a query string or form body, decoded (`+` as space, bad escapes kept as typed).
pub fn form_pairs(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}
