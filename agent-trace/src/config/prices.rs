//! [`Prices`]: reading LiteLLM's `model_prices_and_context_window.json` (the file most
//! gateways and cost trackers maintain), building prices in code, and the cost of one model
//! call.

use std::collections::HashMap;
use std::sync::Arc;

use super::env::{Env, AGENT_TRACE_PRICES};
use super::error::InitError;
use super::types::Overrides;
use crate::state::{ModelPrice, Prices};

/// Why a prices file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PricesError {
    /// Not JSON.
    #[error("not JSON: {0}")]
    Json(String),
    /// JSON, but not an object of models.
    #[error("not a JSON object of models (LiteLLM's model_prices_and_context_window.json)")]
    NotAnObject,
}

impl ModelPrice {
    /// A price per input and per output token; cached tokens priced as input.
    pub fn per_token(input: f64, output: f64) -> ModelPrice {
        ModelPrice {
            input,
            output,
            cache_read: None,
            cache_write: None,
        }
    }

    /// The same, with prices per token read from and written to the prompt cache.
    pub fn with_cache(mut self, read: f64, write: f64) -> ModelPrice {
        self.cache_read = Some(read);
        self.cache_write = Some(write);
        self
    }

    /// The cost of one call. `input` includes the cached tokens (as the GenAI conventions
    /// count `gen_ai.usage.input_tokens`); `cache_read` and `cache_write` are the parts of it
    /// the cache served or took.
    pub(crate) fn cost(&self, input: u64, output: u64, cache_read: u64, cache_write: u64) -> f64 {
        let cached = cache_read.saturating_add(cache_write);
        let plain = input.saturating_sub(cached);
        plain as f64 * self.input
            + cache_read as f64 * self.cache_read.unwrap_or(self.input)
            + cache_write as f64 * self.cache_write.unwrap_or(self.input)
            + output as f64 * self.output
    }
}

impl Prices {
    /// No prices.
    pub fn new() -> Prices {
        Prices::default()
    }

    /// Adds (or replaces) the price of `model`, as the span's `gen_ai.response.model` or
    /// `gen_ai.request.model` names it.
    pub fn with_model(mut self, model: impl Into<String>, price: ModelPrice) -> Prices {
        self.models.insert(model.into(), price);
        self
    }

    /// Reads LiteLLM's `model_prices_and_context_window.json`: every entry with
    /// `input_cost_per_token` and `output_cost_per_token` (finite, not negative), with
    /// `cache_read_input_token_cost` and `cache_creation_input_token_cost` when present.
    /// Other entries (image models, the `sample_spec`) are left out. Linear in the file.
    ///
    /// ```
    /// let prices = agent_trace::Prices::from_litellm_json(r#"{
    ///     "gpt-4o-mini": {"input_cost_per_token": 1.5e-7, "output_cost_per_token": 6e-7,
    ///                     "cache_read_input_token_cost": 7.5e-8, "litellm_provider": "openai"}
    /// }"#).unwrap();
    /// assert_eq!(prices.len(), 1);
    /// ```
    pub fn from_litellm_json(text: &str) -> Result<Prices, PricesError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| PricesError::Json(e.to_string()))?;
        let serde_json::Value::Object(entries) = value else {
            return Err(PricesError::NotAnObject);
        };
        let mut models = HashMap::with_capacity(entries.len());
        for (name, entry) in entries {
            let number = |key: &str| {
                entry
                    .get(key)
                    .and_then(serde_json::Value::as_f64)
                    .filter(|n| n.is_finite() && *n >= 0.0)
            };
            let (Some(input), Some(output)) = (
                number("input_cost_per_token"),
                number("output_cost_per_token"),
            ) else {
                continue;
            };
            let price = ModelPrice {
                input,
                output,
                cache_read: number("cache_read_input_token_cost"),
                cache_write: number("cache_creation_input_token_cost"),
            };
            models.insert(name, price);
        }
        Ok(Prices { models })
    }

    /// How many models have a price.
    pub fn len(&self) -> usize {
        self.models.len()
    }

    /// Whether no model has a price.
    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }

    /// The price of the first of `models` that has one (the response's model, then the
    /// request's, each also with a `provider/` prefix as LiteLLM keys some).
    pub(crate) fn find(&self, models: &[&str], provider: Option<&str>) -> Option<&ModelPrice> {
        models.iter().find_map(|m| {
            self.models.get(*m).or_else(|| {
                let p = provider?;
                self.models.get(&format!("{p}/{m}"))
            })
        })
    }
}

/// Prices per model: set in code, else read from the file `AGENT_TRACE_PRICES` names.
pub(super) fn resolve(o: &Overrides, env: &Env<'_>) -> Result<Option<Arc<Prices>>, InitError> {
    if let Some(p) = &o.prices {
        return Ok(Some(Arc::new(p.clone())));
    }
    let Some(path) = env.get(AGENT_TRACE_PRICES)? else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        InitError::invalid(
            AGENT_TRACE_PRICES,
            path.as_str(),
            format!("the path of a readable prices file ({e})"),
        )
    })?;
    let prices = Prices::from_litellm_json(&text).map_err(|e| {
        InitError::invalid(
            AGENT_TRACE_PRICES,
            path.as_str(),
            format!("a prices file in LiteLLM's format ({e})"),
        )
    })?;
    Ok(Some(Arc::new(prices)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn litellm_entries_are_read_and_others_left_out() {
        let prices = Prices::from_litellm_json(
            r#"{
                "sample_spec": {"input_cost_per_token": "see docs"},
                "gpt-4o-mini": {"input_cost_per_token": 1.5e-7, "output_cost_per_token": 6e-7,
                                "cache_read_input_token_cost": 7.5e-8},
                "dall-e-3": {"output_cost_per_image": 0.04},
                "bad": {"input_cost_per_token": -1, "output_cost_per_token": 1}
            }"#,
        )
        .expect("read");
        assert_eq!(prices.len(), 1);
        let p = prices.find(&["gpt-4o-mini"], None).expect("price");
        assert_eq!(p.cache_read, Some(7.5e-8));
        assert_eq!(p.cache_write, None);
        assert!(matches!(
            Prices::from_litellm_json("[1]"),
            Err(PricesError::NotAnObject)
        ));
        assert!(matches!(
            Prices::from_litellm_json("{"),
            Err(PricesError::Json(_))
        ));
    }

    #[test]
    fn cached_tokens_are_priced_apart_and_nothing_overflows() {
        let p = ModelPrice::per_token(1.0, 10.0).with_cache(0.5, 2.0);
        // 100 input of which 30 read and 10 written: 60 + 15 + 20, and 5 output: 50.
        assert_eq!(p.cost(100, 5, 30, 10), 145.0);
        // More cached than input (a provider's odd count): no underflow.
        assert!(p.cost(1, 0, u64::MAX, u64::MAX).is_finite());
        let found = Prices::new().with_model("openai/gpt-x", p);
        assert!(found.find(&["gpt-x"], Some("openai")).is_some());
        assert!(found.find(&["gpt-x"], None).is_none());
    }
}
