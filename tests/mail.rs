//! Sign-up, e-mail confirmation and password reset with the real binary and a real SMTP server
//! (aiosmtpd, from PyPI or Debian's python3-aiosmtpd) on loopback, whose mailbox the tests read.
//! Mail waits in the store's outbox while the SMTP server is away, and survives a SIGKILL.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::cli::Server;
use crate::common::Workspace;

/// A real SMTP server on loopback, writing what it receives into a maildir.
pub(crate) struct SmtpReceiver {
    child: Child,
    maildir: PathBuf,
    port: u16,
}

impl SmtpReceiver {
    /// Whether aiosmtpd can run; without it the tests are skipped, unless `CI` is set.
    pub(crate) fn available(test: &str) -> bool {
        let ok = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return true;
        }
        let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
        assert!(
            !ci,
            "CI is set but aiosmtpd is missing: pip install aiosmtpd"
        );
        eprintln!("SKIPPED {test}: aiosmtpd not found (python3 -m pip install aiosmtpd)");
        false
    }

    pub(crate) fn start(dir: &Path, port: u16) -> SmtpReceiver {
        let maildir = dir.join(format!("maildir-{port}"));
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start aiosmtpd");
        let receiver = SmtpReceiver {
            child,
            maildir,
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        receiver
    }

    pub(crate) fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The decoded messages received so far: (recipient, subject, text body).
    pub(crate) fn received(&self) -> Vec<(String, String, String)> {
        let new = self.maildir.join("new");
        let Ok(entries) = std::fs::read_dir(&new) else {
            return Vec::new();
        };
        // In the order they arrived: maildir names do not sort by time within a second.
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = entries
            .filter_map(|e| e.ok())
            .map(|e| {
                let at = e.metadata().and_then(|m| m.modified());
                (at.unwrap_or(std::time::UNIX_EPOCH), e.path())
            })
            .collect();
        files.sort();
        let files: Vec<PathBuf> = files.into_iter().map(|(_, f)| f).collect();
        files.iter().map(|f| decode(f)).collect()
    }

    /// Waits until `count` messages have arrived.
    pub(crate) fn wait_for(&self, count: usize) -> Vec<(String, String, String)> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let got = self.received();
            if got.len() >= count {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {count} mail(s) arrived",
                got.len()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for SmtpReceiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One received message decoded by Python's own e-mail parser (transfer encodings included).
fn decode(file: &Path) -> (String, String, String) {
    let script = "import email,json,sys\n\
        m=email.message_from_binary_file(open(sys.argv[1],'rb'))\n\
        from email.header import decode_header, make_header\n\
        print(json.dumps([m['X-RcptTo'] or m['To'], str(make_header(decode_header(m['Subject']))),\n\
        m.get_payload(decode=True).decode(m.get_content_charset() or 'utf-8')]))";
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(file)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("decoded mail");
    let text = |i: usize| v[i].as_str().unwrap_or_default().to_string();
    (text(0), text(1), text(2))
}

/// A real SMTP receiver in `ws` and a server mailing through it, retrying every second.
pub(crate) fn server_with_mail(ws: &Workspace) -> (SmtpReceiver, Server) {
    let smtp = SmtpReceiver::start(ws.dir.path(), free_port());
    let url = smtp.url();
    let server = Server::start(
        ws,
        &["--smtp-url", url.as_str(), "--mail-retry-seconds", "1"],
    );
    (smtp, server)
}

/// A loopback port nobody listens on (for now).
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// The path of the first link in `body` to `/{kind}/SECRET` on the service.
pub(crate) fn link_path(body: &str, kind: &str) -> String {
    let marker = format!("/{kind}/");
    let start = body.find(&marker).expect("a link in the mail");
    let secret: String = body[start + marker.len()..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    assert!(secret.len() >= 32, "{body}");
    // The link is absolute, on the service's address.
    assert!(body.contains("http://127.0.0.1:"), "{body}");
    format!("{marker}{secret}")
}

fn post(server: &Server, path: &str, body: Value, token: Option<&str>) -> (u16, Value) {
    let (status, body) = server.request("POST", path, token, Some(&body.to_string()));
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

fn sign_in(server: &Server, email: &str, password: &str) -> u16 {
    post(
        server,
        "/api/v1/tokens",
        json!({"email": email, "password": password}),
        None,
    )
    .0
}

const PASSWORD: &str = "một mật khẩu đủ dài";

#[test]
fn signing_up_mails_a_link_that_confirms_the_address() {
    if !SmtpReceiver::available("signing_up_mails_a_link") {
        return;
    }
    let ws = Workspace::new();
    let smtp = SmtpReceiver::start(ws.dir.path(), free_port());
    let server = Server::start(
        &ws,
        &[
            "--smtp-url",
            &smtp.url(),
            "--mail-from",
            "San giao dich <no-reply@techmatch.test>",
        ],
    );
    let (status, answer) = post(
        &server,
        "/api/v1/signup",
        json!({"email": "Lan@CongTy.vn", "password": PASSWORD, "name": "Nguyễn Thị Lan"}),
        None,
    );
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["email"], "lan@congty.vn");
    // Not confirmed yet: the right password gives no token.
    assert_eq!(sign_in(&server, "lan@congty.vn", PASSWORD), 403);

    let mails = smtp.wait_for(1);
    let (to, subject, body) = &mails[0];
    assert!(to.contains("lan@congty.vn"), "{to}");
    assert!(
        subject.contains("Xác nhận") && subject.contains("Confirm"),
        "{subject}"
    );
    assert!(body.contains("Nguyễn Thị Lan"), "{body}");
    let confirm = link_path(body, "confirm");
    let (status, page) = server.request("GET", &confirm, None, None);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("lan@congty.vn"), "{page}");
    assert_eq!(sign_in(&server, "lan@congty.vn", PASSWORD), 201);
    // A link works once.
    let (status, page) = server.request("GET", &confirm, None, None);
    assert_eq!(status, 404, "{page}");

    // Signing up again with a taken address answers the same, makes no second account, and
    // tells the address's owner.
    let (status, _) = post(
        &server,
        "/api/v1/signup",
        json!({"email": "lan@congty.vn", "password": "another long password", "name": "X"}),
        None,
    );
    assert_eq!(status, 201);
    let mails = smtp.wait_for(2);
    assert!(
        mails[1].1.contains("already have an account"),
        "{:?}",
        mails[1]
    );
    assert_eq!(
        sign_in(&server, "lan@congty.vn", "another long password"),
        401
    );
    assert_eq!(sign_in(&server, "lan@congty.vn", PASSWORD), 201);

    // Bad input names its field.
    for (body, field) in [
        (
            json!({"email": "not-an-address", "password": PASSWORD, "name": "A"}),
            "email",
        ),
        (
            json!({"email": "a@b.vn", "password": "short", "name": "A"}),
            "password",
        ),
        (
            json!({"email": "a@b.vn", "password": PASSWORD, "name": " "}),
            "name",
        ),
        (
            json!({"email": "a@b.vn", "password": PASSWORD, "name": "A", "role": "admin"}),
            "role",
        ),
    ] {
        let (status, answer) = post(&server, "/api/v1/signup", body, None);
        assert_eq!(status, 400, "{answer}");
        assert_eq!(answer["error"]["field"], field, "{answer}");
    }
}

#[test]
fn a_forgotten_password_is_reset_by_a_link_in_the_mail() {
    if !SmtpReceiver::available("password_reset") {
        return;
    }
    let ws = Workspace::new();
    let smtp = SmtpReceiver::start(ws.dir.path(), free_port());
    let server = Server::start(&ws, &["--smtp-url", &smtp.url()]);
    post(
        &server,
        "/api/v1/signup",
        json!({"email": "binh@vien.vn", "password": PASSWORD, "name": "Bình"}),
        None,
    );
    let mails = smtp.wait_for(1);
    let confirm = link_path(&mails[0].2, "confirm");
    assert_eq!(server.request("GET", &confirm, None, None).0, 200);
    let (status, issued) = post(
        &server,
        "/api/v1/tokens",
        json!({"email": "binh@vien.vn", "password": PASSWORD}),
        None,
    );
    assert_eq!(status, 201);
    let token = issued["token"].as_str().expect("token").to_string();

    // An address without an account gets the same answer and no mail.
    let (status, _) = post(
        &server,
        "/api/v1/password-resets",
        json!({"email": "nobody@vien.vn"}),
        None,
    );
    assert_eq!(status, 202);
    let (status, _) = post(
        &server,
        "/api/v1/password-resets",
        json!({"email": "BINH@vien.vn"}),
        None,
    );
    assert_eq!(status, 202);
    let mails = smtp.wait_for(2);
    assert_eq!(mails.len(), 2, "no mail for an address without an account");
    assert!(mails[1].0.contains("binh@vien.vn"));
    let reset = link_path(&mails[1].2, "reset");
    let api = format!("/api/v1/password-resets/{}", &reset["/reset/".len()..]);
    // A too-short password is refused and the link still works.
    let (status, answer) = post(&server, &api, json!({"password": "short"}), None);
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"]["field"], "password");
    let (status, answer) = post(
        &server,
        &api,
        json!({"password": "mật khẩu mới cũng dài"}),
        None,
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(sign_in(&server, "binh@vien.vn", PASSWORD), 401);
    assert_eq!(
        sign_in(&server, "binh@vien.vn", "mật khẩu mới cũng dài"),
        201
    );
    // The old token ended with the reset, and the link works once.
    let (status, _) = server.request("DELETE", "/api/v1/tokens/tk-0", Some(&token), None);
    assert_eq!(status, 401, "the old token was revoked");
    let (status, _) = post(
        &server,
        &api,
        json!({"password": "yet another password"}),
        None,
    );
    assert_eq!(status, 404);
}

#[test]
fn mail_waits_in_the_outbox_while_smtp_is_away_and_survives_a_kill() {
    if !SmtpReceiver::available("outbox") {
        return;
    }
    let ws = Workspace::new();
    let port = free_port();
    let url = format!("smtp://127.0.0.1:{port}");
    let args = ["--smtp-url", url.as_str(), "--mail-retry-seconds", "1"];
    let mut server = Server::start(&ws, &args);
    let admin = std::fs::read_to_string(ws.data().join("admin.token")).expect("admin token");
    let admin = admin.trim().to_string();
    let (status, _) = post(
        &server,
        "/api/v1/signup",
        json!({"email": "chi@congty.vn", "password": PASSWORD, "name": "Chi"}),
        None,
    );
    assert_eq!(status, 201);
    // Nobody listens on the port: the attempt fails, and administrators see why.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mail = loop {
        let (status, body) = server.request("GET", "/api/v1/admin/outbox", Some(&admin), None);
        assert_eq!(status, 200, "{body}");
        let answer: Value = serde_json::from_str(&body).expect("JSON");
        let mail = answer["mails"][0].clone();
        if mail["attempts"].as_u64().unwrap_or(0) >= 1 {
            break mail;
        }
        assert!(Instant::now() < deadline, "no delivery attempt: {answer}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(mail["to"], "chi@congty.vn");
    assert!(
        mail["last_error"].as_str().is_some_and(|e| !e.is_empty()),
        "{mail}"
    );
    assert!(mail.get("sent_at").is_none_or(Value::is_null), "{mail}");
    let (status, _) = server.request("GET", "/api/v1/admin/outbox", None, None);
    assert_eq!(status, 401, "the outbox is for administrators");

    // The process dies; the mail is in the store, not in its memory.
    server.child.kill().expect("SIGKILL");
    server.child.wait().expect("reaped");
    let smtp = SmtpReceiver::start(ws.dir.path(), port);
    let server = Server::start(&ws, &args);
    let mails = smtp.wait_for(1);
    assert!(mails[0].0.contains("chi@congty.vn"));
    // Delivered once: give a repeat the time it would need, then count again.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(smtp.received().len(), 1);
    let confirm = link_path(&mails[0].2, "confirm");
    assert_eq!(server.request("GET", &confirm, None, None).0, 200);
    assert_eq!(sign_in(&server, "chi@congty.vn", PASSWORD), 201);
    let (_, body) = server.request("GET", "/api/v1/admin/outbox", Some(&admin), None);
    let answer: Value = serde_json::from_str(&body).expect("JSON");
    assert!(answer["mails"][0]["sent_at"].is_string(), "{answer}");
}
