//! A small test runner for the harness-less test binaries (`harness = false`): tests are built
//! at run time, so one whose outside tool is missing can be reported **ignored** with its reason
//! instead of passing (see `oracle.rs`).
//!
//! Why not `libtest-mimic`: it brings clap and its terminal crates (14 crates) into the root
//! package's dev-dependencies, which every `cargo run --example` compiles, a newcomer's first
//! command included. This runner understands the arguments `cargo test` passes and people type
//! (filters, `--exact`, `--skip`, `--ignored`, `--include-ignored`, `--list`, `--test-threads`)
//! and prints what libtest prints. It is shared by the library's, the CLI's, the interop and the
//! end-to-end test binaries.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Why a test failed.
#[derive(Debug)]
pub struct Failed(String);

impl From<String> for Failed {
    fn from(s: String) -> Failed {
        Failed(s)
    }
}

impl From<&str> for Failed {
    fn from(s: &str) -> Failed {
        Failed(s.to_owned())
    }
}

type Body = Box<dyn FnOnce() -> Result<(), Failed> + Send>;

/// One test.
pub struct Trial {
    name: String,
    kind: String,
    ignored: bool,
    body: Body,
}

impl Trial {
    /// A test named `name` running `body`.
    pub fn test(
        name: impl Into<String>,
        body: impl FnOnce() -> Result<(), Failed> + Send + 'static,
    ) -> Trial {
        Trial {
            name: name.into(),
            kind: String::new(),
            ignored: false,
            body: Box::new(body),
        }
    }

    /// A label printed before the name (`[needs redis-server]`).
    pub fn with_kind(mut self, kind: impl Into<String>) -> Trial {
        self.kind = kind.into();
        self
    }

    /// Reported ignored unless `--ignored` or `--include-ignored` is given.
    pub fn with_ignored_flag(mut self, ignored: bool) -> Trial {
        self.ignored = ignored;
        self
    }

    fn label(&self) -> String {
        if self.kind.is_empty() {
            self.name.clone()
        } else {
            format!("[{}] {}", self.kind, self.name)
        }
    }
}

/// The command line, as far as this runner reads it.
#[derive(Default, Debug)]
pub struct Arguments {
    filters: Vec<String>,
    skip: Vec<String>,
    exact: bool,
    ignored_only: bool,
    include_ignored: bool,
    list: bool,
    threads: Option<usize>,
}

impl Arguments {
    /// From `std::env::args()`.
    pub fn from_args() -> Arguments {
        let mut a = Arguments::default();
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
                _ => (arg.clone(), None),
            };
            let mut value = || inline.clone().or_else(|| args.next()).unwrap_or_default();
            match flag.as_str() {
                "--exact" => a.exact = true,
                "--ignored" => a.ignored_only = true,
                "--include-ignored" => a.include_ignored = true,
                "--list" => a.list = true,
                "--skip" => a.skip.push(value()),
                "--test-threads" => a.threads = value().parse().ok().filter(|n| *n > 0),
                // Accepted and without effect here: output is never captured.
                "--nocapture" | "--no-capture" | "--show-output" | "-q" | "--quiet" => {}
                "--format" | "--color" | "--logfile" | "-Z" => {
                    value();
                }
                f if f.starts_with('-') => eprintln!("test runner: ignoring unknown flag {f}"),
                _ => a.filters.push(arg),
            }
        }
        a
    }

    fn selects(&self, name: &str) -> bool {
        let hit = |f: &String| {
            if self.exact {
                name == f
            } else {
                name.contains(f.as_str())
            }
        };
        (self.filters.is_empty() || self.filters.iter().any(hit)) && !self.skip.iter().any(hit)
    }
}

/// What a run concluded.
#[derive(Debug)]
pub struct Conclusion {
    failed: usize,
}

impl Conclusion {
    /// Whether any test failed.
    pub fn has_failed(&self) -> bool {
        self.failed > 0
    }

    /// Exits the process: 101 when a test failed (as libtest does), 0 otherwise.
    pub fn exit(self) -> ! {
        std::process::exit(if self.has_failed() { 101 } else { 0 })
    }
}

enum Outcome {
    Passed,
    Failed(String),
}

/// Runs the selected trials, in parallel (`--test-threads`, default: the available cores).
pub fn run(args: &Arguments, trials: Vec<Trial>) -> Conclusion {
    let total = trials.len();
    let selected: Vec<Trial> = trials
        .into_iter()
        .filter(|t| args.selects(&t.name))
        .collect();
    let filtered_out = total - selected.len();
    if args.list {
        for t in &selected {
            println!("{}: test", t.name);
        }
        return Conclusion { failed: 0 };
    }
    let start = Instant::now();
    println!("\nrunning {} tests", selected.len());
    let mut queue = VecDeque::new();
    let mut ignored = 0;
    for t in selected {
        let skip = if args.ignored_only {
            !t.ignored
        } else {
            t.ignored && !args.include_ignored
        };
        if skip {
            println!("test {} ... ignored", t.label());
            ignored += 1;
        } else {
            queue.push_back(t);
        }
    }
    let queue = Arc::new(Mutex::new(queue));
    let results: Arc<Mutex<Vec<(String, Outcome)>>> = Arc::new(Mutex::new(Vec::new()));
    let threads = args.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (queue, results) = (queue.clone(), results.clone());
            std::thread::spawn(move || {
                loop {
                    let Some(t) = queue.lock().unwrap().pop_front() else {
                        break;
                    };
                    let label = t.label();
                    let outcome = match catch_unwind(AssertUnwindSafe(t.body)) {
                        Ok(Ok(())) => Outcome::Passed,
                        Ok(Err(Failed(why))) => Outcome::Failed(why),
                        Err(panic) => Outcome::Failed(
                            panic
                                .downcast_ref::<String>()
                                .cloned()
                                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                                .map(|m| format!("test panicked: {m}"))
                                .unwrap_or_else(|| "test panicked".to_owned()),
                        ),
                    };
                    let word = match &outcome {
                        Outcome::Passed => "ok",
                        Outcome::Failed(_) => "FAILED",
                    };
                    println!("test {label} ... {word}");
                    let _ = std::io::stdout().flush();
                    results.lock().unwrap().push((label, outcome));
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.join();
    }
    let results = std::mem::take(&mut *results.lock().unwrap());
    let failures: Vec<(&String, &String)> = results
        .iter()
        .filter_map(|(name, o)| match o {
            Outcome::Failed(why) => Some((name, why)),
            _ => None,
        })
        .collect();
    let passed = results
        .iter()
        .filter(|(_, o)| matches!(o, Outcome::Passed))
        .count();
    if !failures.is_empty() {
        println!("\nfailures:\n");
        for (name, why) in &failures {
            println!("---- {name} ----\n{why}\n");
        }
        println!("failures:");
        for (name, _) in &failures {
            println!("    {name}");
        }
    }
    println!(
        "\ntest result: {}. {passed} passed; {} failed; {ignored} ignored; 0 measured; {filtered_out} filtered out; finished in {:.2}s\n",
        if failures.is_empty() { "ok" } else { "FAILED" },
        failures.len(),
        start.elapsed().as_secs_f64()
    );
    Conclusion {
        failed: failures.len(),
    }
}
