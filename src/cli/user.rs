//! `techmatch user add` and `techmatch user reset-password`: accounts, managed by administrators
//! on the server's machine (the first admin is made this way), also while a server runs. Passwords come on standard input
//! only, never as arguments, which other users could read in the process list.

use std::io::BufRead;
use std::process::ExitCode;

use anyhow::{bail, Context};
use chrono::Utc;

use techmatch::accounts::{add_user, reset_password, NewUser};
use techmatch::data_dir::DataDir;
use techmatch::domain::account::Role;
use techmatch::store::StoreError;

/// Options of `user`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Add a user.
    Add {
        /// Sign-in e-mail.
        email: String,
        /// admin, broker, institute or enterprise.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// The broker's province (required for brokers); a member's own province (optional).
        #[arg(long)]
        province: Option<String>,
        /// The member's organisation, as listings name it in `owner` (required for members).
        #[arg(long)]
        org: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Set a new password; revokes the user's API tokens and lifts a sign-in lockout.
    ResetPassword {
        /// Sign-in e-mail.
        email: String,
        /// Read the password from the first line of standard input.
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

fn parse_role(input: &str) -> Result<Role, String> {
    Role::parse(input).ok_or_else(|| {
        let names: Vec<&str> = Role::ALL.iter().map(|r| r.name()).collect();
        format!("expected one of {}", names.join(", "))
    })
}

/// The first line of standard input without its line ending (the password may hold spaces).
fn password_from_stdin() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\n', '\r']).to_string();
    if password.is_empty() {
        bail!("no password on standard input (--password-stdin reads its first line)");
    }
    Ok(password)
}

/// Runs `user add` or `user reset-password`: on the store when it is free, else through the
/// server that holds it (its address is in `<data dir>/server.addr`), as an administrator.
pub fn run(data: &DataDir, args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Add {
            email,
            role,
            province,
            org,
            password_stdin: _,
        } => {
            let password = password_from_stdin()?;
            let user = match data.open_backend() {
                Ok(store) => {
                    let new = NewUser {
                        email: &email,
                        role,
                        province: province.as_deref(),
                        org: org.as_deref(),
                        password: &password,
                    };
                    let user = add_user(store.as_accounts(), new, Utc::now())?;
                    Added {
                        email: user.email,
                        role: user.role,
                        province: user.province.map(|p| p.to_string()),
                        org: user.org,
                    }
                }
                Err(StoreError::Locked(_)) => {
                    let body = serde_json::json!({
                        "email": email, "role": role.name(), "password": password,
                        "province": province, "org": org,
                    });
                    let answer = through_server(data, "/api/v1/users", &body)?;
                    serde_json::from_value(answer).context("reading the server's answer")?
                }
                Err(e) => return Err(e.into()),
            };
            let mut what = format!("added {} {}", user.role, user.email);
            if let Some(p) = &user.province {
                what.push_str(&format!(", province {p}"));
            }
            if let Some(o) = &user.org {
                what.push_str(&format!(", organisation {o:?}"));
            }
            println!("{what}");
        }
        Command::ResetPassword {
            email,
            password_stdin: _,
        } => {
            let password = password_from_stdin()?;
            let (email, revoked) = match data.open_backend() {
                Ok(store) => {
                    let (user, revoked) = reset_password(store.as_accounts(), &email, &password)?;
                    (user.email, revoked as u64)
                }
                Err(StoreError::Locked(_)) => {
                    let body = serde_json::json!({ "email": email, "password": password });
                    let answer = through_server(data, "/api/v1/users/password", &body)?;
                    let email = answer["email"].as_str().unwrap_or_default().to_string();
                    (email, answer["revoked"].as_u64().unwrap_or(0))
                }
                Err(e) => return Err(e.into()),
            };
            println!("password of {email} reset; {revoked} API token(s) revoked");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What the server's answer to a user command says of the user.
#[derive(Debug, serde::Deserialize)]
struct Added {
    email: String,
    role: Role,
    province: Option<String>,
    org: Option<String>,
}

/// Posts `body` to the server holding the data directory, as its administrator; the answer's
/// JSON, or the server's own error message.
fn through_server(
    data: &DataDir,
    path: &str,
    body: &serde_json::Value,
) -> anyhow::Result<serde_json::Value> {
    let addr_file = data.path().join("server.addr");
    let addr = std::fs::read_to_string(&addr_file).with_context(|| {
        format!(
            "the data directory is in use, but {} does not say by which server",
            addr_file.display()
        )
    })?;
    let (token, _) = data.admin_token()?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(std::time::Duration::from_secs(60)))
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!("http://{}{path}", addr.trim());
    let mut response = agent
        .post(&url)
        .header("Content-Type", "application/json")
        .header("Authorization", &format!("Bearer {token}"))
        .send(body.to_string().as_bytes())
        .with_context(|| format!("asking the server at {}", addr.trim()))?;
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string()?;
    let answer: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("the server answered {status}"))?;
    if !(200..300).contains(&status) {
        let message = answer["error"]["message"].as_str().unwrap_or(&text);
        bail!("the server refused: {message}");
    }
    Ok(answer)
}
