//! Near-duplicates: a listing entered again (without diacritics, with a sentence added) is
//! found after the write, among what the caller may see, and shown to brokers with a link.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::common::TOKEN;
use crate::world::{World, PASSWORD};

const TITLE: &str =
    "Quy trình nuôi tôm thẻ chân trắng siêu thâm canh hai giai đoạn trong ao lót bạt";
const TEXT: &str = "Quy trình tách giai đoạn ương (25–30 ngày, mật độ 1.500–2.000 con/m³) và giai \
    đoạn nuôi thương phẩm (250–300 con/m²) trong ao lót bạt HDPE có mái che lưới. Nước được xử lý \
    qua ao lắng và lọc cơ học, thay nước không quá 10%/ngày, kết hợp siphon đáy 2 lần/ngày. Kết \
    quả thử nghiệm tại Sóc Trăng và Bạc Liêu đạt năng suất 35–42 tấn/ha/vụ, tỷ lệ sống trên 80%.";

fn body(id: &str, title: &str, description: &str, status: &str) -> Value {
    json!({"id": id, "kind": "research_output", "title": title, "description": description,
           "province": "79", "field": "4.1", "status": status})
}

/// Waits until the near-duplicate signatures follow the store up to `seq`.
async fn settled(world: &World, seq: u64) {
    let started = std::time::Instant::now();
    while world.app.state.duplicates.applied() < seq {
        assert!(
            started.elapsed().as_secs() < 20,
            "duplicates did not reach {seq}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn found(world: &World, token: Option<&str>, id: &str) -> Vec<(String, f64)> {
    let uri = format!("/api/v1/listings/{id}/duplicates");
    let (status, answer, _) = world.app.send(Method::GET, &uri, token, None).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer["duplicates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["id"].as_str().unwrap().to_string(),
                d["similarity"].as_f64().unwrap(),
            )
        })
        .collect()
}

/// A page's body, with a cookie.
async fn page(
    world: &World,
    uri: &str,
    cookie: Option<&str>,
    form: Option<&str>,
) -> (StatusCode, Vec<String>, String) {
    let mut req = Request::builder()
        .method(if form.is_some() {
            Method::POST
        } else {
            Method::GET
        })
        .uri(uri);
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    let req = match form {
        Some(f) => req
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(f.to_string())),
        None => req.body(Body::empty()),
    }
    .unwrap();
    let response = techmatch::server::app(world.app.state.clone())
        .oneshot(req)
        .await
        .unwrap();
    let status = response.status();
    let cookies = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .collect();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        cookies,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

/// The broker's session cookie, signed in through the form.
async fn broker_session(world: &World) -> String {
    let (_, cookies, form) = page(world, "/signin", None, None).await;
    let pre = cookies
        .iter()
        .find(|c| c.starts_with("tm_pre="))
        .unwrap()
        .clone();
    let at = form.find("name=\"csrf\" value=\"").unwrap() + 19;
    let csrf = form[at..].split('"').next().unwrap();
    let body = format!(
        "csrf={csrf}&email={}&password={}",
        crate::common::enc("moigioi@hcm.gov.vn"),
        crate::common::enc(PASSWORD)
    );
    let (_, cookies, _) = page(world, "/signin", Some(&pre), Some(&body)).await;
    cookies
        .into_iter()
        .find(|c| c.starts_with("tm_session="))
        .expect("signed in")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_entered_again_is_found_and_shown_to_brokers() {
    let world = World::new().await;
    world
        .app
        .post_listing(body("tom-a", TITLE, TEXT, "published"))
        .await;
    // Typed again elsewhere: no diacritics, a sentence added.
    let folded = techmatch_index::analysis::fold_text(TEXT);
    let again = format!("{folded} Lien he de duoc tap huan ky thuat vien tai cho.");
    let mut b = body(
        "tom-b",
        &techmatch_index::analysis::fold_text(TITLE),
        &again,
        "published",
    );
    b["source_exchange"] = json!("Techmart Cần Thơ");
    world.app.post_listing(b).await;
    // The same topic, another technology.
    world.app.post_listing(body("tom-c", "Công nghệ biofloc nuôi tôm thẻ chân trắng mật độ cao",
        "Kỹ thuật tạo và duy trì hạt biofloc trong ao nuôi tôm thẻ chân trắng bằng bổ sung rỉ đường \
         theo tỷ lệ C/N 15:1, giảm thay nước xuống dưới 5%, tận dụng vi sinh vật làm thức ăn bổ sung.",
        "published")).await;
    // A draft copy: only those who may see the draft learn of it.
    let mut draft = body("tom-d", TITLE, TEXT, "draft");
    draft["province"] = json!("01");
    let seq = world.app.post_listing(draft).await;
    settled(&world, seq).await;

    let public = found(&world, None, "tom-a").await;
    assert_eq!(
        public.iter().map(|d| d.0.as_str()).collect::<Vec<_>>(),
        ["tom-b"],
        "{public:?}"
    );
    assert!(public[0].1 >= 0.8, "{public:?}");
    let admin = found(&world, Some(TOKEN), "tom-a").await;
    assert!(admin.contains(&("tom-d".to_string(), 1.0)), "{admin:?}");
    assert!(admin.iter().any(|d| d.0 == "tom-b") && !admin.iter().any(|d| d.0 == "tom-c"));
    let (status, _, _) = world
        .app
        .send(Method::GET, "/api/v1/listings/tom-d/duplicates", None, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The broker's page lists it with a link, in both languages; an anonymous page does not.
    let session = broker_session(&world).await;
    let (status, _, vi) = page(&world, "/listings/tom-a", Some(&session), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        vi.contains("Có thể là tin trùng lặp") && vi.contains("href=\"/listings/tom-b\""),
        "{vi}"
    );
    let (_, _, en) = page(&world, "/listings/tom-a?lang=en", Some(&session), None).await;
    assert!(
        en.contains("Possible duplicates") && en.contains("similarity"),
        "{en}"
    );
    let (_, _, anonymous) = page(&world, "/listings/tom-a", None, None).await;
    assert!(!anonymous.contains("id=\"duplicates\""));

    // Search shows them as one hit, the other named under it ("also listed at").
    for (lang, words) in [("vi", "Cũng đăng tại: "), ("en", "Also listed at: ")] {
        let (_, _, found) = page(
            &world,
            &format!("/search?q=ao+lot+bat&lang={lang}"),
            None,
            None,
        )
        .await;
        assert!(found.contains(words), "{lang}: {found}");
        let as_hits = found.matches("<h2><a href=\"/listings/tom-a\"").count()
            + found.matches("<h2><a href=\"/listings/tom-b\"").count();
        assert_eq!(as_hits, 1, "one hit for the two: {found}");
        let at = found.find("class=\"meta also\"").unwrap();
        let line = &found[at..at + found[at..].find("</p>").unwrap()];
        assert!(
            line.contains(">Techmart Cần Thơ</a>") || line.contains("href=\"/listings/tom-a\""),
            "{line}"
        );
    }

    // Deleted: no longer a duplicate.
    let (status, _, headers) = world
        .app
        .send(Method::DELETE, "/api/v1/listings/tom-b", Some(TOKEN), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let seq: u64 = headers["x-techmatch-seq"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    settled(&world, seq).await;
    assert!(found(&world, None, "tom-a").await.is_empty());
}

#[test]
fn an_import_names_the_listings_it_brings_in_again() {
    let ws = crate::common::Workspace::new();
    let first = ws.file(
        "a.jsonl",
        &crate::common::line(body("tom-a", TITLE, TEXT, "published")),
    );
    let out = ws.cli(&["import", first.to_str().unwrap()]);
    assert!(out.status.success(), "{}", crate::common::stderr(&out));
    assert!(!crate::common::stdout(&out).contains('~'));
    // From another exchange: re-typed without diacritics, cut after two sentences.
    let cut: String = techmatch_index::analysis::fold_text(TEXT)
        .split_inclusive(". ")
        .take(2)
        .collect();
    let second = ws.file(
        "b.jsonl",
        &crate::common::line(body("other-7", TITLE, &cut, "published")),
    );
    let out = ws.cli(&["import", second.to_str().unwrap()]);
    let stdout = crate::common::stdout(&out);
    assert!(stdout.contains("other-7 ~ tom-a"), "{stdout}");
}

#[test]
fn bench_duplicates_prints_precision_and_recall_of_at_least_nine_tenths() {
    let ws = crate::common::Workspace::new();
    let report = ws.cli_json(&["bench-duplicates", "--copies", "300"]);
    for figure in ["precision", "recall"] {
        let value = report[figure].as_f64().unwrap();
        assert!(value >= 0.9, "{figure} {value}: {report}");
    }
    assert_eq!(report["positives"], 300);
    assert!(report["hard_negatives"].as_u64().unwrap() > 250, "{report}");
}
