//! Workspace-level end-to-end tests of domainflow; the tests live in `tests/`.
