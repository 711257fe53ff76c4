//! `techmatch user add` and `user reset-password` with the real binary, and signing in to the
//! real server with the account made; secrets stay out of its logs.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};

use crate::cli::Server;
use crate::common::{stderr, stdout, Workspace};

const PASSWORD: &str = "mật khẩu của quản trị viên";

/// Runs the binary with `input` on standard input.
pub fn cli_with_stdin(ws: &Workspace, args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_techmatch"))
        .arg("--data-dir")
        .arg(ws.data())
        .args(args)
        .env("TECHMATCH_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run techmatch");
    // A command that refuses its arguments exits before reading: a broken pipe is no failure.
    let _ = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes());
    child.wait_with_output().expect("wait")
}

fn sign_in(server: &Server, email: &str, password: &str) -> (u16, Value) {
    let body = json!({"email": email, "password": password}).to_string();
    let (status, body) = server.request("POST", "/api/v1/tokens", None, Some(&body));
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

#[test]
fn user_add_reads_the_password_from_stdin_and_the_user_signs_in() {
    let ws = Workspace::new();
    let out = cli_with_stdin(
        &ws,
        &[
            "user",
            "add",
            "Admin@SoKHCN.gov.vn",
            "--role",
            "admin",
            "--password-stdin",
        ],
        &format!("{PASSWORD}\n"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "added admin admin@sokhcn.gov.vn");
    let out = cli_with_stdin(
        &ws,
        &[
            "user",
            "add",
            "moigioi@cantho.gov.vn",
            "--role",
            "broker",
            "--province",
            "Can Tho",
            "--password-stdin",
        ],
        "một mật khẩu khác\r\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out).trim(),
        "added broker moigioi@cantho.gov.vn, province 92"
    );

    let server = Server::start(&ws, &[]);
    let (status, issued) = sign_in(&server, "admin@sokhcn.gov.vn", PASSWORD);
    assert_eq!(status, 201, "{issued}");
    assert_eq!(issued["user"]["role"], "admin");
    let token = issued["token"].as_str().unwrap();
    let (status, body) = server.request("GET", "/api/v1/reports/national", Some(token), None);
    assert_eq!(status, 200, "{body}");
    // The line ending is not part of the password.
    let (status, _) = sign_in(&server, "moigioi@cantho.gov.vn", "một mật khẩu khác");
    assert_eq!(status, 201);

    // The server holds the data directory: the commands go through it, as its administrator.
    let out = cli_with_stdin(
        &ws,
        &[
            "user",
            "reset-password",
            "ADMIN@sokhcn.gov.vn",
            "--password-stdin",
        ],
        "mật khẩu mới đủ dài\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out).trim(),
        "password of admin@sokhcn.gov.vn reset; 1 API token(s) revoked"
    );
    assert_eq!(sign_in(&server, "admin@sokhcn.gov.vn", PASSWORD).0, 401);
    assert_eq!(
        sign_in(&server, "admin@sokhcn.gov.vn", "mật khẩu mới đủ dài").0,
        201
    );
    let out = cli_with_stdin(
        &ws,
        &[
            "user",
            "add",
            "vien@vienlua.vn",
            "--role",
            "institute",
            "--org",
            "Viện Lúa",
            "--password-stdin",
        ],
        "mật khẩu của viện lúa\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out).trim(),
        "added institute vien@vienlua.vn, organisation \"Viện Lúa\""
    );
    assert_eq!(
        sign_in(&server, "vien@vienlua.vn", "mật khẩu của viện lúa").0,
        201
    );
    // The server's own checks answer, with its message.
    let out = cli_with_stdin(
        &ws,
        &[
            "user",
            "add",
            "vien@vienlua.vn",
            "--role",
            "institute",
            "--org",
            "Viện Lúa",
            "--password-stdin",
        ],
        "mật khẩu của viện lúa\n",
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    let (status, _) = server.request("GET", "/api/v1/reports/national", Some(token), None);
    assert_eq!(status, 401, "the old token was revoked");
}

#[test]
fn user_add_refuses_incomplete_or_weak_accounts() {
    let ws = Workspace::new();
    let pw = "đủ mười ký tự trở lên\n";
    for (args, input, message) in [
        (
            vec![
                "user",
                "add",
                "b@x.vn",
                "--role",
                "broker",
                "--password-stdin",
            ],
            pw,
            "a broker needs --province",
        ),
        (
            vec![
                "user",
                "add",
                "i@x.vn",
                "--role",
                "institute",
                "--password-stdin",
            ],
            pw,
            "need --org",
        ),
        (
            vec![
                "user",
                "add",
                "a@x.vn",
                "--role",
                "admin",
                "--org",
                "X",
                "--password-stdin",
            ],
            pw,
            "an admin has no province or organisation",
        ),
        (
            vec![
                "user",
                "add",
                "b@x.vn",
                "--role",
                "broker",
                "--province",
                "Atlantis",
                "--password-stdin",
            ],
            pw,
            "unknown province",
        ),
        (
            vec![
                "user",
                "add",
                "e@x.vn",
                "--role",
                "enterprise",
                "--org",
                "X",
                "--password-stdin",
            ],
            "ngắn quá\n",
            "at least 10 characters",
        ),
        (
            vec![
                "user",
                "add",
                "e@x.vn",
                "--role",
                "enterprise",
                "--org",
                "X",
                "--password-stdin",
            ],
            "",
            "no password on standard input",
        ),
        (
            vec![
                "user",
                "add",
                "not-an-email",
                "--role",
                "enterprise",
                "--org",
                "X",
                "--password-stdin",
            ],
            pw,
            "is not an e-mail address",
        ),
        (
            vec![
                "user",
                "add",
                "e@x.vn",
                "--role",
                "root",
                "--org",
                "X",
                "--password-stdin",
            ],
            pw,
            "expected one of admin, broker, institute, enterprise",
        ),
        (
            vec![
                "user",
                "add",
                "e@x.vn",
                "--role",
                "enterprise",
                "--org",
                "X",
            ],
            pw,
            "--password-stdin",
        ),
        (
            vec!["user", "reset-password", "nobody@x.vn", "--password-stdin"],
            pw,
            "no user with e-mail nobody@x.vn",
        ),
    ] {
        let out = cli_with_stdin(&ws, &args, input);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
    }
    let ok = [
        "user",
        "add",
        "e@x.vn",
        "--role",
        "enterprise",
        "--org",
        "Công ty X",
        "--password-stdin",
    ];
    assert!(cli_with_stdin(&ws, &ok, pw).status.success());
    let out = cli_with_stdin(&ws, &ok, pw);
    assert!(
        stderr(&out).contains("a user with e-mail e@x.vn already exists"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn passwords_and_tokens_stay_out_of_the_server_log() {
    let ws = Workspace::new();
    let add = [
        "user",
        "add",
        "lan@vien.vn",
        "--role",
        "institute",
        "--org",
        "Viện A",
        "--password-stdin",
    ];
    assert!(cli_with_stdin(&ws, &add, &format!("{PASSWORD}\n"))
        .status
        .success());
    let log = ws.dir.path().join("server.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_techmatch"))
        .arg("--data-dir")
        .arg(ws.data())
        .args(["serve", "--addr", "127.0.0.1:0"])
        .env("TECHMATCH_LOG", "debug")
        .env("TECHMATCH_EMBEDDER_URL", "off")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = lines
        .map_while(Result::ok)
        .find_map(|l| l.strip_prefix("listening on http://").map(str::to_string))
        .unwrap();
    let server = Server {
        child,
        addr,
        token: None,
        metrics_addr: None,
        printed: String::new(),
    };
    let (status, issued) = sign_in(&server, "lan@vien.vn", PASSWORD);
    assert_eq!(status, 201);
    let token = issued["token"].as_str().unwrap().to_string();
    let (status, _) = server.request("GET", "/api/v1/leads", Some(&token), None);
    assert_eq!(status, 200);
    assert_eq!(sign_in(&server, "lan@vien.vn", "một lần đoán sai").0, 401);
    assert!(server.terminate().success());
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("listening"), "the log was captured: {text}");
    for secret in [PASSWORD, "một lần đoán sai", token.as_str()] {
        assert!(!text.contains(secret), "{secret:?} in the log");
    }
}
