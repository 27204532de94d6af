//! The GraphQL SDL is a contract: a schema change must also change `schemas/graphql/schema.graphql`.
//! Regenerate it with `ADFLOW_UPDATE_CONTRACTS=1 cargo test -p adflow-query-api --test sdl_contract`.

#[test]
fn the_checked_in_sdl_matches_the_schema() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../schemas/graphql/schema.graphql"
    );
    let sdl = adflow_query_api::sdl();
    if std::env::var_os("ADFLOW_UPDATE_CONTRACTS").is_some() {
        std::fs::write(path, &sdl).unwrap();
    }
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        checked_in == sdl,
        "schemas/graphql/schema.graphql differs from the schema; review the change and regenerate it \
         with ADFLOW_UPDATE_CONTRACTS=1 cargo test -p adflow-query-api --test sdl_contract"
    );
}
