//! `techmatch backup DIR` and `techmatch restore DIR`.
//!
//! A backup is taken by whoever holds the data directory: this command when it is free, else the
//! running server, asked through its API (its address is in `<data dir>/server.addr`).

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};

use techmatch::data_dir::DataDir;
use techmatch::indexer;
use techmatch::store::backup::{restore, BackupInfo};
use techmatch::store::{Store, StoreError};

/// Options of `backup`.
#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    /// A new (absent or empty) directory to hold the backup.
    dir: PathBuf,
}

/// Options of `restore`.
#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// A directory written by `techmatch backup`.
    dir: PathBuf,
}

pub fn backup(data: &DataDir, args: BackupArgs) -> anyhow::Result<ExitCode> {
    let dir = std::path::absolute(&args.dir)
        .with_context(|| format!("resolving {}", args.dir.display()))?;
    if data.store_url().is_some() {
        // The PostgreSQL store explains how it is backed up (pg_dump).
        data.open_backend()?.backup_to(&dir)?;
    }
    let info = match data.open_store() {
        Ok(store) => store.backup_to(&dir)?,
        Err(StoreError::Locked(_)) => through_server(data, &dir)?,
        Err(e) => return Err(e.into()),
    };
    println!(
        "backed up {} listing(s) up to change {} ({} bytes) into {}",
        info.listings,
        info.seq,
        info.bytes,
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Asks the server holding the data dir to take the backup.
fn through_server(data: &DataDir, dir: &std::path::Path) -> anyhow::Result<BackupInfo> {
    let addr_file = data.path().join("server.addr");
    let addr = std::fs::read_to_string(&addr_file).with_context(|| {
        format!(
            "the data directory is in use, but {} does not say by which server",
            addr_file.display()
        )
    })?;
    let (token, _) = data.admin_token()?;
    let body = serde_json::json!({ "dir": dir }).to_string();
    let mut stream = std::net::TcpStream::connect(addr.trim())
        .with_context(|| format!("connecting to the server at {}", addr.trim()))?;
    write!(
        stream,
        "POST /api/v1/admin/backup HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        addr.trim(),
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    if !head.starts_with("HTTP/1.1 200") {
        bail!("the server refused the backup: {body}");
    }
    serde_json::from_str(body).context("reading the server's answer")
}

pub fn restore_cmd(data: &DataDir, args: RestoreArgs) -> anyhow::Result<ExitCode> {
    if data.store_url().is_some() {
        bail!(
            "the store is in PostgreSQL: restore it with pg_restore, then run `techmatch reindex` \
             (or restart) on every node"
        );
    }
    // Opening the store proves no server holds it; it must be closed again before the swap.
    drop(data.open_store()?);
    let (info, kept) = restore(&args.dir, &data.store_path())?;
    let index_dir = data.index_path();
    if index_dir.exists() {
        std::fs::remove_dir_all(&index_dir)
            .with_context(|| format!("removing {}", index_dir.display()))?;
    }
    let store = data.open_store()?;
    let index = data.open_index()?;
    let bar = super::progress::bar(store.count()? as u64, "reindexing");
    indexer::rebuild(&store, &index, |n| bar.set_position(n as u64))?;
    bar.finish_and_clear();
    println!(
        "restored {} listing(s) up to change {} (taken {}); index rebuilt",
        info.listings, info.seq, info.taken_at
    );
    if let Some(old) = kept {
        println!("the previous store is kept in {}", old.display());
    }
    Ok(ExitCode::SUCCESS)
}
