//! Importing files: every format, the all-or-nothing rule, provinces, updates, round trips.

use serde_json::{json, Value};

use crate::common::{line, stderr, stdout, Workspace};

fn shrimp() -> Value {
    json!({
        "id": "ro-tom-1",
        "kind": "research_output",
        "title": "Quy trình nuôi tôm thẻ chân trắng theo công nghệ biofloc",
        "description": "Chuyển giao công nghệ nuôi tôm siêu thâm canh, tiết kiệm nước.",
        "keywords": ["nuôi tôm", "biofloc"],
        "field": "4.1",
        "province": "Bạc Liêu",
        "trl": 7,
        "transfer_modes": ["licence", "technical_service"],
        "contact_email": "lab@example.vn"
    })
}

fn export(ws: &Workspace) -> Vec<Value> {
    let out = ws.cli(&["export"]);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("export line is JSON"))
        .collect()
}

#[test]
fn jsonl_import_stores_every_field() {
    let ws = Workspace::new();
    let file = ws.file("a.jsonl", &line(shrimp()));
    let out = ws.cli(&["import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let listings = export(&ws);
    assert_eq!(listings.len(), 1);
    let l = &listings[0];
    assert_eq!(l["province"], "96", "Bạc Liêu became part of Cà Mau");
    assert_eq!(l["trl"], 7);
    assert_eq!(l["transfer_modes"], json!(["licence", "technical_service"]));
    assert_eq!(l["keywords"], json!(["nuôi tôm", "biofloc"]));
}

#[test]
fn csv_import_reads_the_column_template() {
    let ws = Workspace::new();
    let template = ws.cli(&["template"]);
    let header = stdout(&template);
    assert!(header.starts_with("id,kind,title,description"), "{header}");
    let csv = "\u{feff}id,kind,title,description,province,keywords,trl,transfer_modes,budget_min_vnd,budget_max_vnd,deadline\n\
        nd-1,need,Cần máy sấy nông sản,\"Hợp tác xã cần máy sấy xoài, sấy mít\",Đồng Tháp,sấy;nông sản,,licence;consulting,100.000.000,\"500,000,000\",30/06/2026\n\
        ro-1,research_output,Máy sấy bơm nhiệt,Máy sấy nhiệt độ thấp giữ màu,Cần Thơ,,6,,,,\n";
    let file = ws.file("a.csv", csv);
    let out = ws.cli(&["import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let listings = export(&ws);
    assert_eq!(listings.len(), 2);
    let need = listings.iter().find(|l| l["id"] == "nd-1").expect("need");
    assert_eq!(need["budget_max_vnd"], 500_000_000u64);
    assert_eq!(need["budget_min_vnd"], 100_000_000u64);
    assert_eq!(need["deadline"], "2026-06-30");
    assert_eq!(need["keywords"], json!(["sấy", "nông sản"]));
    assert_eq!(need["description"], "Hợp tác xã cần máy sấy xoài, sấy mít");
}

#[test]
fn xlsx_import_reads_the_first_sheet() {
    let ws = Workspace::new();
    let path = ws.dir.path().join("a.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["id", "kind", "title", "description", "province", "trl"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    let row = [
        "ro-x",
        "Kết quả nghiên cứu",
        "Chế phẩm vi sinh xử lý đáy ao",
        "Giảm khí độc trong ao nuôi tôm",
        "Sóc Trăng",
    ];
    for (c, v) in row.iter().enumerate() {
        sheet.write_string(1, c as u16, *v).unwrap();
    }
    sheet.write_number(1, 5, 5.0).unwrap();
    book.save(&path).unwrap();
    let out = ws.cli(&["import", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let listings = export(&ws);
    assert_eq!(listings[0]["kind"], "research_output");
    assert_eq!(listings[0]["trl"], 5);
    assert_eq!(
        listings[0]["province"], "92",
        "Sóc Trăng became part of Cần Thơ"
    );
}

#[test]
fn xlsx_problems_name_the_spreadsheet_row() {
    let ws = Workspace::new();
    let path = ws.dir.path().join("bad.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["kind", "title", "description", "trl"].iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (r, trl) in [(1u32, 3.0), (2, 11.0)] {
        sheet.write_string(r, 0, "need").unwrap();
        sheet.write_string(r, 1, "Tiêu đề").unwrap();
        sheet.write_string(r, 2, "Mô tả").unwrap();
        sheet.write_number(r, 3, trl).unwrap();
    }
    book.save(&path).unwrap();
    let out = ws.cli(&["import", path.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = stderr(&out);
    // Row 2 is a need with a TRL; row 3 also has an out-of-range TRL.
    assert!(
        err.contains("bad.xlsx:2: trl: does not apply to kind need"),
        "{err}"
    );
    assert!(err.contains("bad.xlsx:3: trl"), "{err}");
}

#[test]
fn a_file_with_invalid_records_writes_nothing_and_reports_every_problem() {
    let ws = Workspace::new();
    let good = ws.file("good.jsonl", &line(shrimp()));
    assert!(ws.cli(&["import", good.to_str().unwrap()]).status.success());
    let mut changed = shrimp();
    changed["title"] = json!("Đã sửa");
    let bad = ws.file(
        "bad.jsonl",
        &[
            line(changed),
            line(json!({"kind": "need", "title": "Cần máy", "description": "x", "province": "Atlantis"})),
            "{not json\n".to_string(),
            line(json!({"kind": "patent", "description": "no title", "budget_max_vnd": 5})),
        ]
        .concat(),
    );
    let out = ws.cli(&["import", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = stderr(&out);
    let path = bad.display().to_string();
    for expected in [
        format!("{path}:2: province: unknown province \"Atlantis\""),
        format!("{path}:3: -: invalid JSON"),
        format!("{path}:4: title: is required"),
        format!("{path}:4: budget_max_vnd: does not apply to kind patent"),
    ] {
        assert!(err.contains(&expected), "missing {expected:?} in:\n{err}");
    }
    assert!(err.contains("nothing was imported"), "{err}");
    let listings = export(&ws);
    assert_eq!(listings.len(), 1);
    assert_eq!(
        listings[0]["title"],
        shrimp()["title"],
        "the valid first record of the bad file was not written either"
    );
}

#[test]
fn csv_rows_with_wrong_column_counts_are_reported_by_line() {
    let ws = Workspace::new();
    let file = ws.file(
        "a.csv",
        "kind,title,description\nneed,A,B\nneed,A\nneed,A,B,C\n",
    );
    let out = ws.cli(&["import", file.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("a.csv:3: -: has 2 columns; the header has 3"),
        "{err}"
    );
    assert!(err.contains("a.csv:4: -: has 4 columns"), "{err}");
}

#[test]
fn unknown_province_suggests_the_nearest_names() {
    let ws = Workspace::new();
    let mut l = shrimp();
    l["province"] = json!("Hà Nộii");
    let file = ws.file("a.jsonl", &line(l));
    let out = ws.cli(&["import", file.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("a.jsonl:1: province: unknown province \"Hà Nộii\"; did you mean Hà Nội"),
        "{err}"
    );
}

#[test]
fn legacy_province_names_resolve_to_their_2025_unit() {
    let ws = Workspace::new();
    let mut lines = String::new();
    for (i, name) in [
        "Bình Định",
        "Bắc Kạn",
        "Tỉnh Bà Rịa - Vũng Tàu",
        "TP.HCM",
        "ha giang",
    ]
    .iter()
    .enumerate()
    {
        let mut l = shrimp();
        l["id"] = json!(format!("p{i}"));
        l["province"] = json!(name);
        lines.push_str(&line(l));
    }
    let file = ws.file("a.jsonl", &lines);
    let out = ws.cli(&["import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let provinces: Vec<Value> = export(&ws).iter().map(|l| l["province"].clone()).collect();
    assert_eq!(
        provinces,
        vec![
            json!("52"),
            json!("19"),
            json!("79"),
            json!("79"),
            json!("08")
        ]
    );
}

#[test]
fn reimporting_the_same_ids_updates_them() {
    let ws = Workspace::new();
    let first = ws.file("a.jsonl", &line(shrimp()));
    assert!(ws
        .cli(&["import", first.to_str().unwrap()])
        .status
        .success());
    let before = export(&ws);
    let mut changed = shrimp();
    changed["title"] = json!("Quy trình mới");
    let second = ws.file("b.jsonl", &line(changed));
    let out = ws.cli(&["import", second.to_str().unwrap()]);
    assert!(
        stdout(&out).contains("0 new, 1 updated"),
        "{}",
        stdout(&out)
    );
    let after = export(&ws);
    assert_eq!(after.len(), 1);
    assert_eq!(after[0]["title"], "Quy trình mới");
    assert_eq!(after[0]["created_at"], before[0]["created_at"]);
}

#[test]
fn export_then_import_round_trips_unchanged() {
    let ws = Workspace::new();
    let mut lines = line(shrimp());
    lines.push_str(&line(json!({
        "id": "pt-1", "kind": "patent", "title": "Thiết bị lọc", "description": "Lọc nước",
        "patent_number": "1-0023456", "patent_type": "invention", "ipc": ["C02F 1/44"],
        "filing_date": "2015-03-01", "expiry_date": "2035-03-01", "legal_status": "granted",
        "status": "archived"
    })));
    let file = ws.file("a.jsonl", &lines);
    assert!(ws.cli(&["import", file.to_str().unwrap()]).status.success());
    let exported = stdout(&ws.cli(&["export"]));

    let other = Workspace::new();
    let again = other.file("export.jsonl", &exported);
    let out = other.cli(&["import", again.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&other.cli(&["export"])), exported);
}

#[test]
fn the_same_id_twice_in_one_import_is_refused() {
    let ws = Workspace::new();
    let file = ws.file("a.jsonl", &[line(shrimp()), line(shrimp())].concat());
    let out = ws.cli(&["import", file.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("a.jsonl:2: id: \"ro-tom-1\" already appears at"),
        "{}",
        stderr(&out)
    );
}
