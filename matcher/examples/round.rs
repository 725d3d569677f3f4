//! Generates, reads, writes and solves matching-round instances (matching.md §7).
//!
//! ```text
//! round --mentees 10000 --mentors 2000 --candidates 50 --seed 1 --write FILE [--solver S]
//! round --read FILE [--solver greedy|stable|exact] [--verbose]
//! ```
//!
//! Prints one JSON line: `{"objective", "matched", "elapsed_ms", "solver"}`, where
//! `elapsed_ms` is the solve alone. `--verbose` adds the total score, unmatched count and
//! blocking pairs on stderr.

use std::error::Error;
use std::fs;

use matcher::round::{RoundEdge, RoundInstance, Solver};
use matcher::{no_exclusions, synth, Index, IsolationConfig, ScoringConfig};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Mentee {
    id: String,
    priority: f64,
}

#[derive(Serialize, Deserialize)]
struct Mentor {
    id: String,
    capacity: u32,
}

#[derive(Serialize, Deserialize)]
struct Edge {
    mentee: u32,
    mentor: u32,
    score: f64,
}

#[derive(Serialize, Deserialize)]
struct Instance {
    mentees: Vec<Mentee>,
    mentors: Vec<Mentor>,
    edges: Vec<Edge>,
}

#[derive(Serialize)]
struct Outcome {
    objective: f64,
    matched: usize,
    elapsed_ms: f64,
    solver: &'static str,
}

struct Options {
    mentees: usize,
    mentors: usize,
    candidates: usize,
    seed: u64,
    read: Option<String>,
    write: Option<String>,
    solver: Solver,
    verbose: bool,
}

fn parse_options() -> Result<Options, Box<dyn Error>> {
    let mut options = Options {
        mentees: 10_000,
        mentors: 2_000,
        candidates: 50,
        seed: 1,
        read: None,
        write: None,
        solver: Solver::Exact,
        verbose: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--verbose" {
            options.verbose = true;
            continue;
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--mentees" => options.mentees = value.parse()?,
            "--mentors" => options.mentors = value.parse()?,
            "--candidates" => options.candidates = value.parse()?,
            "--seed" => options.seed = value.parse()?,
            "--read" => options.read = Some(value),
            "--write" => options.write = Some(value),
            "--solver" => options.solver = value.parse()?,
            other => return Err(format!("unknown option {other}").into()),
        }
    }
    Ok(options)
}

fn generate(options: &Options) -> RoundInstance {
    let population = synth::round_population(options.seed, options.mentees, options.mentors);
    let index = Index::build(ScoringConfig::default(), population);
    let mentees = index.seeking_mentor();
    index
        .mentorship_round(
            &mentees,
            options.candidates,
            &IsolationConfig::default(),
            &no_exclusions,
        )
        .instance
}

fn to_json(round: &RoundInstance) -> Instance {
    Instance {
        mentees: round
            .mentee_priority
            .iter()
            .enumerate()
            .map(|(i, &priority)| Mentee {
                id: format!("m{i}"),
                priority,
            })
            .collect(),
        mentors: round
            .mentor_capacity
            .iter()
            .enumerate()
            .map(|(j, &capacity)| Mentor {
                id: format!("M{j}"),
                capacity,
            })
            .collect(),
        edges: round
            .edges
            .iter()
            .map(|e| Edge {
                mentee: e.mentee,
                mentor: e.mentor,
                score: e.score,
            })
            .collect(),
    }
}

fn from_json(instance: Instance) -> RoundInstance {
    RoundInstance {
        mentee_priority: instance.mentees.iter().map(|m| m.priority).collect(),
        mentor_capacity: instance.mentors.iter().map(|m| m.capacity).collect(),
        edges: instance
            .edges
            .iter()
            .map(|e| RoundEdge {
                mentee: e.mentee,
                mentor: e.mentor,
                score: e.score,
            })
            .collect(),
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let options = parse_options()?;
    let round = match &options.read {
        Some(path) => from_json(serde_json::from_str(&fs::read_to_string(path)?)?),
        None => generate(&options),
    };
    if let Some(path) = &options.write {
        fs::write(path, serde_json::to_string(&to_json(&round))?)?;
    }
    let report = round.solve(options.solver)?;
    let outcome = Outcome {
        objective: report.objective,
        matched: report.matched,
        elapsed_ms: report.elapsed.as_secs_f64() * 1e3,
        solver: options.solver.name(),
    };
    println!("{}", serde_json::to_string(&outcome)?);
    if options.verbose {
        eprintln!(
            "mentees {} mentors {} edges {} total_score {:.3} unmatched {} blocking_pairs {}",
            round.mentee_priority.len(),
            round.mentor_capacity.len(),
            round.edges.len(),
            report.total_score,
            report.unmatched.len(),
            report.blocking_pairs
        );
    }
    Ok(())
}
