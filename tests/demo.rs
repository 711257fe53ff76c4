//! The demo data: `serve --demo` fills an empty data dir and answers the README's queries.

use serde_json::Value;

use crate::cli::Server;
use crate::common::{enc, Workspace};

fn titles(answer: &Value) -> Vec<String> {
    answer["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| format!("{} {}", h["title"], h["snippet"]).to_lowercase())
        .collect()
}

#[test]
fn demo_data_covers_the_country_and_answers_shrimp_queries() {
    let ws = Workspace::new();
    let server = Server::start(&ws, &["--demo"]);
    let all = server.get_json("/api/v1/search?limit=0&min_seq=1");
    assert!(
        all["total"].as_u64().unwrap() >= 300 + 3000,
        "{}",
        all["total"]
    );
    let provinces = all["facets"]["province"].as_array().unwrap().len();
    assert!(provinces >= 20, "{provinces} provinces");
    let vi = server.get_json("/api/v1/search?limit=0&province=01,79,92,48,31");
    assert!(vi["total"].as_u64().unwrap() > 0);
    // Every organisation the demo names has a record (unverified, no members yet), and its
    // profile lists its published listings.
    let orgs = server.get_json("/api/v1/orgs");
    let list = orgs["orgs"].as_array().unwrap();
    assert!(list.len() >= 20, "{} organisations", list.len());
    assert!(list.iter().all(|o| o["verified"] == false));
    for kind in ["institute", "university", "enterprise"] {
        assert!(
            list.iter().any(|o| o["kind"] == kind),
            "no {kind} among the demo's organisations"
        );
    }
    let first = list[0]["id"].as_str().unwrap();
    let profile = server.get_json(&format!("/api/v1/orgs/{first}"));
    assert!(
        !profile["listings"].as_array().unwrap().is_empty(),
        "{profile}"
    );
    let (status, page) = server.request("GET", &format!("/orgs/{first}"), None, None);
    assert_eq!(status, 200);
    assert!(page.contains(profile["name"].as_str().unwrap()), "{page}");
    let fields = server.get_json("/api/v1/search?limit=0&q=");
    let majors: std::collections::BTreeSet<String> = fields["facets"]["field"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["value"].as_str()?.split('.').next().map(str::to_string))
        .collect();
    assert_eq!(majors.len(), 6, "{majors:?}");

    for q in [
        "chuyen giao cong nghe nuoi tom",
        "chuyển giao công nghệ nuôi tôm",
    ] {
        let answer = server.get_json(&format!("/api/v1/search?q={}&limit=5", enc(q)));
        let top = titles(&answer);
        assert_eq!(top.len(), 5, "{q}");
        let shrimp = top.iter().filter(|t| t.contains("tôm")).count();
        assert!(shrimp >= 4, "{q}: {top:#?}");
    }
}
