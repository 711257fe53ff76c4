//! The domain's reasons for refusing a field (English, as the API and the CLI give them) in
//! Vietnamese, for the Vietnamese pages. One place for them: the checks in `domain::input`,
//! `domain::deal`, `domain::province` and `domain::listing` write these sentences, and a reason
//! not known here is shown as written.

use super::Lang;

/// `reason` in the page's language.
pub fn field_reason(l: Lang, reason: &str) -> String {
    match l {
        Lang::En => reason.to_string(),
        Lang::Vi => vietnamese(reason).unwrap_or_else(|| reason.to_string()),
    }
}

/// `text` with `prefix` and `suffix` taken off, if it has both.
fn between<'a>(text: &'a str, prefix: &str, suffix: &str) -> Option<&'a str> {
    text.strip_prefix(prefix)?.strip_suffix(suffix)
}

/// The end of a sentence: a hint "; did you mean X?" in Vietnamese, or a full stop.
fn hint(rest: &str) -> String {
    match between(rest, "; did you mean ", "?") {
        Some(names) => format!("; có phải ý bạn là {names}?"),
        None => format!("{rest}."),
    }
}

fn vietnamese(reason: &str) -> Option<String> {
    let fixed = match reason {
        "is required" => Some("Bắt buộc nhập."),
        "is required to agree a deal" => Some("Bắt buộc khi ghi nhận giao dịch đã ký."),
        "is required to close a deal as lost" => {
            Some("Bắt buộc khi ghi nhận giao dịch không thành.")
        }
        "is above budget_max_vnd" => Some("Lớn hơn ngân sách tối đa."),
        "is required for a confidential need: it is what others read instead" => {
            Some("Bắt buộc với nhu cầu bảo mật: người khác chỉ đọc được phần tóm tắt này.")
        }
        "must be true or false" => Some("Phải là có hoặc không."),
        "no organisation by this name or id" => Some("Không có tổ chức nào mang tên hoặc mã này."),
        "this is the need's own organisation" => Some("Đây chính là tổ chức đăng nhu cầu."),
        "this need is not confidential: everyone reads it in full" => {
            Some("Nhu cầu này không bảo mật: ai cũng đọc được toàn văn.")
        }
        "is not an e-mail address" => Some("Không phải địa chỉ e-mail."),
        "must be text" => Some("Phải là văn bản."),
        "must be a list of text" => Some("Phải là danh sách văn bản."),
        "must be research_output, patent or need" => {
            Some("Phải là kết quả nghiên cứu, sáng chế hoặc nhu cầu.")
        }
        "must be draft, published or archived" => {
            Some("Phải là bản nháp, đã công bố hoặc lưu trữ.")
        }
        "must be invention or utility_solution" => Some("Phải là sáng chế hoặc giải pháp hữu ích."),
        "must be pending, granted or expired" => {
            Some("Phải là đang chờ cấp, đã cấp hoặc hết hiệu lực.")
        }
        "is longer than 64 characters" => Some("Dài quá 64 ký tự."),
        "not an OECD field-of-science code such as 2.2 or 4.1" => {
            Some("Không phải mã lĩnh vực khoa học OECD như 2.2 hoặc 4.1.")
        }
        "must be one of institute, university, enterprise, other" => {
            Some("Phải là viện nghiên cứu, trường đại học, doanh nghiệp hoặc tổ chức khác.")
        }
        "must be an address starting with https:// or http://" => {
            Some("Phải là địa chỉ bắt đầu bằng https:// hoặc http://.")
        }
        "holds control or invisible characters" | "holds control characters" => {
            Some("Chứa ký tự điều khiển hoặc ký tự ẩn.")
        }
        "cannot be changed; an administrator can merge two records of one organisation" => {
            Some("Không đổi được tên; quản trị viên có thể gộp hai hồ sơ của cùng một tổ chức.")
        }
        "must be another organisation than the one merged into" => {
            Some("Phải là một tổ chức khác với tổ chức được gộp vào.")
        }
        _ => None,
    };
    if let Some(text) = fixed {
        return Some(text.to_string());
    }
    if let Some(kind) = reason.strip_prefix("does not apply to kind ") {
        return Some(format!("Không áp dụng cho loại «{}».", Lang::Vi.kind(kind)));
    }
    if let Some(rest) = reason.strip_prefix("unknown province ") {
        let (input, rest) = match rest.find("; ") {
            Some(at) => rest.split_at(at),
            None => (rest, ""),
        };
        return Some(format!("Không có tỉnh, thành phố {input}{}", hint(rest)));
    }
    if let Some(rest) = reason.strip_prefix("unknown field") {
        return Some(format!("Không có trường này{}", hint(rest)));
    }
    if let Some(rest) = reason.strip_prefix("is ") {
        if let Some((n, max)) = rest.split_once(" characters long; the limit is ") {
            return Some(format!("Dài {n} ký tự; tối đa {max}."));
        }
    }
    if let Some((n, max)) =
        between(reason, "has ", "").and_then(|r| r.split_once(" entries; the limit is "))
    {
        return Some(format!("Có {n} mục; tối đa {max}."));
    }
    if let Some(n) = between(reason, "is longer than ", " characters") {
        return Some(format!("Dài quá {n} ký tự."));
    }
    if let Some(c) = reason.strip_prefix("contains the control character ") {
        return Some(format!("Chứa ký tự điều khiển {c}."));
    }
    if let Some(entry) = between(reason, "entry ", " contains a control character") {
        return Some(format!("Mục {entry} chứa ký tự điều khiển."));
    }
    if let Some(v) = reason.strip_prefix("TRL must be 1 to 9, got ") {
        return Some(format!("TRL phải từ 1 đến 9 (đã nhập {v})."));
    }
    if let Some(v) = reason.strip_suffix(" is not a whole number ≥ 0") {
        return Some(format!("{v} không phải số nguyên ≥ 0."));
    }
    if let Some(v) = reason.strip_suffix(" is not a whole number") {
        return Some(format!("{v} không phải số nguyên."));
    }
    if let Some(v) = reason.strip_suffix(" is too large") {
        return Some(format!("{v} quá lớn."));
    }
    if let Some(v) = reason.strip_suffix(" is not a date (YYYY-MM-DD or DD/MM/YYYY)") {
        return Some(format!("{v} không phải ngày (YYYY-MM-DD hoặc DD/MM/YYYY)."));
    }
    if let Some(v) = reason.strip_suffix(" is not a year") {
        return Some(format!("{v} không phải là một năm."));
    }
    if let Some(v) = reason.strip_suffix(" is not a plausible year") {
        return Some(format!("{v} không phải năm hợp lệ."));
    }
    if let Some(v) = reason.split_once(" is not a transfer mode").map(|(v, _)| v) {
        return Some(format!(
            "{v} không phải hình thức chuyển giao (li-xăng, chuyển nhượng, hợp tác phát triển, \
             dịch vụ kỹ thuật, tư vấn)."
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reasons_people_met_in_english_on_vietnamese_pages_are_vietnamese() {
        for (english, vietnamese) in [
            (
                "is required to agree a deal",
                "Bắt buộc khi ghi nhận giao dịch đã ký.",
            ),
            ("is above budget_max_vnd", "Lớn hơn ngân sách tối đa."),
            (
                "does not apply to kind patent",
                "Không áp dụng cho loại «Sáng chế».",
            ),
            (
                "unknown province \"Sai Gon\"; did you mean Hồ Chí Minh?",
                "Không có tỉnh, thành phố \"Sai Gon\"; có phải ý bạn là Hồ Chí Minh?",
            ),
            (
                "is 300 characters long; the limit is 200",
                "Dài 300 ký tự; tối đa 200.",
            ),
            (
                "TRL must be 1 to 9, got 12",
                "TRL phải từ 1 đến 9 (đã nhập 12).",
            ),
            ("\"x\" is not a year", "\"x\" không phải là một năm."),
            (
                "\"abc\" is not a whole number",
                "\"abc\" không phải số nguyên.",
            ),
        ] {
            assert_eq!(field_reason(Lang::Vi, english), vietnamese);
            assert_eq!(field_reason(Lang::En, english), english);
        }
        // A reason not known here is shown as written rather than lost.
        assert_eq!(field_reason(Lang::Vi, "something new"), "something new");
    }
}
