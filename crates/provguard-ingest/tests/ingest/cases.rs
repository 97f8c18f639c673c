//! One test per shared input case of the format layer (01, 02, 05, 07, 11, 12), plus the
//! schema cases (08, 09, 15) whose records must come through the reader intact.

use provguard_ingest::{Event, InputFormat, ReadOptions, Scope};
use serde_json::{Value, json};

use crate::{case, read, records, rejections};

fn lines_of(events: &[Event]) -> Vec<u64> {
    records(events)
        .iter()
        .map(|r| r.locator.line.unwrap())
        .collect()
}

// huggingface/datasets#8241: a BOM at byte 0 and again at the start of line 3.
#[test]
fn case_01_bom_at_start_stripped_bom_on_line_3_rejected() {
    let path = case("01-bom-varying-keys.jsonl");
    let events = read(&path, &ReadOptions::default());
    assert_eq!(lines_of(&events), [1, 2]);
    let rejected = rejections(&events);
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].locator.line, Some(3));
    assert_eq!(rejected[0].locator.column, Some(1));
    assert_eq!(rejected[0].scope, Scope::Record);
    assert!(
        rejected[0]
            .locator
            .to_string()
            .ends_with("01-bom-varying-keys.jsonl:3:1")
    );
    assert!(
        rejected[0].message.contains("byte order mark"),
        "{}",
        rejected[0].message
    );

    // The first key is `id`, not `\u{feff}id`, and absent keys stay absent.
    let first = &records(&events)[0].value;
    assert_eq!(first.keys().next().map(String::as_str), Some("id"));
    assert_eq!(first["meta"], json!({"source": "human"}));
    assert!(first["meta"].get("temperature").is_none());

    // Lenient: the BOM on line 3 is stripped with a warning naming the line.
    let lenient = ReadOptions {
        lenient: true,
        ..ReadOptions::default()
    };
    let events = read(&path, &lenient);
    assert_eq!(lines_of(&events), [1, 2, 3]);
    assert!(rejections(&events).is_empty());
    let warnings: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Warning(w) => Some(w),
            _ => None,
        })
        .collect();
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].locator.line, Some(3));
    let third = &records(&events)[2].value;
    assert_eq!(third["id"], "r3");
    assert_eq!(third["meta"], json!({"source": "model-b", "seed": 42}));
}

// microsoft/graphrag#2424: CRLF, blank lines, U+2028 / U+2029 / U+0085 inside strings.
#[test]
fn case_02_line_framing_gives_four_records() {
    let events = read(&case("02-line-framing.jsonl"), &ReadOptions::default());
    assert_eq!(lines_of(&events), [1, 3, 5, 6]);
    assert!(rejections(&events).is_empty());
    let blanks: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Blank(l) => l.line,
            _ => None,
        })
        .collect();
    assert_eq!(blanks, [2, 4, 7]);
    let texts: Vec<_> = records(&events)
        .iter()
        .map(|r| r.value["text"].clone())
        .collect();
    assert_eq!(texts[0], "first line\r\nsecond line");
    assert_eq!(texts[2], "left\u{2028}right");
    assert_eq!(texts[3], "para\u{2029}graph and next\u{85}line");
}

// huggingface/datatrove PR 78: invalid UTF-8 on lines 2 and 3, a half-written last record.
#[test]
fn case_05_invalid_utf8_and_truncated_last_record() {
    let path = case("05-invalid-utf8-truncated.jsonl");
    let events = read(&path, &ReadOptions::default());
    assert_eq!(lines_of(&events), [1]);
    assert_eq!(records(&events)[0].value["text"], "café ok");
    let rejected = rejections(&events);
    assert_eq!(rejected.len(), 3);
    let bytes = fs_err::read(&path).unwrap();

    // Line 2: `\xE9` after `latin-1 caf`, in column 31.
    let line2 = &rejected[0].locator;
    assert_eq!((line2.line, line2.column), (Some(2), Some(31)));
    assert_eq!(bytes[usize::try_from(line2.offset.unwrap()).unwrap()], 0xE9);
    assert!(
        rejected[0].message.contains("UTF-8"),
        "{}",
        rejected[0].message
    );
    assert!(
        rejected[0]
            .message
            .contains(&line2.offset.unwrap().to_string())
    );

    // Line 3: the overlong `\xC0\xAF`.
    let line3 = &rejected[1].locator;
    assert_eq!((line3.line, line3.column), (Some(3), Some(29)));
    assert_eq!(bytes[usize::try_from(line3.offset.unwrap()).unwrap()], 0xC0);

    // Line 4: cut off inside a character and inside the record.
    assert_eq!(rejected[2].locator.line, Some(4));
    assert!(
        rejected[2]
            .message
            .starts_with("unexpected end of file inside a record"),
        "{}",
        rejected[2].message
    );
    assert!(
        rejected
            .iter()
            .all(|r| r.scope == Scope::Record && r.raw.is_some())
    );
    assert!(!rejected.iter().any(|r| r.message.contains('\u{fffd}')));
}

// hiyouga/LlamaFactory#4376: a pretty-printed JSON array saved as `.jsonl`.
#[test]
fn case_07_json_array_in_jsonl_is_one_file_error() {
    let path = case("07-json-array-in-jsonl.jsonl");
    let events = read(&path, &ReadOptions::default());
    assert_eq!(events.len(), 1, "{events:#?}");
    let Event::Rejected(rejection) = &events[0] else {
        panic!("expected a rejection, got {events:?}");
    };
    assert_eq!(rejection.scope, Scope::File);
    assert_eq!(
        (rejection.locator.line, rejection.locator.column),
        (Some(1), Some(1))
    );
    assert!(
        rejection.message.contains("JSON array"),
        "{}",
        rejection.message
    );
    assert!(
        rejection
            .hint
            .as_deref()
            .unwrap()
            .contains("--input-format json")
    );

    // Read as JSON: two records at [0] and [1], `id` keeping its type.
    let json = ReadOptions {
        format: Some(InputFormat::JsonArray),
        ..ReadOptions::default()
    };
    let events = read(&path, &json);
    let found = records(&events);
    assert_eq!(found.len(), 2);
    assert_eq!(events.len(), 2);
    assert_eq!(found[0].locator.index, Some(0));
    assert_eq!(found[1].locator.index, Some(1));
    assert!(found[1].locator.to_string().ends_with(": [1]"));
    assert_eq!(found[0].locator.line, Some(2));
    assert_eq!(found[1].locator.line, Some(8));
    assert_eq!(found[0].value["id"], json!(1));
    assert_eq!(found[1].value["id"], json!("2"));
}

// huggingface/datasets#8010: string encodings, list<struct>, null vs empty list, binary.
#[test]
fn case_11_parquet_nested_types() {
    let path = case("11-parquet-nested-types.parquet");
    let events = read(&path, &ReadOptions::default());
    let found = records(&events);
    assert_eq!(found.len(), 4);
    assert!(rejections(&events).is_empty());
    for (k, record) in found.iter().enumerate() {
        assert_eq!(record.locator.row_group, Some(0));
        assert_eq!(record.locator.row, Some(k as u64));
    }
    let rows: Vec<Value> = found
        .iter()
        .map(|r| Value::Object(r.value.clone()))
        .collect();
    let conversation = json!([
        {"role": "user", "content": "Name a fruit."},
        {"role": "assistant", "content": "Apple."}
    ]);
    assert_eq!(
        rows[0],
        json!({"id": 1, "prompt": "Name a fruit.", "completion": "Apple.",
               "messages": conversation, "source": "human", "note": "plain ascii bytes"})
    );
    assert_eq!(rows[1]["note"], "café");
    assert_eq!(rows[1]["messages"], conversation);
    assert_eq!(
        rows[2],
        json!({"id": 3, "prompt": null, "completion": null, "messages": [],
               "source": "model-b", "note": null})
    );
    assert_eq!(rows[3]["messages"], Value::Null);
    assert_eq!(rows[3]["completion"], "Leek.");
    // Not UTF-8: hex, with a warning naming the row and the column.
    assert_eq!(rows[3]["note"], "fffe206e6f74207574662d38");
    let warnings: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Warning(w) => Some(w),
            _ => None,
        })
        .collect();
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].locator.row, Some(3));
    assert!(warnings[0].message.contains("`note`"));
}

// PostHog/posthog PR 90036: a gzip file of three concatenated members.
#[test]
fn case_12_gzip_multimember_gives_three_records() {
    let events = read(
        &case("12-gzip-multimember.jsonl.gz"),
        &ReadOptions::default(),
    );
    assert_eq!(events.len(), 3, "{events:#?}");
    let ids: Vec<_> = records(&events)
        .iter()
        .map(|r| r.value["id"].clone())
        .collect();
    assert_eq!(ids, ["g1", "g2", "g3"]);
    assert_eq!(lines_of(&events), [1, 2, 3]);
}

// The schema cases: every line must reach the schema stage as it is in the file.
#[test]
fn cases_08_09_15_come_through_intact() {
    for (name, count) in [
        ("08-mixed-field-types.jsonl", 7),
        ("09-sharegpt-variants.jsonl", 9),
        ("15-normalization-equal-vs-distinct.jsonl", 16),
    ] {
        let path = case(name);
        let events = read(&path, &ReadOptions::default());
        assert_eq!(events.len(), count, "{name}");
        let text = fs_err::read_to_string(&path).unwrap();
        for (record, line) in records(&events).iter().zip(text.lines()) {
            let expected: Value = serde_json::from_str(line).unwrap();
            assert_eq!(Value::Object(record.value.clone()), expected, "{name}");
        }
    }
    // Case 15's CRLF inside a string and its zero-width joiners survive byte for byte.
    let events = read(
        &case("15-normalization-equal-vs-distinct.jsonl"),
        &ReadOptions::default(),
    );
    assert_eq!(
        records(&events)[5].value["text"],
        "The café  opens\r\nat nine.  \t"
    );
    // Case 08: `input` absent stays absent, null stays null, a number stays a number.
    let events = read(&case("08-mixed-field-types.jsonl"), &ReadOptions::default());
    let found = records(&events);
    assert!(!found[1].value.contains_key("input"));
    assert_eq!(found[2].value["input"], Value::Null);
    assert_eq!(found[3].value["input"], json!(42));
    assert_eq!(found[6].value["extra"], "{\"a\":1}");
}
