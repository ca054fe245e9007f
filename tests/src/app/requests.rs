//! Requests to the server as a client sends them: GET, POST with a JSON or a raw body, and
//! GraphQL operations, with bearer credentials and extra headers.

use reqwest::Response;
use serde_json::{Value, json};

use super::{TestApp, with_credentials};

impl TestApp {
    /// `GET path` as the holder of `token` (anonymous without one), with extra headers.
    ///
    /// # Panics
    /// When the request cannot be sent.
    pub async fn get(&self, path: &str, token: Option<&str>, headers: &[(&str, &str)]) -> Response {
        with_credentials(self.client.get(self.url(path)), token, headers)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    /// `POST path` with `body` as JSON, as the holder of `token` (anonymous without one).
    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.post_with(path, token, body, &[]).await
    }

    /// [`TestApp::post`] with extra headers, e.g. `Idempotency-Key`.
    ///
    /// # Panics
    /// When the request cannot be sent.
    pub async fn post_with(
        &self,
        path: &str,
        token: Option<&str>,
        body: Value,
        headers: &[(&str, &str)],
    ) -> Response {
        with_credentials(self.client.post(self.url(path)).json(&body), token, headers)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"))
    }

    /// `POST path` with a body sent as is under `content_type` (for malformed requests).
    ///
    /// # Panics
    /// When the request cannot be sent.
    pub async fn post_raw(
        &self,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Response {
        let mut request = self
            .client
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"))
    }

    /// Runs a GraphQL operation with `POST /graphql`.
    pub async fn graphql(&self, query: &str, variables: Value, token: Option<&str>) -> Response {
        self.graphql_with(query, variables, token, &[]).await
    }

    /// [`TestApp::graphql`] with extra headers, e.g. `Idempotency-Key`.
    pub async fn graphql_with(
        &self,
        query: &str,
        variables: Value,
        token: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Response {
        let body = json!({ "query": query, "variables": variables });
        self.post_with("/graphql", token, body, headers).await
    }
}
