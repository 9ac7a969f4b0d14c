//! The generated files in the repository are what the code generates. Run with
//! `EKSGATE_UPDATE=1` to write them after changing a document type.

#[test]
fn generated_files_are_up_to_date() {
    let update = std::env::var_os("EKSGATE_UPDATE").is_some_and(|v| v == "1");
    let stale = xtask::sync(&xtask::repository_root(), update).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        update || stale.is_empty(),
        "generated files differ from what the code generates: {stale:?}\n\
         run `EKSGATE_UPDATE=1 cargo test -p xtask` (or `cargo run -p xtask -- generate`) and commit them"
    );
}

#[test]
fn every_document_type_has_its_own_schema_file() {
    let files = xtask::generated();
    let mut paths: Vec<_> = files.iter().map(|f| f.path.clone()).collect();
    paths.sort();
    paths.dedup();
    assert_eq!(
        paths.len(),
        files.len(),
        "two document types write one file"
    );
    for file in &files {
        let schema: serde_json::Value =
            serde_json::from_str(&file.text).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            schema["properties"]["kind"]["const"].is_string(),
            "{:?}",
            file.path
        );
        assert!(
            schema["description"].is_string(),
            "{:?}: no doc comment",
            file.path
        );
    }
}
