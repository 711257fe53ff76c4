//! `techmatch user add` and `techmatch user reset-password`: accounts, managed by administrators
//! on the server's machine (the first admin is made this way). Passwords come on standard input
//! only, never as arguments, which other users could read in the process list.

use std::io::BufRead;
use std::process::ExitCode;

use anyhow::{bail, Context};
use chrono::Utc;

use crate::accounts::{add_user, reset_password, NewUser};
use crate::data_dir::DataDir;
use crate::domain::account::Role;

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

/// Runs `user add` or `user reset-password`.
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
            let store = data.open_backend()?;
            let new = NewUser {
                email: &email,
                role,
                province: province.as_deref(),
                org: org.as_deref(),
                password: &password,
            };
            let user = add_user(store.as_accounts(), new, Utc::now())?;
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
            let store = data.open_backend()?;
            let (user, revoked) = reset_password(store.as_accounts(), &email, &password)?;
            println!(
                "password of {} reset; {revoked} API token(s) revoked",
                user.email
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
