//! The committed contracts are the ones the server serves: the GraphQL schema
//! (`interface/schema.graphql`) and the OpenAPI document (`interface/openapi.json`). A change
//! to either shows up in review as a change to that file.

// A test that cannot read its fixture has nothing left to check: failing loudly is right.
#![allow(clippy::panic)]

use std::path::Path;

fn committed(file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../interface")
        .join(file);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
        .replace("\r\n", "\n")
}

#[test]
fn the_committed_sdl_is_the_served_schema() {
    let served = interface::graphql::schema(true).sdl();
    assert!(
        committed("schema.graphql").trim_end() == served.trim_end(),
        "interface/schema.graphql differs from the schema the server serves; \
         run `cargo run -p interface -- schema > interface/schema.graphql` and commit the result"
    );
}

#[test]
fn the_committed_openapi_document_is_the_served_one() {
    let served = interface::rest::openapi_json();
    assert!(
        committed("openapi.json").trim_end() == served.trim_end(),
        "interface/openapi.json differs from the document the server serves; \
         run `cargo run -p interface -- openapi > interface/openapi.json` and commit the result"
    );
}
