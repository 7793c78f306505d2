//! `init`, the builder, the global pipeline and its guard.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanLimits};

use crate::config::env::{process_env, EnvLookup};
use crate::config::{
    self, resource, Compression, Config, Exporter, InitError, LogFormat, Overrides, Propagator,
    Protocol, Sampler,
};
use crate::export::build::{make_exporter, start_pipeline, BoxedProcessor};
use crate::export::guard::TraceGuard;
use crate::export::pipeline::{self, DynExporter, ExportTarget, QueueProcessor};
use crate::export::status::Owned;
use crate::state::{set_active, Installed, ACTIVE, GUARDS, INSTALL, PROPAGATOR_SET};

/// The settings a second `init` must not contradict while a pipeline is installed.
fn settings_of(config: &Config, custom_exporter: bool) -> Vec<(&'static str, String)> {
    let mut s = vec![("service name", config.service_name.clone())];
    if config.exports() && !custom_exporter {
        s.push(("exporter", format!("{:?}", config.exporter)));
        if config.exporter == Exporter::Otlp {
            s.push(("protocol", config.protocol.name().to_string()));
            s.push(("endpoint", config.endpoint.clone()));
        }
    }
    s
}

/// The default time `TraceGuard`'s drop waits for the last spans to be sent.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// Sets up tracing for a service from the environment, and returns the guard that flushes it.
///
/// Reads the `OTEL_*` variables (see the crate docs for the table). With no endpoint and no
/// exporter configured, tracing is off: nothing is recorded, no thread is started and no
/// connection is made, but incoming trace context still passes through to outgoing calls.
///
/// Calling `init` again (from any thread) returns another guard for the same pipeline; the
/// pipeline shuts down when the last guard is dropped.
///
/// ```
/// # fn main() -> Result<(), agent_trace::InitError> {
/// let _guard = agent_trace::init("orchestrator")?;
/// // ... run the service; spans are flushed when `_guard` is dropped.
/// # Ok(()) }
/// ```
pub fn init(service_name: &str) -> Result<TraceGuard, InitError> {
    builder().service_name(service_name).install()
}

/// A [`Builder`] for settings made in code; they win over the environment.
///
/// ```
/// # fn main() -> Result<(), agent_trace::InitError> {
/// use agent_trace::{Exporter, Sampler};
/// let guard = agent_trace::builder()
///     .service_name("coder")
///     .exporter(Exporter::Console)
///     .sampler(Sampler::ParentBasedTraceIdRatio(0.5))
///     .install()?;
/// # drop(guard); Ok(()) }
/// ```
pub fn builder() -> Builder {
    Builder::default()
}

/// Settings for [`install`](Builder::install). Anything not set here is read from the
/// environment, then defaulted.
#[derive(Default)]
pub struct Builder {
    o: Overrides,
    env: Option<Box<EnvLookup>>,
    shutdown_timeout: Option<Duration>,
    exporter: Option<UserExporter>,
    processors: Vec<Box<dyn opentelemetry_sdk::trace::SpanProcessor>>,
}

/// Builds a user's exporter on the export thread, inside its runtime.
type UserExporter = Box<dyn FnOnce() -> Box<dyn DynExporter> + Send>;

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("overrides", &self.o)
            .field("custom_env", &self.env.is_some())
            .finish_non_exhaustive()
    }
}

impl Builder {
    /// The `service.name` of this process (wins over `OTEL_SERVICE_NAME`).
    ///
    /// Corresponding environment variable: `OTEL_SERVICE_NAME`.
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.o.service_name = Some(name.into());
        self
    }

    /// Turns tracing off (`true`) or on (`false`), whatever `OTEL_SDK_DISABLED` says.
    ///
    /// Corresponding environment variable: `OTEL_SDK_DISABLED`.
    pub fn disabled(mut self, disabled: bool) -> Self {
        self.o.disabled = Some(disabled);
        self
    }

    /// Where spans go (wins over `OTEL_TRACES_EXPORTER`).
    ///
    /// Corresponding environment variable: `OTEL_TRACES_EXPORTER`.
    pub fn exporter(mut self, exporter: Exporter) -> Self {
        self.o.exporter = Some(exporter);
        self
    }

    /// The OTLP endpoint, such as `http://127.0.0.1:4317`. For HTTP, `/v1/traces` is appended
    /// unless the URL already ends with it.
    ///
    /// Corresponding environment variable: `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.o.endpoint = Some(url.into());
        self
    }

    /// The OTLP transport.
    ///
    /// Corresponding environment variable: `OTEL_EXPORTER_OTLP_PROTOCOL`.
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.o.protocol = Some(protocol);
        self
    }

    /// A header (gRPC metadata) sent with every export, such as an API key.
    ///
    /// Corresponding environment variable: `OTEL_EXPORTER_OTLP_HEADERS`.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.o.headers.push((name.into(), value.into()));
        self
    }

    /// How long one export may take, retries included.
    ///
    /// Corresponding environment variable: `OTEL_EXPORTER_OTLP_TIMEOUT`.
    pub fn export_timeout(mut self, timeout: Duration) -> Self {
        self.o.export_timeout = Some(timeout);
        self
    }

    /// The head sampler.
    ///
    /// Corresponding environment variable: `OTEL_TRACES_SAMPLER`.
    pub fn sampler(mut self, sampler: Sampler) -> Self {
        self.o.sampler = Some(sampler);
        self
    }

    /// The propagation formats, in order.
    ///
    /// Corresponding environment variable: `OTEL_PROPAGATORS`.
    pub fn propagators(mut self, propagators: impl IntoIterator<Item = Propagator>) -> Self {
        self.o.propagators = Some(propagators.into_iter().collect());
        self
    }

    /// A resource attribute (added to those of `OTEL_RESOURCE_ATTRIBUTES`).
    ///
    /// Corresponding environment variable: `OTEL_RESOURCE_ATTRIBUTES`.
    pub fn resource_attribute(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.o.resource_attributes.push((key.into(), value.into()));
        self
    }

    /// At most this many finished spans wait for export; more are dropped and counted.
    ///
    /// Corresponding environment variable: `OTEL_BSP_MAX_QUEUE_SIZE`.
    pub fn max_queue_size(mut self, n: usize) -> Self {
        self.o.max_queue_size = Some(n);
        self
    }

    /// At most this many spans per export request.
    ///
    /// Corresponding environment variable: `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`.
    pub fn max_export_batch_size(mut self, n: usize) -> Self {
        self.o.max_export_batch_size = Some(n);
        self
    }

    /// How long a partly filled batch waits before it is sent.
    ///
    /// Corresponding environment variable: `OTEL_BSP_SCHEDULE_DELAY`.
    pub fn schedule_delay(mut self, delay: Duration) -> Self {
        self.o.schedule_delay = Some(delay);
        self
    }

    /// String attribute values are cut to this many characters.
    ///
    /// Corresponding environment variable: `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`.
    pub fn attribute_value_limit(mut self, chars: usize) -> Self {
        self.o.attribute_value_limit = Some(chars);
        self
    }

    /// Text or JSON log lines.
    ///
    /// Corresponding environment variable: `AGENT_TRACE_LOG_FORMAT`.
    pub fn log_format(mut self, format: LogFormat) -> Self {
        self.o.log_format = Some(format);
        self
    }

    /// Whether `install` sets the global `tracing` subscriber (default: yes, if none is set).
    /// Turn it off to compose [`logs::layers`](crate::integrations::logs::layers) into your own subscriber.
    pub fn install_subscriber(mut self, install: bool) -> Self {
        self.o.install_subscriber = Some(install);
        self
    }

    /// Record prompt and completion text on `#[llm_call]` spans (default off; wins over
    /// `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`).
    ///
    /// Corresponding environment variable: `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`.
    pub fn capture_message_content(mut self, on: bool) -> Self {
        self.o.capture_message_content = Some(on);
        self
    }

    /// Tail sampling: keep every local trace in which a span has an error status (wins over
    /// `AGENT_TRACE_KEEP_ERRORS`). See docs/configuration.md's tail sampling section and [`tail_stats`](crate::tail_stats).
    ///
    /// Corresponding environment variable: `AGENT_TRACE_KEEP_ERRORS`.
    pub fn keep_errors(mut self, on: bool) -> Self {
        self.o.keep_errors = Some(on);
        self
    }

    /// Tail sampling: keep every local trace whose root lasted at least `threshold` (wins
    /// over `AGENT_TRACE_KEEP_SLOWER_THAN`). See docs/configuration.md's tail sampling section and [`tail_stats`](crate::tail_stats).
    ///
    /// Corresponding environment variable: `AGENT_TRACE_KEEP_SLOWER_THAN`.
    pub fn keep_slower_than(mut self, threshold: Duration) -> Self {
        self.o.keep_slower_than = Some(threshold);
        self
    }

    /// Pending-span markers for `agent-trace view` (default off; wins over
    /// `AGENT_TRACE_PENDING_SPANS`): when a span starts, a copy of it marked
    /// `agent_trace.span.pending=true` is exported too, so that the viewer shows a long run's
    /// spans while they run. Only a span still running when the export thread takes the queue
    /// gets one (at most one per schedule delay after its start); markers are never counted
    /// in [`export_stats`](crate::export_stats). Honoured only when the OTLP endpoint is a
    /// loopback address (or the exporter is your own) and tail sampling is off, so no other
    /// backend receives markers; never with the console exporter.
    ///
    /// Corresponding environment variable: `AGENT_TRACE_PENDING_SPANS`.
    pub fn pending_spans(mut self, on: bool) -> Self {
        self.o.pending_spans = Some(on);
        self
    }

    /// Metrics on or off (wins over `OTEL_METRICS_EXPORTER`); they need an OTLP exporter.
    ///
    /// Corresponding environment variable: `OTEL_METRICS_EXPORTER`.
    pub fn metrics(mut self, on: bool) -> Self {
        self.o.metrics = Some(on);
        self
    }

    /// How often metrics are exported (wins over `OTEL_METRIC_EXPORT_INTERVAL`).
    ///
    /// Corresponding environment variable: `OTEL_METRIC_EXPORT_INTERVAL`.
    /// Intervals below 100 ms (zero too) are raised to 100 ms.
    pub fn metrics_interval(mut self, interval: Duration) -> Self {
        self.o.metrics_interval = Some(interval);
        self
    }

    /// How long the guard's drop waits for the last spans (default 5 s).
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = Some(timeout);
        self
    }

    /// Reads settings from `lookup` instead of the process environment. Useful to configure
    /// from a file, and in tests.
    ///
    /// ```
    /// let guard = agent_trace::builder()
    ///     .service_name("svc")
    ///     .env(|name| (name == "OTEL_TRACES_EXPORTER").then(|| "none".to_string()))
    ///     .install()
    ///     .unwrap();
    /// # drop(guard);
    /// ```
    pub fn env(mut self, lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Self {
        self.env = Some(Box::new(move |k: &str| Ok(lookup(k))));
        self
    }

    /// Also redacts, before export, the value of every string attribute whose key contains
    /// one of `words` (any case). Adds to the defaults and `AGENT_TRACE_REDACT_KEYS`; see
    /// docs/configuration.md's redaction section.
    ///
    /// Corresponding environment variable: `AGENT_TRACE_REDACT_KEYS`.
    pub fn redact_keys<I, S>(mut self, words: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.o.redact_keys.extend(words.into_iter().map(Into::into));
        self
    }

    /// Also redacts, before export, every match of the regular expression `pattern` in
    /// string attribute values and status messages. Adds to the defaults and
    /// `AGENT_TRACE_REDACT_PATTERN`; an invalid pattern makes `install` fail.
    ///
    /// ```
    /// let builder = agent_trace::builder()
    ///     .redact_keys(["ssn"])
    ///     .redact_pattern(r"\b\d{3}-\d{2}-\d{4}\b");
    /// # drop(builder);
    /// ```
    ///
    /// Corresponding environment variable: `AGENT_TRACE_REDACT_PATTERN`.
    pub fn redact_pattern(mut self, pattern: impl Into<String>) -> Self {
        self.o.redact_patterns.push(pattern.into());
        self
    }

    /// Also writes OpenInference attributes (`openinference.span.kind`, `input.value`,
    /// `llm.model_name`, ...) so Arize Phoenix and other OpenInference UIs classify every
    /// span; wins over `AGENT_TRACE_OPENINFERENCE`. Done on the export thread. See
    /// docs/protocols.md's OpenInference section.
    ///
    /// ```
    /// let builder = agent_trace::builder().openinference(true);
    /// # drop(builder);
    /// ```
    ///
    /// Corresponding environment variable: `AGENT_TRACE_OPENINFERENCE`.
    pub fn openinference(mut self, on: bool) -> Self {
        self.o.openinference = Some(on);
        self
    }

    /// Prices per model, for the cost of model calls and agents
    /// (`agent_trace.usage.cost`); wins over `AGENT_TRACE_PRICES`. See [`Prices`](crate::Prices).
    ///
    /// ```
    /// use agent_trace::{ModelPrice, Prices};
    /// let builder = agent_trace::builder()
    ///     .prices(Prices::new().with_model("gpt-4o-mini", ModelPrice::per_token(1.5e-7, 6e-7)));
    /// # drop(builder);
    /// ```
    ///
    /// Corresponding environment variable: `AGENT_TRACE_PRICES`.
    pub fn prices(mut self, prices: crate::Prices) -> Self {
        self.o.prices = Some(prices);
        self
    }

    /// Compression of OTLP requests (wins over `OTEL_EXPORTER_OTLP_COMPRESSION`); `None` for
    /// none. gzip needs the cargo feature `gzip`.
    ///
    /// Corresponding environment variable: `OTEL_EXPORTER_OTLP_COMPRESSION`.
    pub fn compression(mut self, compression: Option<Compression>) -> Self {
        self.o.compression = Some(compression);
        self
    }

    /// Sends spans through `exporter` (any OpenTelemetry SDK `SpanExporter`: a vendor's, the
    /// SDK's in-memory or stdout exporter, or your own) instead of the OTLP exporter the
    /// environment describes. Spans still go through agent-trace's pipeline: bounded queue,
    /// exact counts, shutdown bounded by its timeout, a panicking exporter contained.
    /// Tracing is on with it, even without an endpoint.
    ///
    /// An exporter that needs a Tokio runtime to be built (like opentelemetry-otlp's gRPC
    /// one) is better given to [`span_exporter_with`](Self::span_exporter_with).
    ///
    /// ```
    /// use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// let memory = InMemorySpanExporter::default();
    /// let guard = agent_trace::builder()
    ///     .service_name("svc")
    ///     .span_exporter(memory.clone())
    ///     .install_subscriber(false)
    ///     .env(|_| None)
    ///     .install()
    ///     .unwrap();
    /// #[agent_trace::traced_tool]
    /// fn step() -> u8 { 1 }
    /// step();
    /// guard.force_flush(std::time::Duration::from_secs(5)).unwrap();
    /// assert_eq!(memory.get_finished_spans().unwrap()[0].name, "execute_tool step");
    /// guard.shutdown().unwrap();
    /// ```
    pub fn span_exporter<E>(self, exporter: E) -> Self
    where
        E: opentelemetry_sdk::trace::SpanExporter + 'static,
    {
        self.span_exporter_with(move || exporter)
    }

    /// As [`span_exporter`](Self::span_exporter), with the exporter built on the export
    /// thread, inside its private Tokio runtime.
    pub fn span_exporter_with<E, F>(mut self, make: F) -> Self
    where
        E: opentelemetry_sdk::trace::SpanExporter + 'static,
        F: FnOnce() -> E + Send + 'static,
    {
        self.exporter = Some(Box::new(move || Box::new(make()) as Box<dyn DynExporter>));
        self
    }

    /// Adds a `SpanProcessor` of your own beside the export pipeline: it sees every span
    /// that starts and ends (a vendor's processor, a `BatchSpanProcessor` with another
    /// exporter, [`testing::Capture::processor`](crate::integrations::testing::Capture::processor)).
    /// Tracing is on with it, even without an exporter. At shutdown it gets what is left of
    /// the shutdown timeout.
    pub fn span_processor<P>(mut self, processor: P) -> Self
    where
        P: opentelemetry_sdk::trace::SpanProcessor + 'static,
    {
        self.processors.push(Box::new(processor));
        self
    }

    /// Resolves the settings and installs the pipeline.
    pub fn install(self) -> Result<TraceGuard, InitError> {
        crate::state::init_seen();
        let mut config = match &self.env {
            Some(lookup) => config::resolve(&self.o, lookup.as_ref())?,
            None => config::resolve(&self.o, &process_env)?,
        };
        let custom = self.exporter.is_some() || !self.processors.is_empty();
        if custom && !config.disabled && config.exporter == Exporter::None {
            // A user's exporter or processor turns tracing on; with no OTLP endpoint given,
            // metrics have nowhere to go.
            config.exporter = match self.exporter {
                Some(_) => Exporter::Otlp,
                None => Exporter::None,
            };
            config.metrics_endpoint = None;
        }
        install(
            config,
            Extensions {
                exporter: self.exporter,
                processors: self.processors,
            },
            self.shutdown_timeout.unwrap_or(DEFAULT_SHUTDOWN_TIMEOUT),
            self.env.as_deref(),
        )
    }
}

/// What a builder adds to the pipeline `init` would build.
struct Extensions {
    exporter: Option<UserExporter>,
    processors: Vec<Box<dyn opentelemetry_sdk::trace::SpanProcessor>>,
}

fn install(
    config: Config,
    ext: Extensions,
    shutdown_timeout: Duration,
    env: Option<&EnvLookup>,
) -> Result<TraceGuard, InitError> {
    let _lock = INSTALL.lock().unwrap_or_else(|p| p.into_inner());

    // A second init may share the installed pipeline, but not contradict it.
    if let Some(installed) = ACTIVE.load_full().filter(|i| !i.test_only) {
        let requested = settings_of(&config, ext.exporter.is_some());
        for (setting, value) in &requested {
            if let Some((_, have)) = installed.settings.iter().find(|(s, _)| s == setting) {
                if have != value {
                    return Err(InitError::Conflict {
                        setting,
                        installed: have.clone(),
                        requested: value.clone(),
                    });
                }
            }
        }
    }

    // Context passes through even when nothing is exported.
    opentelemetry::global::set_text_map_propagator(crate::context::propagation::propagator_for(
        &config.propagators,
    ));
    PROPAGATOR_SET.store(true, Ordering::SeqCst);
    crate::state::set_capture_message_content(config.capture_message_content);
    crate::state::LIBRARY_ROOT_SPANS.store(config.library_root_spans, Ordering::Relaxed);
    crate::state::BRIDGE_DETAILS.store(config.bridge_details, Ordering::Relaxed);
    crate::context::carriers::env::adopt_process_parent(env);

    let custom = ext.exporter.is_some() || !ext.processors.is_empty();
    let current = ACTIVE.load_full();
    let already_real = current.as_ref().is_some_and(|i| !i.test_only);
    let processors_only = !ext.processors.is_empty() && !config.disabled;
    if !already_real && (config.exports() || processors_only) {
        let settings = settings_of(&config, ext.exporter.is_some());
        let mut installed = build(&config, ext)?;
        installed.settings = settings;
        opentelemetry::global::set_tracer_provider(installed.provider.clone());
        crate::export::panic_hook::install_panic_hook();
        set_active(Some(Arc::new(installed)));
        if let Some(old) = current {
            let _ = old
                .provider
                .shutdown_with_timeout(Duration::from_millis(100));
        }
    }
    if config.install_subscriber {
        crate::integrations::logs::install_global(config.log_format);
    }
    report(&config, custom, env.is_none());
    GUARDS.fetch_add(1, Ordering::SeqCst);
    Ok(TraceGuard {
        shutdown_timeout,
        done: false,
    })
}

/// Logs the outcome line and, when the configuration came from the process environment, a
/// warning for each variable agent-trace does not know.
fn report(config: &Config, custom: bool, process_env: bool) {
    tracing::info!(target: "agent_trace", "{}", config::report::outcome(config, custom));
    if !process_env {
        return;
    }
    let names: Vec<String> = std::env::vars_os()
        .filter_map(|(k, _)| k.into_string().ok())
        .collect();
    for (name, closest) in config::report::unknown_variables(names.iter().map(String::as_str)) {
        match closest {
            Some(c) => tracing::warn!(
                target: "agent_trace",
                "{name} is set, but agent-trace does not read it: did you mean {c}?"
            ),
            None => tracing::warn!(
                target: "agent_trace",
                "{name} is set, but agent-trace does not read it (see the configuration table)"
            ),
        }
    }
}

/// The logger provider of the logs signal, when asked for, with the `tracing` bridge to it
/// installed.
#[cfg(feature = "logs")]
fn install_logs(
    config: &Config,
    resource: &opentelemetry_sdk::Resource,
) -> Option<(
    opentelemetry_sdk::logs::SdkLoggerProvider,
    Arc<crate::state::LogCounts>,
)> {
    use opentelemetry::logs::LoggerProvider as _;
    use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
    let logs = crate::export::logs::build(config, resource.clone());
    if let Some((provider, counts)) = &logs {
        crate::state::LOG_BRIDGE.store(Some(Arc::new(crate::state::LogBridge {
            bridge: OpenTelemetryTracingBridge::new(provider),
            counts: counts.clone(),
            logger: provider.logger("agent-trace"),
        })));
    }
    logs
}

/// agent-trace's own span recording (`span/record.rs`), when nothing but its pipeline sees
/// spans: no tail sampling, no processor of the user's, no pending-span markers.
fn recorder_for(
    config: &Config,
    pipeline: Option<&Arc<pipeline::Shared>>,
    no_processors: bool,
    limits: SpanLimits,
) -> Option<crate::state::Recorder> {
    let pipeline = pipeline?;
    if config.tail.is_some() || !no_processors || config.pending_spans {
        return None;
    }
    // The pipeline is kept for the life of the process (about half a kilobyte; its export
    // thread frees its buffers as it ends), so that a recorded span refers to it without a
    // count.
    let kept: &'static Arc<pipeline::Shared> = Box::leak(Box::new(pipeline.clone()));
    Some(crate::state::Recorder {
        sampler: crate::sampling::head_sampler(config.sampler, false),
        parent_based_always_on: config.sampler == crate::config::Sampler::ParentBasedAlwaysOn,
        limits,
        sink: &**kept,
    })
}

fn build(config: &Config, ext: Extensions) -> Result<Installed, InitError> {
    let resource = resource(&config.service_name, &config.resource_attributes);
    let make: Option<pipeline::MakeExporter> = match ext.exporter {
        Some(make) => {
            let resource = resource.clone();
            Some(Box::new(move || {
                let mut exporter = make();
                exporter.set_resource(&resource);
                ExportTarget {
                    exporter,
                    rejected: None,
                }
            }))
        }
        None if config.exports() => Some(make_exporter(config, &resource)?),
        None => None,
    };
    let shared = make.map(|make| start_pipeline(config, make)).transpose()?;
    let tail_on = config.tail.is_some();
    let sampler = match config.tail {
        Some(_) if !config.sampler.is_consistent() => Sampler::ParentBasedAlwaysOn,
        _ => config.sampler,
    };
    let limits = SpanLimits {
        max_attributes_per_span: config.attribute_count_limit,
        max_events_per_span: config.event_count_limit,
        ..SpanLimits::default()
    };
    let recorder = recorder_for(config, shared.as_ref(), ext.processors.is_empty(), limits);
    let mut provider = SdkTracerProvider::builder()
        .with_sampler(crate::sampling::head_sampler(config.sampler, tail_on))
        // Random ids, or the one the root fast path drew and decided (span/head.rs).
        .with_id_generator(crate::state::PresetIds)
        .with_span_limits(limits)
        .with_resource(resource.clone());
    let mut tail = None;
    if let Some(shared) = &shared {
        let queue = QueueProcessor {
            shared: shared.clone(),
        };
        provider = match config.tail {
            Some(tc) => {
                let t = Arc::new(crate::export::tail::TailSampler::new(tc, queue));
                tail = Some(t.clone());
                provider.with_span_processor(crate::export::tail::TailStage(t))
            }
            None => provider.with_span_processor(queue),
        };
    }
    for p in ext.processors {
        provider = provider.with_span_processor(BoxedProcessor(p));
    }
    let provider = provider.build();
    #[cfg(feature = "logs")]
    let logs = install_logs(config, &resource);
    Ok(Installed {
        #[cfg(feature = "metrics")]
        metrics: crate::export::metrics::build(config, resource),
        tracer: provider.tracer("agent-trace"),
        provider,
        service_name: config.service_name.as_str().into(),
        test_only: false,
        settings: Vec::new(),
        head: crate::sampling::head_of(sampler, tail_on),
        prices: config.prices.clone(),
        recorder,
        owned: Some(Arc::new(Owned {
            pipeline: shared,
            tail,
            #[cfg(feature = "logs")]
            logs,
        })),
    })
}

#[cfg(all(test, not(feature = "otlp-grpc"), not(feature = "otlp-http")))]
mod slim_build_tests {
    /// A build without exporter features names the cargo feature to enable, not a variable
    /// the user never set.
    #[test]
    fn asking_a_slim_build_to_export_names_the_missing_feature() {
        for (endpoint, feature) in [
            ("http://127.0.0.1:4317", "otlp-grpc"),
            ("http://127.0.0.1:4318", "otlp-http"),
        ] {
            let e = super::builder()
                .service_name("slim")
                .endpoint(endpoint)
                .install_subscriber(false)
                .env(|_| None)
                .install()
                .unwrap_err();
            assert!(matches!(e, crate::InitError::MissingFeature { .. }), "{e}");
            assert!(e.to_string().contains(feature), "{e}");
            assert_eq!(e.variable(), None);
        }
    }
}
