//! The edges of domainflow: REST, GraphQL, authentication and the `domainflow` binary.
