//! The FHIR R4 server the sync tests send the chart to.
//!
//! `FhirServer::start()` runs `tests/fhir-server/server.mjs` (Medplum's FHIR router over its
//! in-memory repository, on 127.0.0.1, a port of its own) with Node, or, when
//! `KAPCHART_TEST_FHIR_BASE` names a base URL (a HAPI server, a clinic's test server), uses
//! that and starts nothing; `KAPCHART_TEST_FHIR_TOKEN` is then sent as the bearer token.
//! `start_local()` and `start_with(env)` always start the local server. The local server's
//! switches (faults, reset, counts read from its repository) are under
//! `/_control/`, outside the FHIR base. HTTP is a small HTTP/1.1 client over `TcpStream` for
//! `http://` bases, and `curl` for an `https://` one.
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

pub const BASE_ENV: &str = "KAPCHART_TEST_FHIR_BASE";
pub const TOKEN_ENV: &str = "KAPCHART_TEST_FHIR_TOKEN";
pub const SCRIPT_ENV: &str = "KAPCHART_FHIR_SERVER_SCRIPT";
const START_TIMEOUT: Duration = Duration::from_secs(30);
const HOW_TO_INSTALL: &str = "run `bash .ci/test` (it installs the server's packages), or \
     `npm ci --prefix tests/fhir-server` (Node 20 or later)";

/// A FHIR R4 server for one test: the local one, killed when dropped, or the external one
/// `KAPCHART_TEST_FHIR_BASE` names.
pub struct FhirServer {
    base: String,
    token: Option<String>,
    local: Option<Local>,
}

struct Local {
    child: Child,
    // Held open: the server exits when its stdin closes, so it dies with the test process.
    stdin: Option<ChildStdin>,
    origin: String,
}

/// One HTTP answer: status, headers (names lower-cased) and the body read as JSON
/// (`Value::Null` when empty; a body that is not JSON becomes a string).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl FhirServer {
    /// The server the suite runs against: the local one, or `KAPCHART_TEST_FHIR_BASE`.
    pub fn start() -> FhirServer {
        match std::env::var(BASE_ENV).ok().filter(|b| !b.is_empty()) {
            Some(base) => FhirServer {
                base: base.trim_end_matches('/').to_string(),
                token: std::env::var(TOKEN_ENV).ok().filter(|t| !t.is_empty()),
                local: None,
            },
            None => Self::start_local(),
        }
    }

    /// The local server whatever `KAPCHART_TEST_FHIR_BASE` says: for tests of what only it
    /// can do (faults, a token, no update-as-create).
    pub fn start_local() -> FhirServer {
        Self::start_with(&[])
    }

    /// The local server with these environment variables: `FHIR_TOKEN` (its helper then sends
    /// the token), `KAPCHART_FHIR_NO_UPDATE_CREATE`, `KAPCHART_FHIR_NO_VALIDATION`.
    pub fn start_with(env: &[(&str, &str)]) -> FhirServer {
        let token = env
            .iter()
            .find(|(k, _)| *k == "FHIR_TOKEN")
            .map(|(_, v)| v.to_string());
        let local = Local::spawn(env);
        FhirServer {
            base: format!("{}/fhir/R4", local.origin),
            token,
            local: Some(local),
        }
    }

    /// The FHIR base URL, e.g. `http://127.0.0.1:PORT/fhir/R4`, without a trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The bearer token this server wants, if any.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// The process id of the local server (`None` for an external one): the sync bench reads
    /// its CPU time from `/proc`.
    pub fn pid(&self) -> Option<u32> {
        self.local.as_ref().map(|l| l.child.id())
    }

    /// Whether this is the local server (faults, reset and exact counts available).
    pub fn is_local(&self) -> bool {
        self.local.is_some()
    }

    /// How many current resources of a type the server holds: read from the local server's
    /// repository, or `GET base/Type?_summary=count` on an external one.
    pub fn count(&self, resource_type: &str) -> usize {
        match &self.local {
            Some(local) => {
                let url = format!("{}/_control/count?type={resource_type}", local.origin);
                let reply = expect_ok("GET", &url, send("GET", &url, None, None));
                as_count(&reply.body["count"], &url)
            }
            None => self.count_matching(resource_type, ""),
        }
    }

    /// How many resources of a type match a search (`identifier=urn:oid:...|123`), by
    /// `GET base/Type?QUERY&_summary=count`: the same on any server.
    pub fn count_matching(&self, resource_type: &str, query: &str) -> usize {
        let sep = if query.is_empty() { "" } else { "&" };
        let body = self.get(&format!("{resource_type}?{query}{sep}_summary=count"));
        as_count(&body["total"], resource_type)
    }

    /// Arms a fault on the local server for its next FHIR requests:
    /// `{"next": 2, "status": 503}`, `{"next": 1, "delay_ms": 5000}`, `{"next": 1, "cut": true}`.
    pub fn fault(&self, fault: Value) {
        let url = format!("{}/_control/fault", self.control("arm a fault"));
        expect_ok("POST", &url, send("POST", &url, None, Some(&fault)));
    }

    /// The transaction bundles posted to the local server since its last reset, as it
    /// received them, in order; `None` for an external server (it keeps no such record).
    pub fn received(&self) -> Option<Vec<Value>> {
        let local = self.local.as_ref()?;
        let url = format!("{}/_control/received", local.origin);
        let reply = expect_ok("GET", &url, send("GET", &url, None, None));
        Some(
            reply.body["bundles"]
                .as_array()
                .unwrap_or_else(|| {
                    panic!("{url}: expected {{\"bundles\": [...]}}, got {}", reply.body)
                })
                .clone(),
        )
    }

    /// Empties the local server's repository and clears its faults.
    pub fn reset(&self) {
        let url = format!("{}/_control/reset", self.control("clear the repository"));
        expect_ok("POST", &url, send("POST", &url, None, None));
    }

    /// `GET base/PATH`, expecting a 2xx answer; its JSON body.
    pub fn get(&self, path: &str) -> Value {
        let url = self.url(path);
        expect_ok("GET", &url, self.request("GET", path, None)).body
    }

    /// `POST base/PATH` with a JSON body (`""` posts to the base: a transaction bundle).
    pub fn post_json(&self, path: &str, body: &Value) -> Reply {
        let url = self.url(path);
        self.request("POST", path, Some(body))
            .unwrap_or_else(|e| panic!("POST {url}: {e}"))
    }

    /// Any request to `base/PATH`, with the token; an error when no answer came back (a
    /// refused or cut connection, a timeout).
    pub fn request(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Reply, String> {
        send(method, &self.url(path), self.token.as_deref(), body)
    }

    /// As `request`, without the token, or with another one.
    pub fn request_as(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Reply, String> {
        send(method, &self.url(path), token, body)
    }

    /// As `request`, giving up after `timeout` without an answer.
    pub fn request_within(
        &self,
        timeout: Duration,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Reply, String> {
        let url = self.url(path);
        let (origin, target) = split_http(&url);
        http1(origin, target, method, self.token.as_deref(), body, timeout)
    }

    fn url(&self, path: &str) -> String {
        let path = path.trim_start_matches('/');
        if path.is_empty() {
            self.base.clone()
        } else {
            format!("{}/{path}", self.base)
        }
    }

    fn control(&self, what: &str) -> &str {
        match &self.local {
            Some(local) => &local.origin,
            None => panic!(
                "this test needs the local FHIR server to {what}, and {BASE_ENV}={} points \
                 at an external one; start it with FhirServer::start_local()",
                self.base
            ),
        }
    }
}

impl FhirServer {
    /// Closes the local server's stdin, as a test process that dies does, and waits for it to
    /// exit by itself.
    pub fn close_stdin_and_wait(&mut self) -> std::process::ExitStatus {
        let local = self.local.as_mut().expect("the local FHIR server");
        drop(local.stdin.take());
        local.child.wait().expect("wait for the FHIR test server")
    }
}

impl Drop for FhirServer {
    fn drop(&mut self) {
        if let Some(local) = &mut self.local {
            drop(local.stdin.take());
            let _ = local.child.kill();
            let _ = local.child.wait();
        }
    }
}

impl Local {
    fn spawn(env: &[(&str, &str)]) -> Local {
        let script = std::env::var_os(SCRIPT_ENV)
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fhir-server/server.mjs")
            });
        let packages = script
            .parent()
            .map(|d| d.join("node_modules/@medplum/fhir-router"));
        assert!(
            packages.as_ref().is_some_and(|p| p.is_dir()),
            "the FHIR test server's packages are not installed next to {}: {HOW_TO_INSTALL}",
            script.display()
        );
        let mut cmd = Command::new("node");
        cmd.arg(&script)
            .env("PORT", "0")
            .env_remove("FHIR_TOKEN")
            .env_remove("KAPCHART_FHIR_NO_UPDATE_CREATE")
            .env_remove("KAPCHART_FHIR_NO_VALIDATION")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap_or_else(|e| {
            panic!("cannot run `node` for the FHIR test server ({e}): install Node 20 or later, then {HOW_TO_INSTALL}")
        });

        // Its stderr is kept (the last 16 KiB) to explain a server that does not start.
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err_pipe = child.stderr.take().expect("stderr");
        let kept = Arc::clone(&stderr);
        let stderr_reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err_pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut s = kept.lock().unwrap();
                s.push_str(&String::from_utf8_lossy(&buf[..n]));
                if s.len() > 16 * 1024 {
                    let cut = s.len() - 16 * 1024;
                    let cut = (cut..s.len()).find(|&i| s.is_char_boundary(i)).unwrap();
                    s.drain(..cut);
                }
            }
        });

        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let first = lines.next().and_then(Result::ok);
            let _ = tx.send(first);
            // Drained after the first line so the server never blocks writing to it.
            for _ in lines {}
        });
        let line = rx.recv_timeout(START_TIMEOUT);
        let port = match &line {
            Ok(Some(l)) => l
                .strip_prefix("listening ")
                .and_then(|p| p.trim().parse::<u16>().ok()),
            _ => None,
        };
        let Some(port) = port else {
            let _ = child.kill();
            let status = child.wait();
            let _ = stderr_reader.join();
            let said = match line {
                Ok(Some(l)) => format!("it printed {l:?} instead of `listening PORT`"),
                Ok(None) => format!("it exited first ({status:?})"),
                Err(_) => format!("it did not say `listening PORT` within {START_TIMEOUT:?}"),
            };
            panic!(
                "the FHIR test server ({}) did not start: {said}; {HOW_TO_INSTALL}\n\
                 its stderr:\n{}",
                script.display(),
                stderr.lock().unwrap()
            );
        };
        Local {
            stdin: child.stdin.take(),
            child,
            origin: format!("http://127.0.0.1:{port}"),
        }
    }
}

fn as_count(v: &Value, what: &str) -> usize {
    v.as_u64()
        .unwrap_or_else(|| panic!("{what}: expected a count, got {v}")) as usize
}

fn expect_ok(method: &str, url: &str, reply: Result<Reply, String>) -> Reply {
    let reply = reply.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    assert!(
        (200..300).contains(&reply.status),
        "{method} {url} answered {}: {}",
        reply.status,
        reply.body
    );
    reply
}

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

fn send(
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Result<Reply, String> {
    if url.starts_with("https://") {
        return curl(method, url, token, body);
    }
    let (origin, target) = split_http(url);
    http1(origin, target, method, token, body, DEFAULT_TIMEOUT)
}

/// `http://host:port/path?q` as (`host:port`, `/path?q`).
fn split_http(url: &str) -> (&str, &str) {
    let rest = url
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("{url}: expected an http:// URL"));
    match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    }
}

fn http1(
    host: &str,
    target: &str,
    method: &str,
    token: Option<&str>,
    body: Option<&Value>,
    timeout: Duration,
) -> Result<Reply, String> {
    let mut stream = TcpStream::connect(host).map_err(|e| format!("connect {host}: {e}"))?;
    stream.set_read_timeout(Some(timeout)).ok();
    stream.set_write_timeout(Some(timeout)).ok();
    let payload = body.map(|b| b.to_string()).unwrap_or_default();
    let mut head = format!(
        "{method} {target} HTTP/1.1\r\nHost: {host}\r\nAccept: application/fhir+json\r\n\
         Connection: close\r\nContent-Length: {}\r\n",
        payload.len()
    );
    if body.is_some() {
        head.push_str("Content-Type: application/fhir+json\r\n");
    }
    if let Some(t) = token {
        head.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    head.push_str("\r\n");
    stream
        .write_all(head.as_bytes())
        .and_then(|_| stream.write_all(payload.as_bytes()))
        .map_err(|e| format!("send to {host}: {e}"))?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|e| format!("read from {host}: {e}"))?;
    if raw.is_empty() {
        return Err(format!("{host} closed the connection without answering"));
    }
    parse_reply(&raw, true)
}

fn curl(
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Result<Reply, String> {
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "-i", "--max-time", "60", "-X", method, "-H"])
        .arg("Accept: application/fhir+json");
    if let Some(t) = token {
        cmd.arg("-H").arg(format!("Authorization: Bearer {t}"));
    }
    if body.is_some() {
        cmd.args([
            "-H",
            "Content-Type: application/fhir+json",
            "--data-binary",
            "@-",
        ]);
    }
    cmd.arg(url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| format!("curl (for {url}): {e}"))?;
    let mut stdin = child.stdin.take().expect("stdin");
    if let Some(b) = body {
        stdin
            .write_all(b.to_string().as_bytes())
            .map_err(|e| e.to_string())?;
    }
    drop(stdin);
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "curl {url}: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    // curl prints a head per response (a 100 Continue, a proxy's); the last one is the answer.
    let mut raw: &[u8] = &out.stdout;
    while let Some(end) = find(raw, b"\r\n\r\n") {
        let next = &raw[end + 4..];
        if next.starts_with(b"HTTP/") {
            raw = next;
        } else {
            break;
        }
    }
    parse_reply(raw, false)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn parse_reply(raw: &[u8], may_be_chunked: bool) -> Result<Reply, String> {
    let end = find(raw, b"\r\n\r\n").ok_or("an answer without the end of its headers")?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("not an HTTP status line: {status_line:?}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut content = raw[end + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    if may_be_chunked && chunked {
        content = dechunk(&content)?;
    }
    let body = if content.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        serde_json::from_slice(&content)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&content).into_owned()))
    };
    Ok(Reply {
        status,
        headers,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let line_end = find(data, b"\r\n").ok_or("a chunk without its size line")?;
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| format!("a chunk size that is not hex: {size_text:?}"))?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if data.len() < size {
            return Err("the answer ended inside a chunk".into());
        }
        out.extend_from_slice(&data[..size]);
        data = data.get(size + 2..).unwrap_or_default();
    }
}
