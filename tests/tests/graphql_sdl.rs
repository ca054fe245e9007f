//! The committed GraphQL schema (`interface/schema.graphql`) is the schema the server
//! serves: a change to the schema shows up in review as a change to that file.

use std::path::Path;

#[test]
fn the_committed_sdl_is_the_served_schema() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../interface/schema.graphql");
    let committed = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
        .replace("\r\n", "\n");
    let served = interface::graphql::schema(true).sdl();
    assert!(
        committed.trim_end() == served.trim_end(),
        "interface/schema.graphql differs from the schema the server serves; \
         run `domainflow schema > interface/schema.graphql` (or `cargo run -p interface -- \
         schema > interface/schema.graphql`) and commit the result"
    );
}
