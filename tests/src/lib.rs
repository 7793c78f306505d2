//! Shared helpers for the integration tests: ports, pipelines pointed at an in-process
//! receiver, and counting the export threads.

pub mod mcp;
pub mod peers;
pub mod semconv;

use std::time::Duration;

use agent_trace::receiver::OtlpReceiver;
use agent_trace::{Protocol, TraceGuard};

/// Serves `app` on a free loopback port; the server runs until the test's runtime ends.
pub async fn serve(app: axum::Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// A loopback port that was free a moment ago (for "collector comes up later" tests).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// A builder with short delays, exporting to `endpoint` over `protocol`, ignoring the
/// process environment.
pub fn builder_for(service: &str, endpoint: &str, protocol: Protocol) -> agent_trace::Builder {
    agent_trace::builder()
        .service_name(service)
        .endpoint(endpoint)
        .protocol(protocol)
        .schedule_delay(Duration::from_millis(20))
        .export_timeout(Duration::from_secs(5))
        .env(|_| None)
}

/// Installs a pipeline exporting to `rx` over `protocol`.
pub fn init_to(rx: &OtlpReceiver, service: &str, protocol: Protocol) -> TraceGuard {
    let endpoint = match protocol {
        Protocol::Grpc => rx.grpc_endpoint(),
        _ => rx.http_endpoint(),
    };
    builder_for(service, &endpoint, protocol)
        .install()
        .expect("install")
}

/// How many export threads this process runs (one per pipeline).
pub fn export_threads() -> usize {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .filter_map(|t| t.ok())
        .filter_map(|t| std::fs::read_to_string(t.path().join("comm")).ok())
        .filter(|name| name.trim() == "agent-trace-exp")
        .count()
}

/// A private `redis-server` on a free loopback port, stopped when dropped.
#[derive(Debug)]
pub struct RedisServer {
    child: std::process::Child,
    /// `redis://127.0.0.1:PORT/`
    pub url: String,
}

impl RedisServer {
    /// Starts one, or `None` if `redis-server` is not installed.
    pub fn start() -> Option<RedisServer> {
        let port = free_port();
        let child = std::process::Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .ok()?;
        let server = RedisServer {
            child,
            url: format!("redis://127.0.0.1:{port}/"),
        };
        // Bounded wait for it to accept connections.
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(server);
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("redis-server did not start listening on port {port} within 5 s");
    }

    /// Starts one; without `redis-server`, says so and returns `None` (the caller skips),
    /// unless `AGENT_TRACE_REQUIRE_REDIS=1`, when a missing server is a failure (CI sets it).
    pub fn start_or_skip(test: &str) -> Option<RedisServer> {
        let server = RedisServer::start();
        if server.is_none() {
            if std::env::var("AGENT_TRACE_REQUIRE_REDIS").as_deref() == Ok("1") {
                panic!("{test}: redis-server is required (AGENT_TRACE_REQUIRE_REDIS=1) but not installed");
            }
            eprintln!("SKIPPED {test}: redis-server not found (apt-get install redis-server)");
        }
        server
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A traced tool for tests that only need spans to be made.
#[agent_trace::traced_tool]
pub fn work(i: u64) -> u64 {
    i * 2
}

/// Asserts that every span that ended is accounted for: exported, dropped or pending.
pub fn balanced(s: &agent_trace::ExportStats) {
    assert_eq!(
        s.exported + s.dropped() + s.pending,
        s.ended,
        "every ended span is accounted for: {s:?}"
    );
}

/// The counts of a shutdown or flush that must report a loss.
pub fn loss(
    r: Result<agent_trace::ExportStats, agent_trace::ShutdownError>,
) -> agent_trace::ExportStats {
    match r {
        Err(agent_trace::ShutdownError::Incomplete(s)) => s,
        other => panic!("expected an honest report of loss, got {other:?}"),
    }
}

/// The pinned Python packages `.ci/run` installs for the cross-language tests and the demo's
/// Python agent.
pub const PYTHON_PACKAGES: &str = "mcp==2.3.0 a2a-sdk[telemetry,http-server]==1.3.0 \
    uvicorn==0.54.0 opentelemetry-sdk==1.45.1 opentelemetry-exporter-otlp-proto-http==1.45.1 \
    opentelemetry-instrumentation-starlette==0.66b1 opentelemetry-instrumentation-httpx==0.66b1";

/// Whether python3 has those packages: `false` (after saying SKIPPED) outside CI, a failure
/// in CI (`CI` set), where `.ci/run` installs them.
pub fn python_ready() -> bool {
    let imports = "import mcp, a2a, uvicorn, opentelemetry.sdk, \
                   opentelemetry.exporter.otlp.proto.http, opentelemetry.instrumentation.starlette, \
                   opentelemetry.instrumentation.httpx";
    let ok = std::process::Command::new("python3")
        .args(["-c", imports])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var("CI").is_err(),
            "the Python packages are required in CI (.ci/run installs them): {PYTHON_PACKAGES}"
        );
        eprintln!(
            "SKIPPED: python3 lacks the official MCP/A2A SDKs or OpenTelemetry: pip install {PYTHON_PACKAGES}"
        );
    }
    ok
}

/// The folder of the JavaScript peers (`tests/js`: the official MCP TypeScript SDK and A2A
/// JavaScript SDK with OpenTelemetry JS, pinned in its `package.json` and lock file).
pub fn js_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("js")
}

/// Whether `node` (20 or later) and the peers' packages are installed: `false` (after saying
/// SKIPPED with the install line) outside CI, a failure in CI (`CI` set), where `.ci/run`
/// installs them with `npm ci`.
pub fn node_ready() -> bool {
    let node = std::process::Command::new("node")
        .args([
            "-e",
            "process.exit(Number(process.versions.node.split('.')[0]) >= 20 ? 0 : 1)",
        ])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let packages = [
        "@modelcontextprotocol/sdk",
        "@a2a-js/sdk",
        "@opentelemetry/sdk-trace-node",
        "@opentelemetry/sampler-composite",
    ]
    .iter()
    .all(|p| {
        js_dir()
            .join("node_modules")
            .join(p)
            .join("package.json")
            .is_file()
    });
    let ok = node && packages;
    if !ok {
        assert!(
            std::env::var("CI").is_err(),
            "Node.js 20+ and the JS peers are required in CI (.ci/run runs `npm ci` in tests/js)"
        );
        eprintln!("SKIPPED: Node.js 20+ or the JS peers are missing: cd tests/js && npm ci");
    }
    ok
}

/// A child process (a peer server) that prints `listening PORT` first and stops when its
/// stdin closes; killed by its PID if it is still there when dropped.
#[derive(Debug)]
pub struct Peer {
    child: std::process::Child,
    /// The port it listens on, on 127.0.0.1.
    pub port: u16,
}

impl Peer {
    /// Starts `command` (stdin and stdout piped) and reads its port.
    pub fn start(mut command: std::process::Command) -> Peer {
        use std::io::BufRead as _;
        let mut child = command
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("start the peer");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        let _ = std::io::BufReader::new(stdout).read_line(&mut line);
        let port = line
            .trim()
            .strip_prefix("listening ")
            .and_then(|p| p.parse().ok());
        let Some(port) = port else {
            let _ = child.kill();
            panic!("the peer said {line:?} instead of `listening PORT`");
        };
        Peer { child, port }
    }

    /// Closes its stdin and waits (at most 20 s) for it to flush and exit.
    pub fn stop(mut self) {
        drop(self.child.stdin.take());
        let started = std::time::Instant::now();
        while started.elapsed() < std::time::Duration::from_secs(20) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The main loop of a test service process: `app` on a free port of 127.0.0.1 (printed as
/// `listening PORT`) until stdin closes (two minutes at most), then `guard`'s bounded
/// shutdown (exit code 3 if it fails).
pub fn serve_until_stdin_closes(guard: agent_trace::TraceGuard, app: axum::Router) {
    use tokio::io::AsyncReadExt as _;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        println!("listening {}", listener.local_addr().expect("addr").port());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let mut stdin = tokio::io::stdin();
        let mut buf = [0u8; 64];
        let _ = tokio::time::timeout(std::time::Duration::from_secs(120), async {
            while !matches!(stdin.read(&mut buf).await, Ok(0) | Err(_)) {}
        })
        .await;
    });
    drop(rt);
    if let Err(e) = guard.shutdown() {
        eprintln!("shutdown: {e}");
        std::process::exit(3);
    }
}
