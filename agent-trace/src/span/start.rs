//! The span starters the macro expansions call (`start_tool`, `start_a2a`, `start_llm`,
//! `start_agent_run`, `start_phase`) and the attributes they compute at call time. The fast
//! path while tracing is off is one atomic load in `start` returning `None`; nothing allocates.

use std::fmt;

use opentelemetry::trace::SpanKind;
use opentelemetry::{KeyValue, Value};

use super::core::{current_or_process_parent, text_messages, ActiveSpan};
use super::head::RootFate;
use super::instruments::Measure;
use super::ledger::AgentLedger;
use super::semconv as k;
use super::text;
use super::values::{RequestCount, RequestNumber, StopSequences, ToAttributeValue};
use super::CAPTURE_LIMIT;
use crate::state::capture_message_content;

/// Attributes and links computed at call time (only when tracing is on and the span can be
/// sampled).
#[derive(Debug)]
pub struct Attrs {
    /// The record the span will fill, which holds the attributes as they are computed (written
    /// where the span keeps them: no vector of their own).
    pub(super) record: Box<crate::state::SpanRecord>,
    pub(super) links: Vec<opentelemetry::trace::Link>,
    /// With content capture on: each captured value as JSON (a string stays a string), for
    /// `gen_ai.tool.call.arguments`.
    pub(super) json: Vec<(&'static str, serde_json::Value)>,
}

impl Default for Attrs {
    /// No attributes yet, in this thread's next record.
    fn default() -> Self {
        Attrs {
            record: super::record::next_empty_record(),
            links: Vec::new(),
            json: Vec::new(),
        }
    }
}

impl Attrs {
    /// A `fields(key = expr)` value.
    pub fn field<V: ToAttributeValue + ?Sized>(&mut self, key: &'static str, value: &V) {
        if let Some(v) = value.to_attribute_value() {
            self.record.attributes.push(KeyValue::new(key, v));
        }
    }

    /// A `fields(key = ?expr)` value (Debug).
    pub fn field_debug(&mut self, key: &'static str, value: &dyn fmt::Debug) {
        self.record
            .attributes
            .push(KeyValue::new(key, text::debug(value, CAPTURE_LIMIT)));
    }

    /// A `fields(key = %expr)` value (Display).
    pub fn field_display(&mut self, key: &'static str, value: &dyn fmt::Display) {
        self.record
            .attributes
            .push(KeyValue::new(key, text::display(value, CAPTURE_LIMIT)));
    }

    /// A value already formatted and bounded (the `capture_arg` probe's slices and strings).
    pub fn text(&mut self, key: &'static str, text: String) {
        self.record.attributes.push(KeyValue::new(key, text));
    }

    /// A `capture(arg)` argument (Debug), cut to [`CAPTURE_LIMIT`].
    pub fn capture(&mut self, key: &'static str, value: &dyn fmt::Debug) {
        self.field_debug(key, value)
    }

    /// A captured value as JSON, kept only while content capture is on.
    pub fn json(&mut self, key: &'static str, value: serde_json::Value) {
        if capture_message_content() {
            self.json.push((key, value));
        }
    }

    /// With content capture on, the `capture(..)`d arguments of a tool once more as
    /// `gen_ai.tool.call.arguments`: a JSON object of their values (a string as itself, a
    /// number or bool as itself, anything else as its `Debug` text).
    fn tool_call_arguments(&mut self) {
        let mut args = serde_json::Map::new();
        for (key, value) in self.json.drain(..) {
            if let Some(name) = key.strip_prefix(k::AGENT_TRACE_ARG_PREFIX) {
                args.insert(name.to_string(), value);
            }
        }
        if !args.is_empty() {
            let json = serde_json::Value::Object(args).to_string();
            self.record
                .attributes
                .push(KeyValue::new(k::GEN_AI_TOOL_CALL_ARGUMENTS, json));
        }
    }

    /// `links = expr`: every valid context the expression yields becomes a link.
    pub fn links<I>(&mut self, links: I)
    where
        I: IntoIterator,
        I::Item: crate::IntoLink,
    {
        for l in links {
            if let Some(sc) = crate::IntoLink::span_context(&l) {
                self.links
                    .push(opentelemetry::trace::Link::with_context(sc));
            }
        }
    }

    /// `http.request.method` of an `#[a2a_call(method = "..")]`.
    pub fn http_method(&mut self, method: &'static str) {
        self.record
            .attributes
            .push(KeyValue::new(k::HTTP_REQUEST_METHOD, method));
    }

    /// `gen_ai.tool.call.id`.
    pub fn tool_call_id<V: ToAttributeValue + ?Sized>(&mut self, value: &V) {
        self.field(k::GEN_AI_TOOL_CALL_ID, value)
    }

    /// `gen_ai.tool.description` of a `#[traced_tool]`: its `description = ".."`, or the first
    /// paragraph of its doc comment.
    pub fn tool_description(&mut self, description: &'static str) {
        self.record
            .attributes
            .push(KeyValue::new(k::GEN_AI_TOOL_DESCRIPTION, description));
    }

    /// `gen_ai.tool.definitions` of an `#[llm_call(tools = ..)]`, recorded only when message
    /// content capture is on (the conventions make it opt-in): the value's JSON, bounded like
    /// an error message (longer JSON is kept as a JSON string, so the attribute stays valid).
    pub fn tool_definitions<T: serde::Serialize + ?Sized>(&mut self, tools: &T) {
        if capture_message_content() {
            if let Some(json) = text::json(tools, text::MESSAGE_LIMIT) {
                self.record
                    .attributes
                    .push(KeyValue::new(k::GEN_AI_TOOL_DEFINITIONS, json.to_string()));
            }
        }
    }

    /// `gen_ai.conversation.id`.
    pub fn conversation_id<V: ToAttributeValue + ?Sized>(&mut self, value: &V) {
        self.field(k::GEN_AI_CONVERSATION_ID, value)
    }

    /// The prompt, recorded only when message content capture is on, as the GenAI
    /// conventions' input messages: `[{"role":"user","parts":[{"type":"text","content":..}]}]`.
    pub fn prompt<V: fmt::Display + ?Sized>(&mut self, value: &V) {
        if capture_message_content() {
            self.record.attributes.push(KeyValue::new(
                k::GEN_AI_INPUT_MESSAGES,
                text_messages("user", text::display(&value, CAPTURE_LIMIT)),
            ));
        }
    }

    /// System instructions, recorded only when message content capture is on, in the GenAI
    /// conventions' shape: `[{"type":"text","content":..}]`.
    pub fn system_instructions<V: fmt::Display + ?Sized>(&mut self, value: &V) {
        if capture_message_content() {
            let content = text::display(&value, CAPTURE_LIMIT);
            let parts = serde_json::json!([{ "type": "text", "content": content }]);
            self.record.attributes.push(KeyValue::new(
                k::GEN_AI_SYSTEM_INSTRUCTIONS,
                parts.to_string(),
            ));
        }
    }

    /// `temperature = expr` of an `#[llm_call]`: `gen_ai.request.temperature`.
    pub fn temperature<V: RequestNumber + ?Sized>(&mut self, value: &V) {
        self.double(k::GEN_AI_REQUEST_TEMPERATURE, value);
    }

    /// `top_p = expr`: `gen_ai.request.top_p`.
    pub fn top_p<V: RequestNumber + ?Sized>(&mut self, value: &V) {
        self.double(k::GEN_AI_REQUEST_TOP_P, value);
    }

    /// `frequency_penalty = expr`: `gen_ai.request.frequency_penalty`.
    pub fn frequency_penalty<V: RequestNumber + ?Sized>(&mut self, value: &V) {
        self.double(k::GEN_AI_REQUEST_FREQUENCY_PENALTY, value);
    }

    /// `presence_penalty = expr`: `gen_ai.request.presence_penalty`.
    pub fn presence_penalty<V: RequestNumber + ?Sized>(&mut self, value: &V) {
        self.double(k::GEN_AI_REQUEST_PRESENCE_PENALTY, value);
    }

    /// `max_tokens = expr`: `gen_ai.request.max_tokens`.
    pub fn max_tokens<V: RequestCount + ?Sized>(&mut self, value: &V) {
        self.int(k::GEN_AI_REQUEST_MAX_TOKENS, value);
    }

    /// `top_k = expr`: `gen_ai.request.top_k`.
    pub fn top_k<V: RequestCount + ?Sized>(&mut self, value: &V) {
        self.int(k::GEN_AI_REQUEST_TOP_K, value);
    }

    /// `seed = expr`: `gen_ai.request.seed`.
    pub fn seed<V: RequestCount + ?Sized>(&mut self, value: &V) {
        self.int(k::GEN_AI_REQUEST_SEED, value);
    }

    /// `choice_count = expr`: `gen_ai.request.choice.count`.
    pub fn choice_count<V: RequestCount + ?Sized>(&mut self, value: &V) {
        self.int(k::GEN_AI_REQUEST_CHOICE_COUNT, value);
    }

    /// `stop_sequences = expr`: `gen_ai.request.stop_sequences` (at most 64, each cut to
    /// 256 characters).
    pub fn stop_sequences<V: StopSequences + ?Sized>(&mut self, value: &V) {
        let mut seqs = Vec::new();
        value.stop_sequences(&mut |s| {
            if seqs.len() < 64 {
                seqs.push(text::cut(s, 256));
            }
        });
        if !seqs.is_empty() {
            self.record.attributes.push(KeyValue::new(
                k::GEN_AI_REQUEST_STOP_SEQUENCES,
                text::string_array(seqs),
            ));
        }
    }

    fn double<V: RequestNumber + ?Sized>(&mut self, key: &'static str, value: &V) {
        if let Some(v) = value.request_number() {
            self.record.attributes.push(KeyValue::new(key, v));
        }
    }

    fn int<V: RequestCount + ?Sized>(&mut self, key: &'static str, value: &V) {
        if let Some(v) = value.request_count() {
            self.record.attributes.push(KeyValue::new(key, v));
        }
    }

    /// `agent.target_url`, `server.address`, `server.port` from a URL.
    pub fn url<U: AsRef<str> + ?Sized>(&mut self, url: &U) {
        let url = url.as_ref();
        self.record.attributes.push(KeyValue::new(
            k::AGENT_TARGET_URL,
            text::cut(url, CAPTURE_LIMIT),
        ));
        self.server_url(url);
    }

    /// `server.address`, `server.port` from the URL of an `#[llm_call(url = ..)]`: the
    /// model endpoint (a URL that does not parse adds nothing).
    pub fn server_url<U: AsRef<str> + ?Sized>(&mut self, url: &U) {
        server_attributes(url.as_ref(), &mut self.record.attributes);
    }
}

/// `server.address` (the host, cut to the capture limit) and `server.port` (explicit, or the
/// scheme's default) of `url`; nothing for a URL that does not parse or has no host.
pub(crate) fn server_attributes(url: &str, out: &mut impl Extend<KeyValue>) {
    let Ok(uri) = url.parse::<http::Uri>() else {
        return;
    };
    let Some(host) = uri.host() else { return };
    out.extend([KeyValue::new(
        k::SERVER_ADDRESS,
        text::cut(host, CAPTURE_LIMIT),
    )]);
    let port = uri.port_u16().or(match uri.scheme_str() {
        Some("https") => Some(443),
        Some("http") => Some(80),
        _ => None,
    });
    if let Some(port) = port {
        out.extend([KeyValue::new(k::SERVER_PORT, i64::from(port))]);
    }
}

/// Starts an `execute_tool {tool}` span, or returns `None` while tracing is off.
#[inline(always)]
pub fn start_tool(
    span_name: &'static str,
    tool: &'static str,
    extra: impl FnOnce(&mut Attrs),
) -> Option<ActiveSpan> {
    start(
        span_name,
        SpanKind::Internal,
        true,
        Some(Measure::Tool(tool)),
        |a, _| {
            // Its first four attributes (`record::tool_attributes`), made where they are read:
            // on the export thread, or as the SDK's span starts.
            a.record.tool = Some(tool);
            extra(a);
            if capture_message_content() {
                a.tool_call_arguments();
            }
        },
    )
}

/// Starts an `invoke_agent {target}` CLIENT span, or returns `None` while tracing is off.
/// `source` defaults to the service name; `gen_ai.provider.name` is `a2a`.
#[inline(always)]
pub fn start_a2a(
    span_name: &'static str,
    target: &'static str,
    source: Option<&'static str>,
    extra: impl FnOnce(&mut Attrs),
) -> Option<ActiveSpan> {
    start(
        span_name,
        SpanKind::Client,
        false,
        Some(Measure::Agent {
            name: target,
            remote: true,
            nested: false,
        }),
        |a, service| {
            a.record
                .attributes
                .push(KeyValue::new(k::GEN_AI_OPERATION_NAME, k::OP_INVOKE_AGENT));
            a.record
                .attributes
                .push(KeyValue::new(k::GEN_AI_AGENT_NAME, target));
            // Required on an invoke_agent CLIENT span; the caller of a remote agent does not
            // know its model provider, so the protocol stands in (a later
            // `set_attribute(gen_ai.provider.name, ..)` in the function wins).
            a.record
                .attributes
                .push(KeyValue::new(k::GEN_AI_PROVIDER_NAME, k::PROVIDER_A2A));
            let source: Value = match source {
                Some(s) => s.into(),
                None => Value::String(service.to_string().into()),
            };
            a.record
                .attributes
                .push(KeyValue::new(k::AGENT_SOURCE, source));
            a.record
                .attributes
                .push(KeyValue::new(k::AGENT_TARGET, target));
            extra(a)
        },
    )
}

/// Starts a `chat {model}` CLIENT span, or returns `None` while tracing is off.
#[inline(always)]
pub fn start_llm(
    span_name: &'static str,
    model: &'static str,
    provider: Option<&'static str>,
    extra: impl FnOnce(&mut Attrs),
) -> Option<ActiveSpan> {
    let measure = Some(Measure::Llm { model, provider });
    let mut span = start(span_name, SpanKind::Client, false, measure, |a, _| {
        a.record
            .attributes
            .push(KeyValue::new(k::GEN_AI_OPERATION_NAME, k::OP_CHAT));
        a.record
            .attributes
            .push(KeyValue::new(k::GEN_AI_REQUEST_MODEL, model));
        if let Some(p) = provider {
            a.record
                .attributes
                .push(KeyValue::new(k::GEN_AI_PROVIDER_NAME, p));
        }
        extra(a)
    })?;
    span.llm = Some(super::core::LlmModel { model, provider });
    Some(span)
}

/// Starts an `invoke_agent {name}` INTERNAL span (an agent's own handler), or `None`.
#[inline(always)]
pub fn start_agent_run(
    span_name: &'static str,
    name: &'static str,
    extra: impl FnOnce(&mut Attrs),
) -> Option<ActiveSpan> {
    // An agent's context holds its ledger, so one started inside it is
    // `gen_ai.invocation.is_nested = true` on `gen_ai.invocation.duration`.
    let nested = opentelemetry::Context::map_current(|cx| cx.get::<AgentLedger>().is_some());
    let mut span = start(
        span_name,
        SpanKind::Internal,
        false,
        Some(Measure::Agent {
            name,
            remote: false,
            nested,
        }),
        |a, _| {
            a.record
                .attributes
                .push(KeyValue::new(k::GEN_AI_OPERATION_NAME, k::OP_INVOKE_AGENT));
            a.record
                .attributes
                .push(KeyValue::new(k::GEN_AI_AGENT_NAME, name));
            extra(a)
        },
    )?;
    span.cx = span.cx.with_value(AgentLedger::default());
    span.agent = true;
    Some(span)
}

/// Starts an `agent_phase {phase}` span, or returns `None` while tracing is off.
#[inline(always)]
pub fn start_phase(
    span_name: &'static str,
    phase: &'static str,
    extra: impl FnOnce(&mut Attrs),
) -> Option<ActiveSpan> {
    start(span_name, SpanKind::Internal, false, None, |a, _| {
        a.record
            .attributes
            .push(KeyValue::new(k::AGENT_PHASE, phase));
        extra(a)
    })
}

/// The SDK's span as the child of `parent`, in its context. Out of line (it is the same for
/// every traced function): inlined, it grows the frame of each, which their tracing-off path
/// pays for.
#[inline(never)]
fn sdk_span(
    installed: &crate::state::Installed,
    name: &'static str,
    kind: SpanKind,
    attrs: Attrs,
    parent: &opentelemetry::Context,
) -> (opentelemetry::Context, bool) {
    let Attrs {
        mut record, links, ..
    } = attrs;
    let conversation = super::conversation::join(parent, &mut record.attributes);
    let details = super::events::details_for(&record.attributes);
    let (cx, recorded) =
        super::record::start_record_in(installed, name.into(), kind, record, links, parent);
    let cx = match conversation {
        Some(id) => super::conversation::carry(cx, id),
        None => cx,
    };
    let cx = match details {
        Some(d) => super::events::keep_details(cx, d),
        None => cx,
    };
    (cx, recorded)
}

/// The common part of every starter: the fast path while tracing is off, the parent, the
/// attributes only for a span that may be sampled, the SDK span, the metric measurement.
#[inline(always)]
fn start(
    span_name: &'static str,
    kind: SpanKind,
    tool: bool,
    measure: Option<Measure>,
    attrs: impl FnOnce(&mut Attrs, &str),
) -> Option<ActiveSpan> {
    let tracing = crate::state::TRACING.load(std::sync::atomic::Ordering::Relaxed);
    if tracing != crate::state::ON {
        if tracing == crate::state::NEVER_SET_UP {
            crate::state::note_no_init();
        }
        return None;
    }
    let active = crate::state::ACTIVE.load();
    let installed = active.as_ref()?;
    if crate::state::in_export_thread() {
        return None;
    }
    let parent = current_or_process_parent();
    let head = installed.head;
    // A span the sampler will surely drop is started bare: its attributes (and the
    // expressions of `fields`/`capture`) are only computed for spans that are recorded.
    let ((cx, recorded), bare) = match super::head::root_fate(head, &parent) {
        // A root a ratio sampler drops, made as the SDK would make it.
        RootFate::Dropped(cx) => ((cx, false), true),
        fate if super::head::may_sample(head, &parent) || matches!(fate, RootFate::Kept) => {
            let mut a = Attrs::default();
            attrs(&mut a, &installed.service_name);
            let started = sdk_span(installed, span_name, kind, a, &parent);
            if matches!(fate, RootFate::Kept) {
                crate::state::preset_trace_id(None);
            }
            (started, false)
        }
        // The child of a parent that was not sampled is made as the SDK would make it,
        // without its sampler and span.
        _ => match super::head::unsampled_child(head, &parent) {
            Some(cx) => ((cx, false), true),
            None => (
                sdk_span(installed, span_name, kind, Attrs::default(), &parent),
                false,
            ),
        },
    };
    #[cfg(not(feature = "metrics"))]
    let _ = measure;
    let mut span = ActiveSpan::new(
        cx,
        Some(span_name),
        tool,
        #[cfg(feature = "metrics")]
        super::core::span_metrics(measure, installed),
    );
    span.bare = bare;
    span.recorded = recorded;
    Some(span)
}
