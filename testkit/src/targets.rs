//! The performance targets a benchmark checks, so a missed target fails the run.
//!
//! Each bench records its figures against the targets the issues set (`≥ 5,000 tokens/s`,
//! `p99 ≤ 2 ms`…), prints each next to its figure, and ends with [`Targets::exit`]: a
//! non-zero exit when any was missed, so a slower or wrong build cannot pass as a benchmark
//! that "ran". The machine is shared and noisy; a miss is worth a re-run before a hunt.

use std::process::ExitCode;

#[derive(Debug, Default)]
pub struct Targets {
    checks: Vec<(String, bool)>,
}

impl Targets {
    pub fn new() -> Self {
        Self::default()
    }

    /// A figure that must be at most `limit` (a latency, a memory size).
    pub fn at_most(&mut self, what: &str, figure: f64, limit: f64, unit: &str) {
        self.check(
            format!("{what}: {figure:.2} {unit} (target ≤ {limit} {unit})"),
            figure <= limit,
        );
    }

    /// A figure that must be at least `floor` (a rate, a ratio).
    pub fn at_least(&mut self, what: &str, figure: f64, floor: f64, unit: &str) {
        self.check(
            format!("{what}: {figure:.2} {unit} (target ≥ {floor} {unit})"),
            figure >= floor,
        );
    }

    /// Anything else that must hold (results agreeing with a baseline, no failures).
    pub fn holds(&mut self, what: impl Into<String>, ok: bool) {
        self.check(what.into(), ok);
    }

    fn check(&mut self, line: String, met: bool) {
        println!("target {} {line}", if met { "met   " } else { "MISSED" });
        self.checks.push((line, met));
    }

    /// Whether every target so far was met.
    pub fn all_met(&self) -> bool {
        self.checks.iter().all(|(_, met)| *met)
    }

    /// The bench's exit: failure when any target was missed, with the misses listed again.
    pub fn exit(self) -> ExitCode {
        let missed: Vec<&str> = self
            .checks
            .iter()
            .filter(|(_, m)| !m)
            .map(|(l, _)| l.as_str())
            .collect();
        if missed.is_empty() {
            println!("all {} targets met", self.checks.len());
            return ExitCode::SUCCESS;
        }
        println!("{} of {} targets MISSED:", missed.len(), self.checks.len());
        for line in missed {
            println!("  {line}");
        }
        ExitCode::FAILURE
    }
}
