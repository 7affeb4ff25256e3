//! A clinic's FHIR R4 server as `kapchart sync` talks to it: its CapabilityStatement and
//! transaction bundles, over HTTP(S) with a bearer token, every refusal worded.

use serde_json::Value;
use std::time::Duration;

/// Why the server could not be used; nothing of the bundle in hand was recorded as sent.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerError {
    /// No answer: the server is down, unreachable, or the answer did not come in time.
    Unreachable { base: String, why: String },
    /// 401 or 403: the token is missing, wrong or not allowed.
    Unauthorized { status: u16, said: String },
    /// Another refusal (4xx or 5xx), with what the server's OperationOutcome said.
    Refused { status: u16, said: String },
    /// An answer kapchart cannot read as FHIR.
    Unreadable { why: String },
}

impl std::fmt::Display for ServerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServerError::Unreachable { base, why } => write!(
                f,
                "could not reach the FHIR server at {base}: {why}; check the address ([sync] server or --server) and the network"
            ),
            ServerError::Unauthorized { status, said } => write!(
                f,
                "the FHIR server refused the token ({status}{}); set KAPCHART_SYNC_TOKEN or the sync-token file beside config.toml",
                if said.is_empty() {
                    String::new()
                } else {
                    format!(": {said}")
                }
            ),
            ServerError::Refused { status, said } => write!(
                f,
                "the FHIR server refused it ({status}): {}",
                if said.is_empty() {
                    "it gave no reason"
                } else {
                    said
                }
            ),
            ServerError::Unreadable { why } => {
                write!(f, "the FHIR server's answer could not be read: {why}")
            }
        }
    }
}

/// The server: its base URL and the token sent with every request.
pub struct Server {
    pub base: String,
    token: Option<String>,
    agent: ureq::Agent,
}

impl Server {
    pub fn new(base: &str, token: Option<String>, timeout: Duration) -> Server {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .build()
            .into();
        Server {
            base: base.trim_end_matches('/').to_string(),
            token,
            agent,
        }
    }

    /// `GET [base]/metadata`.
    pub fn capabilities(&self) -> Result<Value, ServerError> {
        self.call("GET", "metadata", None)
    }

    /// `GET [base]/path`.
    pub fn get(&self, path: &str) -> Result<Value, ServerError> {
        self.call("GET", path, None)
    }

    /// `POST [base]` of a transaction bundle; the transaction-response bundle.
    pub fn transaction(&self, bundle: &Value) -> Result<Value, ServerError> {
        self.call("POST", "", Some(bundle))
    }

    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value, ServerError> {
        let url = if path.is_empty() {
            self.base.clone()
        } else {
            format!("{}/{path}", self.base)
        };
        let unreachable = |e: ureq::Error| ServerError::Unreachable {
            base: self.base.clone(),
            why: e.to_string(),
        };
        let auth = self.token.as_ref().map(|t| format!("Bearer {t}"));
        let mut response = match body {
            Some(b) => {
                let mut req = self
                    .agent
                    .post(&url)
                    .header("Content-Type", "application/fhir+json")
                    .header("Accept", "application/fhir+json");
                if let Some(a) = &auth {
                    req = req.header("Authorization", a);
                }
                req.send(b.to_string()).map_err(unreachable)?
            }
            None => {
                let mut req = match method {
                    "GET" => self.agent.get(&url),
                    _ => self.agent.delete(&url),
                }
                .header("Accept", "application/fhir+json");
                if let Some(a) = &auth {
                    req = req.header("Authorization", a);
                }
                req.call().map_err(unreachable)?
            }
        };
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(256 * 1024 * 1024)
            .read_to_string()
            .map_err(unreachable)?;
        let value: Option<Value> = serde_json::from_str(&text).ok();
        if (200..300).contains(&status) {
            return value.ok_or_else(|| ServerError::Unreadable {
                why: format!("{status} with a body that is not JSON"),
            });
        }
        let said = value.as_ref().map(outcome_text).unwrap_or_default();
        Err(match status {
            401 | 403 => ServerError::Unauthorized { status, said },
            _ => ServerError::Refused { status, said },
        })
    }
}

/// What an OperationOutcome says, one issue after another ("error: Observation.status:
/// invalid code").
pub fn outcome_text(v: &Value) -> String {
    let Some(issues) = v["issue"].as_array() else {
        return String::new();
    };
    issues
        .iter()
        .map(|i| {
            let words = i["details"]["text"]
                .as_str()
                .or_else(|| i["diagnostics"].as_str())
                .unwrap_or("no details");
            let at = i["expression"]
                .as_array()
                .and_then(|e| e.first())
                .and_then(Value::as_str)
                .map(|e| format!(" at {e}"))
                .unwrap_or_default();
            format!("{}: {words}{at}", i["severity"].as_str().unwrap_or("error"))
        })
        .collect::<Vec<_>>()
        .join("; ")
}
