//! The store's contract, written once and run on both backends: a temporary sled store, and
//! PgStore over a throw-away PostgreSQL cluster. Every check takes two handles on "one" store:
//! for sled the same store twice (it allows one process), for PostgreSQL two independent
//! `PgStore`s with their own connections, as two nodes would have.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::json;

use techmatch::domain::account::{ApiToken, Failures, Role, Session, User, MAX_FAILURES};
use techmatch::domain::alert::{Delivery, Notification, SavedQuery, StandingSearch};
use techmatch::domain::deal::{Deal, DealEvent, EventKind, Stage};
use techmatch::domain::mail::{Mail, Purpose, Ticket};
use techmatch::domain::Listing;
use techmatch::store::{Backend, ChangeOp, PgStore, SledStore, StoreError};
use techmatch_bench::pg::TempCluster;

use crate::common::postgres_installed;

type Handle = Arc<dyn Backend>;

fn listing(id: &str, title: &str) -> Listing {
    serde_json::from_value(json!({
        "id": id,
        "kind": "need",
        "title": title,
        "description": "kiểm thử kho dữ liệu",
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    }))
    .unwrap()
}

fn user(id: &str, email: &str) -> User {
    User {
        id: id.into(),
        email: email.into(),
        role: Role::Enterprise,
        province: None,
        org: None,
        org_id: None,
        password_hash: "not-a-real-hash".into(),
        created_at: Utc::now(),
        name: None,
        confirmed: true,
    }
}

/// Runs `check` on a sled store, then on two PgStores over one cluster (unless PostgreSQL is
/// absent and CI is not set).
fn on_both(name: &str, check: fn(&Handle, &Handle)) {
    let sled: Handle = Arc::new(SledStore::temporary().unwrap());
    let started = Instant::now();
    check(&sled, &sled);
    eprintln!("{name}: sled {:?}", started.elapsed());
    if !postgres_installed(name) {
        return;
    }
    let cluster = TempCluster::start().unwrap();
    let url = cluster.url();
    let a: Handle = Arc::new(PgStore::open(&url).unwrap());
    let b: Handle = Arc::new(PgStore::open(&url).unwrap());
    let started = Instant::now();
    check(&a, &b);
    eprintln!("{name}: postgres {:?}", started.elapsed());
}

fn listings_put_get_update_delete(a: &Handle, b: &Handle) {
    let (a, b) = (a.as_store(), b.as_store());
    assert_eq!(a.last_seq().unwrap(), 0);
    assert_eq!(
        a.put_all(&[listing("x", "one"), listing("y", "two")])
            .unwrap(),
        2
    );
    // Written through one handle, read through the other.
    assert_eq!(b.get("x").unwrap().unwrap().title, "one");
    assert_eq!(b.count().unwrap(), 2);
    // The same id twice in one call: the last wins, and both changes are logged.
    assert_eq!(
        b.put_all(&[listing("z", "first"), listing("z", "second")])
            .unwrap(),
        4
    );
    assert_eq!(a.get("z").unwrap().unwrap().title, "second");

    let updated = b
        .update(
            "x",
            Box::new(|old| old.map(|l| listing(&l.id, &format!("{} again", l.title)))),
        )
        .unwrap();
    assert_eq!(updated.previous.unwrap().title, "one");
    assert_eq!(updated.seq, Some(5));
    assert_eq!(a.get("x").unwrap().unwrap().title, "one again");
    // Deciding to write nothing writes nothing and takes no sequence.
    let nothing = a.update("absent", Box::new(|_| None)).unwrap();
    assert!(nothing.previous.is_none() && nothing.seq.is_none());
    assert_eq!(b.last_seq().unwrap(), 5);

    assert_eq!(a.delete("y").unwrap(), Some(6));
    assert_eq!(b.delete("y").unwrap(), None);
    assert!(b.get("y").unwrap().is_none());

    let log = b.changes_since(0, 100).unwrap();
    let seen: Vec<(u64, &str, ChangeOp)> =
        log.iter().map(|c| (c.seq, c.id.as_str(), c.op)).collect();
    assert_eq!(
        seen,
        vec![
            (1, "x", ChangeOp::Put),
            (2, "y", ChangeOp::Put),
            (3, "z", ChangeOp::Put),
            (4, "z", ChangeOp::Put),
            (5, "x", ChangeOp::Put),
            (6, "y", ChangeOp::Delete),
        ]
    );
    assert_eq!(a.changes_since(4, 1).unwrap()[0].seq, 5);
    assert!(a.changes_since(6, 10).unwrap().is_empty());
    let ids: Vec<String> = a.scan().map(|l| l.unwrap().id).collect();
    assert_eq!(ids, ["x", "z"]);
    let many = b.get_many(&["z", "y", "x", "z"]).unwrap();
    let titles: Vec<Option<&str>> = many
        .iter()
        .map(|l| l.as_ref().map(|l| l.title.as_str()))
        .collect();
    assert_eq!(
        titles,
        [Some("second"), None, Some("one again"), Some("second")]
    );
}

#[test]
fn store_listings_put_get_update_delete() {
    on_both("store_listings", listings_put_get_update_delete);
}

fn scan_pages_through_many_listings_in_id_order(a: &Handle, _: &Handle) {
    let listings: Vec<Listing> = (0..2_500)
        .map(|i| listing(&format!("id-{i:05}"), "t"))
        .collect();
    a.as_store().put_all(&listings).unwrap();
    let ids: Vec<String> = a.as_store().scan().map(|l| l.unwrap().id).collect();
    let expected: Vec<String> = listings.iter().map(|l| l.id.clone()).collect();
    assert_eq!(ids, expected);
}

#[test]
fn store_scan_pages_in_id_order() {
    on_both("store_scan", scan_pages_through_many_listings_in_id_order);
}

/// Writers on several threads (half on each handle) while a follower tails the log: it must
/// see every sequence exactly once and in order, the property a node's index relies on.
fn concurrent_writers_leave_a_gapless_ordered_log(a: &Handle, b: &Handle) {
    const THREADS: usize = 6;
    const WRITES: usize = 40;
    let done = Arc::new(AtomicBool::new(false));
    let follower = {
        let (store, done) = (b.clone(), done.clone());
        std::thread::spawn(move || {
            let mut applied = 0;
            let mut seen = 0usize;
            loop {
                let finished = done.load(Ordering::SeqCst);
                let changes = store.as_store().changes_since(applied, 50).unwrap();
                for c in &changes {
                    assert_eq!(c.seq, applied + 1, "the follower saw a gap or a reorder");
                    applied = c.seq;
                    seen += 1;
                }
                if finished && changes.is_empty() {
                    return (applied, seen);
                }
            }
        })
    };
    let barrier = Arc::new(Barrier::new(THREADS));
    let writers: Vec<_> = (0..THREADS)
        .map(|t| {
            let store = if t % 2 == 0 { a.clone() } else { b.clone() };
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                let s = store.as_store();
                for i in 0..WRITES {
                    let id = format!("w{t}-{i}");
                    match i % 4 {
                        0 => {
                            s.put_all(&[listing(&id, "a"), listing(&format!("{id}b"), "b")])
                                .unwrap();
                        }
                        1 => {
                            s.update(&id, Box::new(|_| Some(listing(&id, "u"))))
                                .unwrap();
                        }
                        2 => {
                            s.delete(&format!("w{t}-{}", i - 2)).unwrap();
                        }
                        _ => {
                            s.put_all(&[listing(&id, "c")]).unwrap();
                        }
                    }
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    done.store(true, Ordering::SeqCst);
    let (applied, seen) = follower.join().unwrap();
    // Per thread and 4 writes: 2 + 1 + 1 (delete of an existing listing) + 1.
    let expected = (THREADS * WRITES / 4 * 5) as u64;
    assert_eq!(a.as_store().last_seq().unwrap(), expected);
    assert_eq!(applied, expected);
    assert_eq!(seen as u64, expected);
}

#[test]
fn store_concurrent_writers_gapless_ordered_log() {
    on_both(
        "store_gapless",
        concurrent_writers_leave_a_gapless_ordered_log,
    );
}

/// 8 threads (on two handles) × 50 read-modify-write increments of one listing lose none.
fn updates_are_atomic_under_contention(a: &Handle, b: &Handle) {
    a.as_store().put_all(&[listing("counter", "0")]).unwrap();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let store = if t % 2 == 0 { a.clone() } else { b.clone() };
            std::thread::spawn(move || {
                for _ in 0..50 {
                    store
                        .as_store()
                        .update(
                            "counter",
                            Box::new(|old| {
                                let n: u32 = old?.title.parse().ok()?;
                                Some(listing("counter", &(n + 1).to_string()))
                            }),
                        )
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(b.as_store().get("counter").unwrap().unwrap().title, "400");
    assert_eq!(a.as_store().last_seq().unwrap(), 401);
}

#[test]
fn store_update_is_atomic_under_contention() {
    on_both("store_update_atomic", updates_are_atomic_under_contention);
}

/// Two nodes counting failed sign-ins against one key at once: the count is exact. Two nodes
/// adding the same e-mail at once: exactly one wins.
fn account_writes_are_atomic_across_nodes(a: &Handle, b: &Handle) {
    let now = Utc::now();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let store = if t % 2 == 0 { a.clone() } else { b.clone() };
            std::thread::spawn(move || {
                let mut won = 0;
                for i in 0..25 {
                    store.as_accounts().record_failure("addr:1", now).unwrap();
                    store
                        .as_accounts()
                        .change_failures("addr:2", now, Failures::reserve)
                        .unwrap();
                    let u = user(&format!("u{t}-{i}"), &format!("race{i}@example.vn"));
                    if store.as_accounts().add_user(&u).unwrap() {
                        won += 1;
                    }
                }
                won
            })
        })
        .collect();
    let won: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(won, 25, "each e-mail must be added exactly once");
    assert_eq!(
        b.as_accounts().failures("addr:1").unwrap().unwrap().count,
        200
    );
    for i in 0..25 {
        let email = format!("race{i}@example.vn");
        let found = a.as_accounts().user_by_email(&email).unwrap().unwrap();
        assert_eq!(found.email, email);
    }
    a.as_accounts().clear_failures("addr:1").unwrap();
    assert!(b.as_accounts().failures("addr:1").unwrap().is_none());
    // Attempts reserved before hashing stop at the lock, however many race for it.
    let reserved = b.as_accounts().failures("addr:2").unwrap().unwrap();
    assert_eq!(reserved.count, MAX_FAILURES);
    let (_, after) = a
        .as_accounts()
        .change_failures("addr:2", now, Failures::release)
        .unwrap();
    assert_eq!(after.map(|f| f.count), Some(MAX_FAILURES - 1));
}

#[test]
fn store_account_writes_are_atomic_across_nodes() {
    on_both(
        "store_accounts_atomic",
        account_writes_are_atomic_across_nodes,
    );
}

/// Users, tokens and sessions written through one handle are there through the other, and
/// revoking works from either.
fn accounts_tokens_and_sessions_are_shared(a: &Handle, b: &Handle) {
    let (a, b) = (a.as_accounts(), b.as_accounts());
    let mut u = user("u1", "lan@example.vn");
    assert!(a.add_user(&u).unwrap());
    assert!(!b.add_user(&user("u2", "lan@example.vn")).unwrap());
    u.org = Some("Viện".into());
    b.replace_user(&u).unwrap();
    assert_eq!(a.user("u1").unwrap().unwrap().org.as_deref(), Some("Viện"));
    assert!(a.user("u2").unwrap().is_none());

    for (id, hash) in [("t1", "h1"), ("t2", "h2")] {
        a.add_token(&ApiToken {
            id: id.into(),
            user_id: "u1".into(),
            hash: hash.into(),
            created_at: Utc::now(),
            expires_at: None,
        })
        .unwrap();
    }
    assert_eq!(b.token_by_hash("h1").unwrap().unwrap().id, "t1");
    assert_eq!(b.token("t2").unwrap().unwrap().hash, "h2");
    assert!(b.revoke_token("t1").unwrap());
    assert!(!a.revoke_token("t1").unwrap());
    assert!(a.token_by_hash("h1").unwrap().is_none());
    assert_eq!(a.revoke_tokens_of("u1").unwrap(), 1);
    assert!(b.token("t2").unwrap().is_none());

    let session = |hash: &str| Session {
        hash: hash.into(),
        user_id: "u1".into(),
        created_at: Utc::now(),
        expires_at: Utc::now() + chrono::Duration::hours(1),
    };
    a.add_session(&session("s1")).unwrap();
    a.add_session(&session("s2")).unwrap();
    assert_eq!(b.session_by_hash("s1").unwrap().unwrap().user_id, "u1");
    assert!(b.remove_session("s1").unwrap());
    assert!(!a.remove_session("s1").unwrap());
    assert_eq!(b.remove_sessions_of("u1").unwrap(), 1);
    assert!(a.session_by_hash("s2").unwrap().is_none());
}

#[test]
fn store_accounts_tokens_sessions_shared() {
    on_both(
        "store_accounts_shared",
        accounts_tokens_and_sessions_are_shared,
    );
}

/// Mail queued through one handle is claimed once across both: a claim keeps the other node
/// away until it lapses, sent mail is never claimed again, and a ticket is taken once.
fn the_outbox_hands_each_mail_to_one_sender(a: &Handle, b: &Handle) {
    let now = Utc::now();
    for (i, to) in ["a@x.vn", "b@x.vn", "c@x.vn"].iter().enumerate() {
        let mut mail = Mail::new(format!("m-{i}"), to, "subject", "body".into(), now);
        if i == 2 {
            mail.next_attempt_at = now + chrono::Duration::hours(1);
        }
        a.enqueue(&mail).unwrap();
    }
    let lease = now + chrono::Duration::minutes(10);
    let first = b.claim_due(now, lease, 1).unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].id, "m-0", "oldest first");
    let rest = a.claim_due(now, lease, 10).unwrap();
    let ids: Vec<&str> = rest.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["m-1"], "claimed and not yet due mail are left out");
    assert!(b.claim_due(now, lease, 10).unwrap().is_empty());

    let mut sent = first[0].clone();
    sent.attempts = 1;
    sent.sent_at = Some(now);
    a.update_mail(&sent).unwrap();
    let mut failed = rest[0].clone();
    failed.attempts = 1;
    failed.last_error = Some("refused".into());
    failed.next_attempt_at = now;
    b.update_mail(&failed).unwrap();
    // After the claims lapse only the failed one comes back.
    let later = now + chrono::Duration::minutes(11);
    let again = a
        .claim_due(later, later + chrono::Duration::minutes(10), 10)
        .unwrap();
    let ids: Vec<&str> = again.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["m-1"]);
    assert_eq!(again[0].last_error.as_deref(), Some("refused"));
    let late = now + chrono::Duration::hours(2);
    let due = b.claim_due(late, late, 10).unwrap();
    assert!(due.iter().any(|m| m.id == "m-2") && !due.iter().any(|m| m.id == "m-0"));

    let recent: Vec<String> = b
        .recent_mail(2)
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(recent, ["m-2", "m-1"], "newest first");
    assert!(a.mail("m-0").unwrap().unwrap().sent_at.is_some());
    assert!(b.mail("m-9").unwrap().is_none());

    let ticket = Ticket {
        hash: "secret-hash".into(),
        purpose: Purpose::ConfirmEmail,
        user_id: "u1".into(),
        email: "a@x.vn".into(),
        expires_at: now + chrono::Duration::hours(1),
        org_id: None,
    };
    a.add_ticket(&ticket).unwrap();
    let (ta, tb) = std::thread::scope(|s| {
        let ta = s.spawn(|| a.take_ticket("secret-hash").unwrap());
        let tb = s.spawn(|| b.take_ticket("secret-hash").unwrap());
        (ta.join().unwrap(), tb.join().unwrap())
    });
    assert_eq!(
        usize::from(ta.is_some()) + usize::from(tb.is_some()),
        1,
        "a ticket is taken once"
    );
    assert_eq!(ta.or(tb).unwrap().purpose, Purpose::ConfirmEmail);
    assert!(a.take_ticket("secret-hash").unwrap().is_none());
}

#[test]
fn store_outbox_hands_each_mail_to_one_sender() {
    on_both("store_outbox", the_outbox_hands_each_mail_to_one_sender);
}

/// A deal moved by four threads on two handles at once: every move is applied, and the
/// history is numbered 1..=N without gaps.
fn deals_keep_every_move_in_their_history(a: &Handle, b: &Handle) {
    let now = Utc::now();
    let deal = Deal {
        id: "d1".into(),
        need_id: "n1".into(),
        listing_id: "l1".into(),
        lead_id: None,
        need_province: None,
        listing_province: None,
        stage: Stage::Proposed,
        contract_value_vnd: None,
        signed_on: None,
        lost_reason: None,
        created_by: "broker".into(),
        created_at: now,
        updated_at: now,
    };
    let first = DealEvent {
        n: 0,
        at: now,
        by: "broker".into(),
        what: EventKind::Proposed {
            need_id: "n1".into(),
            listing_id: "l1".into(),
        },
        note: None,
    };
    a.add_deal(&deal, &first).unwrap();
    assert_eq!(b.deal("d1").unwrap().unwrap().stage, Stage::Proposed);
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let store = if t % 2 == 0 { a.clone() } else { b.clone() };
            std::thread::spawn(move || {
                for i in 0..10 {
                    let before = store
                        .update_deal(
                            "d1",
                            Box::new(move |d| {
                                let mut next = d.clone();
                                next.created_by = format!("{}+", d.created_by);
                                let event = DealEvent {
                                    n: 0,
                                    at: Utc::now(),
                                    by: format!("t{t}"),
                                    what: EventKind::Proposed {
                                        need_id: "n1".into(),
                                        listing_id: "l1".into(),
                                    },
                                    note: Some(format!("{t}/{i}")),
                                };
                                Some((next, event))
                            }),
                        )
                        .unwrap();
                    assert!(before.is_some());
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    // Deciding to write nothing leaves deal and history as they are; an absent deal is None.
    assert!(a.update_deal("d1", Box::new(|_| None)).unwrap().is_some());
    assert!(b.update_deal("nope", Box::new(|_| None)).unwrap().is_none());
    let history = b.history("d1").unwrap();
    let numbers: Vec<u32> = history.iter().map(|e| e.n).collect();
    assert_eq!(numbers, (1..=41).collect::<Vec<u32>>());
    let notes: HashSet<_> = history.iter().filter_map(|e| e.note.clone()).collect();
    assert_eq!(notes.len(), 40);
    let stored = a.deal("d1").unwrap().unwrap();
    assert_eq!(stored.created_by, format!("broker{}", "+".repeat(40)));
    assert_eq!(b.deals().unwrap().len(), 1);
}

#[test]
fn store_deals_keep_every_move() {
    on_both("store_deals", deals_keep_every_move_in_their_history);
}

/// The sync store called straight from a tokio worker thread (as some handlers do) works,
/// instead of panicking on a runtime inside a runtime.
#[test]
fn pg_store_works_when_called_on_a_tokio_worker_thread() {
    if !postgres_installed("pg_store_on_tokio_worker") {
        return;
    }
    let cluster = TempCluster::start().unwrap();
    let store = Arc::new(PgStore::open(&cluster.connection_string()).unwrap());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let seq = rt.block_on({
        let store = store.clone();
        async move {
            let handles: Vec<_> = (0..4)
                .map(|i| {
                    let store = store.clone();
                    tokio::spawn(async move {
                        use techmatch::store::Store;
                        store.put_all(&[listing(&format!("a{i}"), "t")]).unwrap()
                    })
                })
                .collect();
            let mut last = 0;
            for h in handles {
                last = last.max(h.await.unwrap());
            }
            last
        }
    });
    assert_eq!(seq, 4);
}

/// A stopped server fails calls with `Backend` (the API's 503), and the store reconnects by
/// itself once the server is back; a listener wakes its node again.
#[test]
fn pg_store_reports_a_lost_server_and_reconnects() {
    if !postgres_installed("pg_store_reconnects") {
        return;
    }
    use techmatch::store::Store;
    let cluster = TempCluster::start().unwrap();
    let store = PgStore::open(&cluster.connection_string()).unwrap();
    store.put_all(&[listing("before", "t")]).unwrap();
    let woken = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = woken.clone();
    store
        .listen(Arc::new(move |seq| {
            // Only notifications of a committed change count, not the idle ticks.
            if seq.is_some_and(|s| s > 0) {
                counter.fetch_add(1, Ordering::SeqCst);
            }
            true
        }))
        .unwrap();
    // While the server is down, calls fail at once (a stopped server, not a restart: a
    // connection idle for a second is checked before use, so a restart slower than that —
    // under load — is ridden out without any call failing, and could not be told from a store
    // that hides its failures); once it is back, a later call reconnects.
    cluster.pause().unwrap();
    let mut failures = 0;
    match store.get("before") {
        Err(StoreError::Backend(_)) => failures += 1,
        other => panic!("a stopped server must fail the call: {other:?}"),
    }
    cluster.resume().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match store.get("before") {
            Ok(found) => {
                assert!(found.is_some());
                break;
            }
            Err(StoreError::Backend(_)) => failures += 1,
            Err(e) => panic!("unexpected error {e}"),
        }
        assert!(Instant::now() < deadline, "never reconnected");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        failures >= 1,
        "a lost connection must be reported, not hidden"
    );
    // Give the listener time to reconnect (it retries every second), then write.
    std::thread::sleep(Duration::from_millis(2500));
    let before = woken.load(Ordering::SeqCst);
    store.put_all(&[listing("after", "t")]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while woken.load(Ordering::SeqCst) == before {
        assert!(Instant::now() < deadline, "the listener never woke again");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(store.last_seq().unwrap(), 2);
}

/// Per-client write buckets in PostgreSQL: ten threads on two nodes take from a bucket of five
/// at once and exactly five writes are granted; the rest are told how long to wait. sled keeps
/// none (each node counts in memory).
#[test]
fn pg_store_write_buckets_are_shared_between_nodes() {
    use techmatch::store::{AccountStore, WriteToken};
    assert!(!SledStore::temporary().unwrap().shares_write_limits());
    if !postgres_installed("pg_store_write_buckets") {
        return;
    }
    let cluster = TempCluster::start().unwrap();
    let nodes: Vec<Arc<PgStore>> = (0..2)
        .map(|_| Arc::new(PgStore::open(&cluster.connection_string()).unwrap()))
        .collect();
    assert!(nodes[0].shares_write_limits());
    let barrier = Arc::new(Barrier::new(10));
    let threads: Vec<_> = (0..10)
        .map(|t| {
            let (store, barrier) = (nodes[t % 2].clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                store.take_write("10.0.0.7", 0.01, 5.0).unwrap()
            })
        })
        .collect();
    let answers: Vec<WriteToken> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let taken = answers.iter().filter(|a| **a == WriteToken::Taken).count();
    assert_eq!(taken, 5, "{answers:?}");
    for a in &answers {
        if let WriteToken::Empty(wait) = a {
            // One token at 0.01/s takes up to 100 s to come back.
            assert!((1..=100).contains(wait), "{answers:?}");
        }
    }
    // Another client has a bucket of its own; a fast refill gives the first one back.
    assert_eq!(
        nodes[1].take_write("10.0.0.8", 0.01, 5.0).unwrap(),
        WriteToken::Taken
    );
    assert_eq!(
        nodes[0].take_write("10.0.0.9", 1000.0, 1.0).unwrap(),
        WriteToken::Taken
    );
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(
        nodes[1].take_write("10.0.0.9", 1000.0, 1.0).unwrap(),
        WriteToken::Taken
    );
}

/// Organisations: a name is claimed once across both handles whatever its case or Unicode form;
/// changes apply one after the other; a merge points the old name at the kept record; listings
/// are found by owner; an e-mail moves only to a free address.
fn organisations_names_merges_owners_and_addresses(a: &Handle, b: &Handle) {
    use techmatch::domain::org::{OrgKind, Organisation};
    let org = |id: &str, name: &str| Organisation {
        id: id.into(),
        name: name.into(),
        kind: OrgKind::Institute,
        province: None,
        registration_no: None,
        website: None,
        description: None,
        created_at: Utc::now(),
        admins: Vec::new(),
        verified: None,
        verification_history: Vec::new(),
        requests: Vec::new(),
        merged_into: None,
    };
    // Eight tries at one name from both handles at once: one wins.
    let barrier = Arc::new(Barrier::new(8));
    let wins: usize = std::thread::scope(|s| {
        let tries: Vec<_> = (0..8)
            .map(|i| {
                let (store, barrier) = (if i % 2 == 0 { a } else { b }.clone(), barrier.clone());
                let name = if i % 2 == 0 {
                    "Viện Hóa học"
                } else {
                    "VIỆN  HÓA HỌC"
                };
                s.spawn(move || {
                    barrier.wait();
                    usize::from(store.add_org(&org(&format!("org-{i}"), name)).unwrap())
                })
            })
            .collect();
        tries.into_iter().map(|t| t.join().unwrap()).sum()
    });
    assert_eq!(wins, 1);
    let kept = b.org_by_name("viện hóa học").unwrap().expect("the winner");
    // Changes from both handles apply one after the other.
    std::thread::scope(|s| {
        for (i, store) in [a, b, a, b].into_iter().enumerate() {
            let id = kept.id.clone();
            s.spawn(move || {
                store
                    .update_org(
                        &id,
                        Box::new(move |o| {
                            let mut next = o.clone();
                            next.admins.push(format!("u-{i}"));
                            Some(next)
                        }),
                    )
                    .unwrap();
            });
        }
    });
    assert_eq!(a.org(&kept.id).unwrap().unwrap().admins.len(), 4);
    // A merge points the old name at the kept record, once.
    assert!(b.add_org(&org("org-dup", "Viện Hoá học (cũ)")).unwrap());
    assert!(a.merge_org("org-dup", &kept.id).unwrap());
    assert!(!b.merge_org("org-dup", &kept.id).unwrap());
    assert_eq!(
        b.org_by_name("viện hoá học (cũ)").unwrap().unwrap().id,
        kept.id
    );
    assert_eq!(
        a.org("org-dup").unwrap().unwrap().merged_into.as_deref(),
        Some(kept.id.as_str())
    );
    assert_eq!(b.orgs().unwrap().len(), 2);
    // Listings by owner.
    let mut owned = listing("own-1", "của viện");
    owned.owner = Some("Viện Hóa học".into());
    a.put_all(&[owned, listing("own-2", "không chủ")]).unwrap();
    let found: Vec<String> = b
        .owned_by("Viện Hóa học")
        .unwrap()
        .into_iter()
        .map(|l| l.id)
        .collect();
    assert_eq!(found, vec!["own-1".to_string()]);
    // An e-mail moves only to a free address.
    assert!(a.add_user(&user("u-move", "cu@vien.vn")).unwrap());
    assert!(a.add_user(&user("u-other", "khac@vien.vn")).unwrap());
    assert!(!b.change_email("u-move", "khac@vien.vn").unwrap());
    assert!(b.change_email("u-move", "moi@vien.vn").unwrap());
    assert!(a.user_by_email("cu@vien.vn").unwrap().is_none());
    assert_eq!(
        a.user_by_email("moi@vien.vn").unwrap().unwrap().id,
        "u-move"
    );
    assert_eq!(a.user("u-move").unwrap().unwrap().email, "moi@vien.vn");
    assert!(a.users().unwrap().len() >= 2);
}

#[test]
fn store_organisations_names_merges_owners_and_addresses() {
    on_both(
        "store_organisations",
        organisations_names_merges_owners_and_addresses,
    );
}

fn standing_search(id: &str, user_id: &str, listing_id: Option<&str>) -> StandingSearch {
    StandingSearch {
        id: id.into(),
        user_id: user_id.into(),
        query: SavedQuery {
            q: Some("máy sấy".into()),
            ..SavedQuery::default()
        },
        listing_id: listing_id.map(Into::into),
        secret: format!("secret-{id}"),
        delivery: Delivery::Immediate,
        created_at: Utc::now(),
        active: true,
    }
}

fn note(seq: u64, search: &StandingSearch, listing_id: &str, mailed: bool) -> Notification {
    Notification {
        id: Notification::id_for(seq, &search.id),
        user_id: search.user_id.clone(),
        search_id: search.id.clone(),
        listing_id: listing_id.into(),
        title: "Máy sấy lạnh".into(),
        reason: "vì / because".into(),
        created_at: Utc::now(),
        read: false,
        mailed,
    }
}

/// Standing searches, alerts recorded once per (search, listing) however many nodes try at
/// once, with their mail in the same write; marks cleared and set again; the position only
/// moves forward.
fn alerts_are_recorded_once(a: &Handle, b: &Handle) {
    let mut owner = user("u-alert", "alert@x.vn");
    owner.org = Some("Công ty A".into());
    assert!(a.add_user(&owner).unwrap());
    assert!(a.add_user(&user("u-other", "other@x.vn")).unwrap());
    assert_eq!(b.users_of_org("Công ty A").unwrap().len(), 1);
    assert!(b.users_of_org("Công ty B").unwrap().is_empty());
    assert!(b.any_member().unwrap());

    let v0 = b.searches_version().unwrap();
    let saved = standing_search("ss-1", "u-alert", None);
    assert_eq!(a.add_search(&saved).unwrap(), saved);
    let mut other = standing_search("ss-1", "u-alert", None);
    other.secret = "another".into();
    assert_eq!(
        b.add_search(&other).unwrap().secret,
        saved.secret,
        "first one stays"
    );
    assert_ne!(
        b.searches_version().unwrap(),
        v0,
        "percolators see the change"
    );
    let derived = standing_search("sl-u-alert-nd-1", "u-alert", Some("nd-1"));
    b.add_search(&derived).unwrap();
    assert_eq!(a.searches_of("u-alert").unwrap().len(), 2);
    let saved_ids: Vec<String> = a
        .saved_searches()
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(saved_ids, ["ss-1"], "only saved searches are percolated");

    // Four threads on two handles record the same alert: one wins, with one mail.
    let now = Utc::now();
    let recorded: usize = std::thread::scope(|s| {
        let tasks: Vec<_> = (0..4)
            .map(|i| {
                let h = if i % 2 == 0 { a } else { b };
                let saved = &saved;
                s.spawn(move || {
                    let mail =
                        Mail::new(format!("m-alert-{i}"), "alert@x.vn", "s", "b".into(), now);
                    usize::from(
                        h.record_alert(&note(7, saved, "ro-1", true), Some(&mail))
                            .unwrap(),
                    )
                })
            })
            .collect();
        tasks.into_iter().map(|t| t.join().unwrap()).sum()
    });
    assert_eq!(recorded, 1);
    let mails = b
        .recent_mail(10)
        .unwrap()
        .into_iter()
        .filter(|m| m.id.starts_with("m-alert-"))
        .count();
    assert_eq!(mails, 1, "the alert's mail is written with it, once");
    assert_eq!(a.alerted_searches("ro-1").unwrap(), ["ss-1"]);
    let notes = b.notifications("u-alert", 10).unwrap();
    assert_eq!(notes.len(), 1);
    assert!(!notes[0].read);
    assert!(a.mark_read("u-alert", &notes[0].id).unwrap());
    assert!(
        !a.mark_read("u-other", &notes[0].id).unwrap(),
        "not another user's"
    );
    assert!(b.notifications("u-alert", 10).unwrap()[0].read);

    // Leaving the results clears the mark; coming back (a new version) alerts again.
    b.clear_alert("ss-1", "ro-1").unwrap();
    assert!(a.alerted_searches("ro-1").unwrap().is_empty());
    assert!(a
        .record_alert(&note(9, &saved, "ro-1", true), None)
        .unwrap());
    let ids: Vec<String> = b
        .notifications("u-alert", 10)
        .unwrap()
        .into_iter()
        .map(|n| n.id)
        .collect();
    assert_eq!(
        ids,
        [
            Notification::id_for(9, "ss-1"),
            Notification::id_for(7, "ss-1")
        ],
        "newest first"
    );

    // Daily delivery: waits for the digest, then is mailed once.
    assert!(b
        .record_alert(&note(10, &derived, "ro-2", false), None)
        .unwrap());
    let waiting = a.undigested().unwrap();
    assert_eq!(waiting.len(), 1);
    let digest = Mail::new("m-digest".into(), "alert@x.vn", "s", "b".into(), now);
    b.record_digest(&waiting, &digest).unwrap();
    assert!(a.undigested().unwrap().is_empty());
    assert!(a.mail("m-digest").unwrap().is_some());

    // Unsubscribing a need's search keeps it, switched off; a saved one is removed.
    let mut off = derived.clone();
    off.active = false;
    a.replace_search(&off).unwrap();
    assert!(!b.add_search(&derived).unwrap().active, "not made again");
    assert!(b.remove_search("ss-1").unwrap());
    assert!(!a.remove_search("ss-1").unwrap());
    assert!(a.search("ss-1").unwrap().is_none());

    // The position moves forward only.
    assert_eq!(a.alert_position().unwrap(), None, "not set yet");
    b.set_alert_position(0).unwrap();
    assert_eq!(a.alert_position().unwrap(), Some(0));
    b.set_alert_position(5).unwrap();
    a.set_alert_position(2).unwrap();
    assert_eq!(b.alert_position().unwrap(), Some(5));
}

#[test]
fn store_alerts_are_recorded_once() {
    on_both("store_alerts", alerts_are_recorded_once);
}
