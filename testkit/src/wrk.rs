//! `wrk`, the HTTP load generator the token benches drive, and what it measured.
//!
//! Every load bench compares an endpoint with a baseline (`/healthz`) in the same run, with the
//! same settings: 2 threads, 64 connections, 10 s, `--latency`. One driver keeps those settings
//! and the reading of wrk's report in one place.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What one wrk run measured.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    pub rate: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// One wrk run: 2 threads for 10 s with `--latency`, 64 connections unless told otherwise.
#[derive(Debug, Clone)]
pub struct Wrk {
    url: String,
    connections: usize,
    headers: Vec<String>,
    script: Option<(PathBuf, Vec<String>)>,
}

impl Wrk {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            connections: 64,
            headers: Vec::new(),
            script: None,
        }
    }

    pub fn connections(mut self, n: usize) -> Self {
        self.connections = n;
        self
    }

    /// A request header, `"Name: value"`.
    pub fn header(mut self, header: impl Into<String>) -> Self {
        self.headers.push(header.into());
        self
    }

    /// A Lua script (`-s`) and the arguments wrk passes it after `--`.
    pub fn script(mut self, script: &Path, args: &[&Path]) -> Self {
        let args = args.iter().map(|a| a.display().to_string()).collect();
        self.script = Some((script.to_owned(), args));
        self
    }

    /// The command line, for the bench's report.
    pub fn describe(&self) -> String {
        format!("wrk -t2 -c{} -d10s --latency", self.connections)
    }

    /// Runs wrk. Blocking: see [`Wrk::run_blocking`] when the server under test shares the
    /// runtime. Panics (failing the bench) when wrk is missing, got any non-2xx answer, or
    /// printed no rate or percentile.
    pub fn run(&self) -> Load {
        let mut cmd = Command::new("wrk");
        cmd.args(["-t2", &format!("-c{}", self.connections), "-d10s", "--latency"]);
        for h in &self.headers {
            cmd.args(["-H", h]);
        }
        if let Some((script, _)) = &self.script {
            cmd.arg("-s").arg(script);
        }
        cmd.arg(&self.url);
        if let Some((_, args)) = &self.script {
            cmd.arg("--").args(args);
        }
        let out = cmd.output().expect("wrk is installed (apt-get install wrk)");
        read_report(&String::from_utf8_lossy(&out.stdout))
    }

    /// [`Wrk::run`] on a blocking thread.
    pub async fn run_blocking(self) -> Load {
        tokio::task::spawn_blocking(move || self.run())
            .await
            .expect("the wrk thread")
    }
}

fn read_report(text: &str) -> Load {
    assert!(
        !text.contains("Non-2xx"),
        "wrk got error answers; the figures would be wrong:\n{text}"
    );
    let rate = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no rate in wrk output:\n{text}"));
    let percentile = |p: &str| {
        text.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(p))
            .map(|v| milliseconds(v.trim()))
            .unwrap_or_else(|| panic!("no {p} latency in wrk output:\n{text}"))
    };
    Load {
        rate,
        p50_ms: percentile("50%"),
        p99_ms: percentile("99%"),
    }
}

/// wrk's `812.00us`, `2.31ms`, `1.02s` in milliseconds.
fn milliseconds(value: &str) -> f64 {
    let split = value.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let n: f64 = number.parse().unwrap_or(f64::NAN);
    match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        _ => f64::NAN,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn wrk_latencies_read_in_milliseconds() {
        assert_eq!(super::milliseconds("812.00us"), 0.812);
        assert_eq!(super::milliseconds("2.31ms"), 2.31);
        assert_eq!(super::milliseconds("1.02s"), 1020.0);
        assert!(super::milliseconds("soon").is_nan());
    }
}
