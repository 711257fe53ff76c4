//! The texts of the service's mail, each in Vietnamese and then English: a mail is read by
//! whoever holds the address, whose language we may not know.

/// A mail's subject and body.
pub type Text = (String, String);

fn greeting(name: Option<&str>) -> (String, String) {
    match name.map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) => (format!("Chào {n},"), format!("Hello {n},")),
        None => ("Xin chào,".to_string(), "Hello,".to_string()),
    }
}

/// Asks the new member to confirm the address by opening `link`.
pub fn confirm_address(name: Option<&str>, link: &str) -> Text {
    let (vi, en) = greeting(name);
    (
        "Xác nhận địa chỉ e-mail / Confirm your e-mail address — techmatch".to_string(),
        format!(
            "{vi}\n\nHãy mở liên kết dưới đây để xác nhận địa chỉ e-mail của bạn trên sàn \
             giao dịch công nghệ techmatch (liên kết có hiệu lực 72 giờ):\n\n{link}\n\n\
             Nếu bạn không đăng ký, hãy bỏ qua thư này.\n\n---\n\n{en}\n\nOpen the link below \
             to confirm your e-mail address on the techmatch technology exchange (valid for \
             72 hours):\n\n{link}\n\nIf you did not sign up, ignore this mail.\n"
        ),
    )
}

/// Tells the holder of an existing account that someone tried to sign up with its address.
pub fn already_registered(name: Option<&str>, signin: &str, forgot: &str) -> Text {
    let (vi, en) = greeting(name);
    (
        "Bạn đã có tài khoản / You already have an account — techmatch".to_string(),
        format!(
            "{vi}\n\nAi đó (có thể là bạn) vừa đăng ký bằng địa chỉ này, nhưng địa chỉ đã có \
             tài khoản. Đăng nhập: {signin}\nQuên mật khẩu: {forgot}\n\nNếu không phải bạn, \
             hãy bỏ qua thư này.\n\n---\n\n{en}\n\nSomeone (perhaps you) just signed up with \
             this address, which already has an account. Sign in: {signin}\nForgot your \
             password: {forgot}\n\nIf it was not you, ignore this mail.\n"
        ),
    )
}

/// Sends the link that sets a new password.
pub fn reset_password(name: Option<&str>, link: &str) -> Text {
    let (vi, en) = greeting(name);
    (
        "Đặt lại mật khẩu / Reset your password — techmatch".to_string(),
        format!(
            "{vi}\n\nMở liên kết dưới đây để đặt mật khẩu mới (liên kết có hiệu lực 2 giờ và \
             chỉ dùng được một lần):\n\n{link}\n\nNếu bạn không yêu cầu, hãy bỏ qua thư này; \
             mật khẩu của bạn không đổi.\n\n---\n\n{en}\n\nOpen the link below to choose a new \
             password (valid for 2 hours, once):\n\n{link}\n\nIf you did not ask for this, \
             ignore this mail; your password stays as it is.\n"
        ),
    )
}

/// Asks the owner of a new address to confirm it by opening `link`.
pub fn confirm_new_address(name: Option<&str>, link: &str) -> Text {
    let (vi, en) = greeting(name);
    (
        "Xác nhận địa chỉ e-mail mới / Confirm your new e-mail address — techmatch".to_string(),
        format!(
            "{vi}\n\nBạn vừa đổi địa chỉ e-mail trên techmatch sang địa chỉ này. Mở liên kết \
             dưới đây để xác nhận (có hiệu lực 72 giờ); đến lúc đó địa chỉ cũ vẫn được dùng:\n\n\
             {link}\n\nNếu không phải bạn, hãy bỏ qua thư này.\n\n---\n\n{en}\n\nYou asked \
             to move your techmatch account to this address. Open the link below to confirm \
             (valid for 72 hours); until then the old address stays:\n\n{link}\n\nIf it was \
             not you, ignore this mail.\n"
        ),
    )
}

/// Tells the old address that a move to `new` was asked for.
pub fn address_change_asked(name: Option<&str>, new: &str) -> Text {
    let (vi, en) = greeting(name);
    (
        "Yêu cầu đổi địa chỉ e-mail / E-mail change requested — techmatch".to_string(),
        format!(
            "{vi}\n\nCó yêu cầu chuyển tài khoản techmatch của bạn sang {new}. Địa chỉ chỉ đổi \
             khi liên kết gửi đến {new} được mở. Nếu không phải bạn, hãy đổi mật khẩu.\n\n---\n\n\
             {en}\n\nSomeone asked to move your techmatch account to {new}. The address changes \
             only when the link sent there is opened. If it was not you, change your password.\n"
        ),
    )
}

/// Invites an address to join an organisation by opening `link`.
pub fn invitation(org: &str, by: &str, link: &str) -> Text {
    (
        format!("Lời mời tham gia {org} / Invitation to join {org} — techmatch"),
        format!(
            "Xin chào,\n\n{by} mời bạn tham gia tổ chức {org} trên sàn giao dịch công nghệ \
             techmatch. Mở liên kết dưới đây để nhận lời mời (nếu chưa có tài khoản, bạn sẽ \
             tạo tài khoản ngay tại đó; liên kết có hiệu lực 7 ngày):\n\n{link}\n\nNếu bạn \
             không biết lời mời này, hãy bỏ qua thư.\n\n---\n\nHello,\n\n{by} invites you \
             to join {org} on the techmatch technology exchange. Open the link below to accept \
             (without an account you create one there; valid for 7 days):\n\n{link}\n\nIf \
             you do not know of this invitation, ignore this mail.\n"
        ),
    )
}

/// Tells an organisation's administrator that someone asks to join.
pub fn join_requested(org: &str, who: &str, link: &str) -> Text {
    (
        format!("Yêu cầu tham gia {org} / Request to join {org} — techmatch"),
        format!(
            "Xin chào,\n\n{who} xin tham gia tổ chức {org}. Chấp nhận hoặc từ chối tại: \
             {link}\n\n---\n\nHello,\n\n{who} asks to join {org}. Accept or decline at: \
             {link}\n"
        ),
    )
}

/// Tells a person whether their request to join was accepted.
pub fn join_answered(name: Option<&str>, org: &str, accepted: bool, link: &str) -> Text {
    let (vi, en) = greeting(name);
    let (what_vi, what_en) = if accepted {
        ("đã chấp nhận", "accepted")
    } else {
        ("đã từ chối", "declined")
    };
    (
        format!("{org}: yêu cầu tham gia / your request to join — techmatch"),
        format!(
            "{vi}\n\n{org} {what_vi} yêu cầu tham gia của bạn. {link}\n\n---\n\n{en}\n\n\
             {org} {what_en} your request to join. {link}\n"
        ),
    )
}

/// Tells the enterprise that the technology's organisation answered its interest.
pub fn interest_answered(title: &str, org: &str, reply: &str, link: &str) -> Text {
    (
        format!("Trả lời về \"{title}\" / Reply about \"{title}\" — techmatch"),
        format!(
            "Xin chào,\n\n{org} đã trả lời sự quan tâm của bạn đến \"{title}\":\n\n{reply}\n\n\
             Xem tại: {link}\n\n---\n\nHello,\n\n{org} answered your interest in \
             \"{title}\":\n\n{reply}\n\nSee it at: {link}\n"
        ),
    )
}

/// Tells a technology's organisation that an enterprise is interested.
pub fn interest_received(title: &str, from_org: &str, message: &str, link: &str) -> Text {
    (
        format!("Quan tâm đến \"{title}\" / Interest in \"{title}\" — techmatch"),
        format!(
            "Xin chào,\n\n{from_org} quan tâm đến \"{title}\":\n\n{message}\n\nTrả lời \
             tại: {link}\n\n---\n\nHello,\n\n{from_org} is interested in \"{title}\":\n\n\
             {message}\n\nAnswer at: {link}\n"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mail_carries_its_link_in_both_languages() {
        let link = "http://x.vn/confirm/abc";
        let (subject, body) = confirm_address(Some("Lan"), link);
        assert!(subject.contains("Xác nhận") && subject.contains("Confirm"));
        assert_eq!(body.matches(link).count(), 2);
        assert!(body.contains("Chào Lan") && body.contains("Hello Lan"));
        let (_, body) = reset_password(None, link);
        assert_eq!(body.matches(link).count(), 2);
    }
}
