//! Answered interest: a lead is due an answer within 10 working days (Monday to Friday;
//! `TECHMATCH_REPLY_WORKING_DAYS`); once overdue and unanswered, the technology's organisation
//! is reminded by mail, once, and the brokers' desk shows it overdue. Reminders run on the
//! clock their caller passes (the server's hourly sweep, or `POST /admin/sweep` with `now`).

use chrono::{DateTime, Datelike, Duration, Utc, Weekday};

use super::{AppError, Exchange};
use crate::domain::deal::Lead;

/// Working days an organisation has to answer interest, unless configured.
pub const REPLY_WORKING_DAYS: i64 = 10;

/// Working days to answer: `TECHMATCH_REPLY_WORKING_DAYS` (≥ 1), else [`REPLY_WORKING_DAYS`].
pub fn working_days() -> i64 {
    std::env::var("TECHMATCH_REPLY_WORKING_DAYS")
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|d| *d >= 1)
        .unwrap_or(REPLY_WORKING_DAYS)
}

/// `days` working days (Monday to Friday) after `from`, at the same time of day.
pub fn add_working_days(from: DateTime<Utc>, days: i64) -> DateTime<Utc> {
    let mut at = from;
    let mut left = days;
    while left > 0 {
        at += Duration::days(1);
        if !matches!(at.weekday(), Weekday::Sat | Weekday::Sun) {
            left -= 1;
        }
    }
    at
}

/// When interest marked at `at` is due an answer.
pub fn reply_by(at: DateTime<Utc>) -> DateTime<Utc> {
    add_working_days(at, working_days())
}

/// When `lead` is due an answer.
pub fn due(lead: &Lead) -> DateTime<Utc> {
    lead.reply_by.unwrap_or_else(|| reply_by(lead.created_at))
}

/// Whether `lead` is unanswered past its date at `now`, or was reminded as such (the sweep
/// that reminded it may run on another clock than the reader's).
pub fn overdue(lead: &Lead, now: DateTime<Utc>) -> bool {
    lead.reply.is_none() && (now > due(lead) || lead.reminded_at.is_some())
}

/// Reminds the organisations of overdue, unanswered leads not reminded yet (mail to their
/// members); returns the leads' ids.
///
/// # Errors
/// When the store or the outbox fails; reminders sent before stay recorded.
pub fn remind(ex: Exchange<'_>, now: DateTime<Utc>) -> Result<Vec<String>, AppError> {
    let mut reminded = Vec::new();
    for lead in ex.deals.leads()? {
        if !overdue(&lead, now) || lead.reminded_at.is_some() {
            continue;
        }
        // Read again just before writing: an answer may have come meanwhile.
        let Some(lead) = ex.deals.lead(&lead.id)?.filter(|l| l.reply.is_none()) else {
            continue;
        };
        let lead = Lead {
            reminded_at: Some(now),
            ..lead
        };
        ex.deals.add_lead(&lead)?;
        if let Some(owner) = &lead.listing_owner {
            let text = reminder_mail(&lead, &ex.outbox.links.page("/me"));
            for member in ex.alerts.users_of_org(owner)? {
                if member.role.is_member() {
                    // Mail leaves on the outbox's clock, not on the sweep's.
                    ex.outbox.queue(&member.email, text.clone(), Utc::now())?;
                }
            }
        }
        reminded.push(lead.id);
    }
    Ok(reminded)
}

/// The reminder, in Vietnamese then English.
fn reminder_mail(lead: &Lead, link: &str) -> super::mails::Text {
    let (title, from) = (&lead.listing_title, &lead.from_org);
    let date = due(lead);
    let (vi_date, en_date) = (date.format("%d/%m/%Y"), date.format("%Y-%m-%d"));
    (
        "Quan tâm chưa được trả lời / Interest waiting for your answer — techmatch".to_string(),
        format!(
            "Xin chào,\n\n{from} đã quan tâm đến công nghệ “{title}” của tổ chức bạn và chưa \
             nhận được trả lời (hạn trả lời: {vi_date}). Hãy trả lời trong hộp thư quan tâm:\n\n\
             {link}\n\n---\n\nHello,\n\n{from} is interested in your organisation's technology \
             “{title}” and has had no answer yet (due {en_date}). Please answer it in your \
             leads inbox:\n\n{link}\n"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn ten_working_days_skip_the_weekends() {
        // Friday 4 December 2026 → two weeks later, Friday 18 December.
        let friday = at("2026-12-04T09:00:00Z");
        assert_eq!(add_working_days(friday, 10), at("2026-12-18T09:00:00Z"));
        // Saturday → the second Friday after.
        assert_eq!(
            add_working_days(at("2026-12-05T09:00:00Z"), 10),
            at("2026-12-18T09:00:00Z")
        );
        assert_eq!(add_working_days(friday, 1), at("2026-12-07T09:00:00Z"));
    }
}
