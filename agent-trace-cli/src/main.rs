//! `agent-trace view`: a terminal trace viewer.
//!
//! ```text
//! agent-trace view [--grpc ADDR] [--http ADDR] [--attributes] [--json]
//!                  [--bar-width N] [--mask-durations] [--quiet-ms MS]
//!                  [--exit-after-traces N] [--exit-after-secs S]
//! agent-trace view --file traces.jsonl [--attributes] [--json] [--bar-width N] [--mask-durations]
//! ```
//!
//! Listening (the default), it receives OTLP over gRPC (`127.0.0.1:4317`) and HTTP/protobuf
//! (`127.0.0.1:4318`) and prints each trace as a waterfall once it is complete: its root span
//! has arrived and nothing new came for `--quiet-ms` (default 500). A trace whose root never
//! comes is printed after 30 s, marked incomplete. `--json` writes each trace instead as one
//! line of OTLP JSON (`ExportTraceServiceRequest`), the form `--file` reads back.
//!
//! Services run with `AGENT_TRACE_PENDING_SPANS=true` also send a marker when a span starts
//! (`agent_trace.span.pending=true`, same span id). While a trace has running spans and no
//! ended root, each time new spans arrive and then `--quiet-ms` pass, the viewer prints the
//! trace so far, the running spans marked `⋯ running` up to now; such a trace waits for its
//! root 10 minutes after the last thing received instead of 30 s. The ended span replaces its
//! marker, in whichever order they come; `--json` prints ended spans only.

#[cfg(test)]
mod fuzz_tests;
mod split;

use std::collections::{HashMap, HashSet};
use std::io::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use agent_trace::export::{render_trace, RenderOptions, MAX_BAR_WIDTH};
use agent_trace::receiver::{spans_from_request, OtlpReceiver};
use agent_trace::semconv::AGENT_TRACE_SPAN_PENDING;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

const USAGE: &str = "\
usage: agent-trace view [--grpc ADDR] [--http ADDR] [--attributes] [--json]
                        [--bar-width N] [--mask-durations] [--quiet-ms MS]
                        [--exit-after-traces N] [--exit-after-secs S]
       agent-trace view --file traces.jsonl [--attributes] [--json] [--bar-width N] [--mask-durations]

Listens for OTLP (gRPC on 127.0.0.1:4317, HTTP/protobuf on 127.0.0.1:4318 by default) and
prints each trace as a waterfall when it completes; --json prints OTLP JSON lines instead,
which --file reads back.";

#[derive(Debug)]
struct Options {
    grpc: SocketAddr,
    http: SocketAddr,
    file: Option<String>,
    json: bool,
    render: RenderOptions,
    quiet: Duration,
    exit_after_traces: Option<usize>,
    exit_after: Option<Duration>,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        grpc: SocketAddr::from(([127, 0, 0, 1], 4317)),
        http: SocketAddr::from(([127, 0, 0, 1], 4318)),
        file: None,
        json: false,
        render: RenderOptions::default(),
        quiet: Duration::from_millis(500),
        exit_after_traces: None,
        exit_after: None,
    };
    let mut it = args.iter();
    match it.next().map(String::as_str) {
        Some("view") => {}
        Some("-h" | "--help") | None => return Err(String::new()),
        Some(other) => return Err(format!("unknown command {other:?}; the command is `view`")),
    }
    while let Some(a) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        // A whole number up to `max` (each option's bound keeps the viewer's memory and its
        // clock arithmetic finite).
        let bounded = |name: &str, v: String, max: u64| -> Result<u64, String> {
            match v.parse::<u64>() {
                Ok(n) if n <= max => Ok(n),
                _ => Err(format!(
                    "{name} takes a whole number from 0 to {max}, not {v:?}"
                )),
            }
        };
        let number = |name: &str, v: String| bounded(name, v, u64::from(u32::MAX));
        match a.as_str() {
            "--grpc" | "--http" => {
                let v = value(a)?;
                let addr: SocketAddr = v
                    .parse()
                    .map_err(|_| format!("{a} takes an address like 127.0.0.1:4317, not {v:?}"))?;
                if !addr.ip().is_loopback() {
                    return Err(format!(
                        "{a}: the viewer listens on loopback addresses only"
                    ));
                }
                if a == "--grpc" {
                    o.grpc = addr;
                } else {
                    o.http = addr;
                }
            }
            "--file" => o.file = Some(value(a)?),
            "--json" => o.json = true,
            "--attributes" => o.render.attributes = true,
            "--mask-durations" => o.render.mask_durations = true,
            "--bar-width" => {
                o.render.bar_width = bounded(a, value(a)?, MAX_BAR_WIDTH as u64)? as usize
            }
            "--quiet-ms" => o.quiet = Duration::from_millis(bounded(a, value(a)?, 86_400_000)?),
            "--exit-after-traces" => o.exit_after_traces = Some(number(a, value(a)?)? as usize),
            "--exit-after-secs" => {
                o.exit_after = Some(Duration::from_secs(bounded(a, value(a)?, 31_536_000)?))
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    Ok(o)
}

/// How long a trace with running spans waits for its root after the last thing received.
const RUNNING_WAIT: Duration = Duration::from_secs(600);

/// The spans of one trace, as received, with the resource and scope each came with.
#[derive(Default)]
struct TraceBuf {
    /// Ended spans.
    parts: Vec<ResourceSpans>,
    /// Span ids of the ended spans.
    ended: HashSet<Vec<u8>>,
    /// Markers of spans that started and have not ended, by span id.
    running: HashMap<Vec<u8>, ResourceSpans>,
    has_root: bool,
    first_seen: Option<Instant>,
    last_seen: Option<Instant>,
    /// Something arrived since the trace was last printed in progress.
    changed: bool,
}

impl TraceBuf {
    /// The ended spans, and the running ones when `running` (ending now, still marked).
    fn request(&self, running: bool) -> ExportTraceServiceRequest {
        let mut resource_spans = self.parts.clone();
        if running {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            let mut markers: Vec<ResourceSpans> = self.running.values().cloned().collect();
            for rs in &mut markers {
                for span in rs.scope_spans.iter_mut().flat_map(|ss| ss.spans.iter_mut()) {
                    span.end_time_unix_nano = now.max(span.start_time_unix_nano);
                }
            }
            resource_spans.extend(markers);
        }
        ExportTraceServiceRequest { resource_spans }
    }

    /// Whether to print the trace so far: spans are running, no root has ended, something
    /// came since the last such print, and then nothing for `quiet`.
    fn in_progress_due(&self, now: Instant, quiet: Duration) -> bool {
        !self.has_root
            && !self.running.is_empty()
            && self.changed
            && self.last_seen.is_some_and(|l| now - l >= quiet)
    }

    /// Whether to stop waiting for the root.
    fn stale(&self, now: Instant) -> bool {
        if self.running.is_empty() {
            self.first_seen
                .is_some_and(|f| now - f >= Duration::from_secs(30))
        } else {
            self.last_seen.is_some_and(|l| now - l >= RUNNING_WAIT)
        }
    }
}

/// Whether `span` is a pending-span marker.
fn is_marker(span: &Span) -> bool {
    span.attributes.iter().any(|kv| {
        kv.key == AGENT_TRACE_SPAN_PENDING
            && kv
                .value
                .as_ref()
                .is_some_and(|v| v.value == Some(any_value::Value::BoolValue(true)))
    })
}

/// Splits requests by trace id, keeping each span's resource and scope.
fn split_by_trace(
    req: ExportTraceServiceRequest,
    traces: &mut HashMap<Vec<u8>, TraceBuf>,
    order: &mut Vec<Vec<u8>>,
) {
    let now = Instant::now();
    for rs in req.resource_spans {
        for ss in rs.scope_spans {
            for span in ss.spans {
                let buf = traces.entry(span.trace_id.clone()).or_insert_with(|| {
                    order.push(span.trace_id.clone());
                    TraceBuf::default()
                });
                buf.first_seen.get_or_insert(now);
                buf.last_seen = Some(now);
                buf.changed = true;
                let marker = is_marker(&span);
                let root =
                    span.parent_span_id.is_empty() || span.parent_span_id.iter().all(|b| *b == 0);
                let id = span.span_id.clone();
                let part = ResourceSpans {
                    resource: rs.resource.clone(),
                    schema_url: rs.schema_url.clone(),
                    scope_spans: vec![ScopeSpans {
                        scope: ss.scope.clone(),
                        schema_url: ss.schema_url.clone(),
                        spans: vec![span],
                    }],
                };
                if marker {
                    // A marker that comes after its span (another batch) is stale.
                    if !buf.ended.contains(&id) {
                        buf.running.insert(id, part);
                    }
                    continue;
                }
                buf.running.remove(&id);
                buf.ended.insert(id);
                buf.has_root |= root;
                buf.parts.push(part);
            }
        }
    }
}

fn emit(buf: &TraceBuf, o: &Options, note: &str, split: &mut split::SplitTraces) -> String {
    let req = buf.request(!o.json);
    if o.json {
        return match serde_json::to_string(&req) {
            Ok(s) => format!("{s}\n"),
            Err(e) => format!("{{\"error\":\"{e}\"}}\n"),
        };
    }
    let views: Vec<_> = spans_from_request(&req, "view")
        .iter()
        .map(|s| s.to_view())
        .collect();
    let mut text = render_trace(&views, o.render);
    text.push_str(note);
    text.push_str(&split.check(&views));
    text.push('\n');
    text
}

fn print(s: &str) -> bool {
    let mut out = std::io::stdout().lock();
    out.write_all(s.as_bytes())
        .and_then(|()| out.flush())
        .is_ok()
}

fn view_file(path: &str, o: &Options) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let mut traces = HashMap::new();
    let mut order = Vec::new();
    let mut split = split::SplitTraces::default();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let req: ExportTraceServiceRequest = serde_json::from_str(line)
            .map_err(|e| format!("{path}:{}: not an OTLP JSON trace request: {e}", n + 1))?;
        split_by_trace(req, &mut traces, &mut order);
    }
    for t in &order {
        if !print(&emit(&traces[t], o, "", &mut split)) {
            break;
        }
    }
    Ok(())
}

fn listen(o: &Options) -> Result<(), String> {
    let rx = OtlpReceiver::start_on(o.grpc, o.http)
        .map_err(|e| format!("cannot listen on {} / {}: {e}", o.grpc, o.http))?;
    eprintln!(
        "agent-trace view: listening for OTLP on grpc={} http={} (Ctrl-C to stop)",
        rx.grpc_addr(),
        rx.http_addr()
    );
    // The default batch delay (5 s) would make a trace show up seconds late: ask for 100 ms.
    // (Written, not `eprintln!`ed: a reader that closed stderr must not end the viewer.)
    let _ = writeln!(
        std::io::stderr(),
        "agent-trace view: run your services with\n  OTEL_EXPORTER_OTLP_ENDPOINT=http://{} \
         OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf OTEL_BSP_SCHEDULE_DELAY=100 \
         AGENT_TRACE_PENDING_SPANS=true",
        rx.http_addr()
    );
    let started = Instant::now();
    let mut traces: HashMap<Vec<u8>, TraceBuf> = HashMap::new();
    let mut order: Vec<Vec<u8>> = Vec::new();
    let mut printed = 0usize;
    let mut split = split::SplitTraces::default();
    loop {
        for req in rx.take_requests() {
            split_by_trace(req, &mut traces, &mut order);
        }
        let now = Instant::now();
        let mut done = Vec::new();
        for t in &order {
            let b = &traces[t];
            let quiet = b.last_seen.is_some_and(|l| now - l >= o.quiet);
            if (b.has_root && quiet) || b.stale(now) {
                done.push((t.clone(), !b.has_root));
            }
        }
        if !o.json {
            for b in traces.values_mut() {
                if b.in_progress_due(now, o.quiet) {
                    b.changed = false;
                    let note = format!("(in progress: {} running)\n", b.running.len());
                    if !print(&emit(b, o, &note, &mut split::SplitTraces::default())) {
                        return Ok(());
                    }
                }
            }
        }
        for (t, incomplete) in done {
            if let Some(buf) = traces.remove(&t) {
                order.retain(|x| *x != t);
                let note = if incomplete && !o.json {
                    "(incomplete: no root span arrived in time)\n"
                } else {
                    ""
                };
                if !print(&emit(&buf, o, note, &mut split)) {
                    return Ok(()); // stdout closed (piped into head): stop quietly
                }
                printed += 1;
            }
        }
        if o.exit_after_traces.is_some_and(|n| printed >= n)
            || o.exit_after.is_some_and(|d| started.elapsed() >= d)
        {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let o = match parse(&args) {
        Ok(o) => o,
        Err(msg) if msg.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("agent-trace: {msg}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = match &o.file {
        Some(path) => view_file(path, &o),
        None => listen(&o),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("agent-trace: {msg}");
            ExitCode::FAILURE
        }
    }
}
