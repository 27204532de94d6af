//! The OpenAPI document is a contract: a change to it must also change
//! `schemas/openapi/openapi.json`. Regenerate it with
//! `ADFLOW_UPDATE_CONTRACTS=1 cargo test -p adflow-command-api --test openapi_contract`.

#[test]
fn the_checked_in_openapi_document_matches_the_code() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../schemas/openapi/openapi.json"
    );
    let document =
        serde_json::to_string_pretty(&adflow_command_api::openapi::document()).unwrap() + "\n";
    if std::env::var_os("ADFLOW_UPDATE_CONTRACTS").is_some() {
        std::fs::write(path, &document).unwrap();
    }
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        checked_in == document,
        "schemas/openapi/openapi.json differs from the code; review the change and regenerate it \
         with ADFLOW_UPDATE_CONTRACTS=1 cargo test -p adflow-command-api --test openapi_contract"
    );
}
