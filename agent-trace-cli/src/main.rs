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

mod split;

use std::collections::HashMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use agent_trace::export::{render_trace, RenderOptions};
use agent_trace::testing::receiver::{spans_from_request, OtlpReceiver};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans};

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
        let number = |name: &str, v: String| -> Result<u64, String> {
            v.parse()
                .map_err(|_| format!("{name} takes a whole number, not {v:?}"))
        };
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
            "--bar-width" => o.render.bar_width = number(a, value(a)?)? as usize,
            "--quiet-ms" => o.quiet = Duration::from_millis(number(a, value(a)?)?),
            "--exit-after-traces" => o.exit_after_traces = Some(number(a, value(a)?)? as usize),
            "--exit-after-secs" => o.exit_after = Some(Duration::from_secs(number(a, value(a)?)?)),
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    Ok(o)
}

/// The spans of one trace, as received, with the resource and scope each came with.
#[derive(Default)]
struct TraceBuf {
    parts: Vec<ResourceSpans>,
    has_root: bool,
    first_seen: Option<Instant>,
    last_seen: Option<Instant>,
}

impl TraceBuf {
    fn request(&self) -> ExportTraceServiceRequest {
        ExportTraceServiceRequest {
            resource_spans: self.parts.clone(),
        }
    }
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
                if span.parent_span_id.is_empty() || span.parent_span_id.iter().all(|b| *b == 0) {
                    buf.has_root = true;
                }
                buf.first_seen.get_or_insert(now);
                buf.last_seen = Some(now);
                buf.parts.push(ResourceSpans {
                    resource: rs.resource.clone(),
                    schema_url: rs.schema_url.clone(),
                    scope_spans: vec![ScopeSpans {
                        scope: ss.scope.clone(),
                        schema_url: ss.schema_url.clone(),
                        spans: vec![span],
                    }],
                });
            }
        }
    }
}

fn emit(buf: &TraceBuf, o: &Options, note: &str, split: &mut split::SplitTraces) -> String {
    let req = buf.request();
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
         OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf OTEL_BSP_SCHEDULE_DELAY=100",
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
            let stale = b
                .first_seen
                .is_some_and(|f| now - f >= Duration::from_secs(30));
            if (b.has_root && quiet) || stale {
                done.push((t.clone(), !b.has_root));
            }
        }
        for (t, incomplete) in done {
            if let Some(buf) = traces.remove(&t) {
                order.retain(|x| *x != t);
                let note = if incomplete && !o.json {
                    "(incomplete: no root span arrived within 30 s)\n"
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
