//! The server's HTTP API as the load generator calls it: JSON in, status and JSON out.

use serde_json::{Value, json};

/// A server's base URL and the client that calls it.
#[derive(Debug, Clone)]
pub struct Api {
    client: reqwest::Client,
    url: String,
}

/// What the server answered.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    /// The body as JSON (`null` when it was not JSON).
    pub body: Value,
}

impl Answer {
    /// A GraphQL answer with no errors: its `data`.
    ///
    /// # Errors
    /// A status other than 200, or GraphQL errors.
    pub fn data(self) -> Result<Value, String> {
        if self.status != 200 || self.body.get("errors").is_some() {
            return Err(format!("GraphQL answered {}: {}", self.status, self.body));
        }
        Ok(self.body["data"].clone())
    }
}

impl Api {
    /// Talks to the server at `url` with up to `connections` idle connections kept.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(url: &str, connections: usize) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(connections)
            // A server that stops answering fails the run instead of hanging it.
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            client,
            url: url.trim_end_matches('/').to_owned(),
        })
    }

    /// `POST path` with `body`, as the bearer of `token`.
    ///
    /// # Errors
    /// When no answer came (a refused or dropped connection).
    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Result<Answer, String> {
        let response = self
            .client
            .post(format!("{}{path}", self.url))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .map_err(|e| format!("POST {path}: {e}"))?;
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(Value::Null);
        Ok(Answer { status, body })
    }

    /// A GraphQL `query` with `variables`, as the bearer of `token`.
    ///
    /// # Errors
    /// When no answer came.
    pub async fn graphql(
        &self,
        token: &str,
        query: &str,
        variables: Value,
    ) -> Result<Answer, String> {
        self.post(
            "/graphql",
            token,
            &json!({ "query": query, "variables": variables }),
        )
        .await
    }
}
