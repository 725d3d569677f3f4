//! Matching rounds: capacity, optimality against brute force, and hard rules.

mod common;

use common::*;
use matcher::round::{RoundEdge, RoundInstance, Solver};
use matcher::{synth, Index, IsolationConfig, Kind, PersonId, ScoringConfig};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

/// Failures are kept in `matcher/proptest-regressions/` (tests run from the package root)
/// and replayed first on every run.
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 200,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/rounds.txt",
        ))),
        ..ProptestConfig::default()
    }
}

/// The best total weight (in the solver's integer units) over every assignment.
fn optimum(round: &RoundInstance) -> i64 {
    fn go(round: &RoundInstance, mentee: u32, room: &mut [u32], by: &[Vec<&RoundEdge>]) -> i64 {
        let Some(edges) = by.get(mentee as usize) else {
            return 0;
        };
        let mut best = go(round, mentee + 1, room, by);
        for e in edges {
            let j = e.mentor as usize;
            if room[j] > 0 {
                room[j] -= 1;
                best = best.max(round.weight_units(e) + go(round, mentee + 1, room, by));
                room[j] += 1;
            }
        }
        best
    }
    let mut by = vec![Vec::new(); round.mentee_priority.len()];
    for e in &round.edges {
        by[e.mentee as usize].push(e);
    }
    go(round, 0, &mut round.mentor_capacity.clone(), &by)
}

fn units(round: &RoundInstance, chosen: &[Option<u32>]) -> i64 {
    chosen
        .iter()
        .flatten()
        .map(|&e| round.weight_units(&round.edges[e as usize]))
        .sum()
}

fn respects_capacity(round: &RoundInstance, chosen: &[Option<u32>]) -> bool {
    let mut load = vec![0u32; round.mentor_capacity.len()];
    for (mentee, c) in chosen.iter().enumerate() {
        if let Some(e) = c {
            let edge = round.edges[*e as usize];
            if edge.mentee as usize != mentee {
                return false;
            }
            load[edge.mentor as usize] += 1;
        }
    }
    load.iter().zip(&round.mentor_capacity).all(|(l, c)| l <= c)
}

prop_compose! {
    fn small_round()(
        mentees in 1usize..8,
        mentors in 1usize..5,
    )(
        priority in proptest::collection::vec(1.0f64..2.0, mentees),
        capacity in proptest::collection::vec(0u32..3, mentors),
        edges in proptest::collection::vec(
            (0..mentees as u32, 0..mentors as u32, prop_oneof![1 => Just(0.5f64), 4 => 0.0f64..=1.0]),
            0..20,
        ),
    ) -> RoundInstance {
        RoundInstance {
            mentee_priority: priority,
            mentor_capacity: capacity,
            edges: edges
                .into_iter()
                .map(|(mentee, mentor, score)| RoundEdge { mentee, mentor, score })
                .collect(),
        }
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn exact_equals_brute_force_and_every_solver_respects_capacity(round in small_round()) {
        let best = optimum(&round);
        for solver in [Solver::Greedy, Solver::Stable, Solver::Exact] {
            let report = round.solve(solver).unwrap();
            prop_assert!(respects_capacity(&round, &report.chosen));
            prop_assert_eq!(report.matched + report.unmatched.len(), round.mentee_priority.len());
            prop_assert!(units(&round, &report.chosen) <= best);
            if solver == Solver::Exact {
                prop_assert_eq!(units(&round, &report.chosen), best);
            }
            if solver == Solver::Stable {
                prop_assert_eq!(report.blocking_pairs, 0);
            }
        }
    }

    #[test]
    fn round_pairs_obey_every_hard_rule(profiles in population(50), candidates in 1usize..6) {
        let index = Index::build(ScoringConfig::default(), profiles.clone());
        let blocked = |a: PersonId, b: PersonId| (a.0 + b.0) % 5 == 0;
        let mentees = index.seeking_mentor();
        let round = index.mentorship_round(&mentees, candidates, &IsolationConfig::default(), &blocked);
        let report = round.instance.solve(Solver::Exact).unwrap();
        prop_assert!(respects_capacity(&round.instance, &report.chosen));
        for p in round.proposals(&report) {
            let mentee = index.get(p.mentee).unwrap();
            let mentor = index.get(p.mentor).unwrap();
            prop_assert!(obeys_hard_rules(mentee, mentor, Kind::Mentor));
            prop_assert!(!blocked(p.mentee, p.mentor));
        }
        // Each mentee's candidates are exactly their best mentors by the index's own search.
        for (m, id) in round.mentee_ids.iter().enumerate() {
            let listed: Vec<(PersonId, f64)> = round
                .instance
                .edges
                .iter()
                .filter(|e| e.mentee as usize == m)
                .map(|e| (round.mentor_ids[e.mentor as usize], e.score))
                .collect();
            let searched: Vec<(PersonId, f64)> = index
                .suggest_exhaustive(*id, Kind::Mentor, candidates, &blocked)
                .into_iter()
                .map(|s| (s.id, f64::from(s.score)))
                .collect();
            prop_assert_eq!(listed, searched);
        }
        for (j, id) in round.mentor_ids.iter().enumerate() {
            let free = u32::from(index.get(*id).unwrap().free_mentor_slots);
            prop_assert_eq!(round.instance.mentor_capacity[j], free);
        }
    }
}

#[test]
fn on_a_realistic_round_the_optimum_beats_greedy_and_stable() {
    let population = synth::round_population(3, 300, 60);
    let index = Index::build(ScoringConfig::default(), population);
    let mentees = index.seeking_mentor();
    let round = index.mentorship_round(
        &mentees,
        15,
        &IsolationConfig::default(),
        &matcher::no_exclusions,
    );
    let exact = round.instance.solve(Solver::Exact).unwrap();
    let greedy = round.instance.solve(Solver::Greedy).unwrap();
    let stable = round.instance.solve(Solver::Stable).unwrap();
    assert!(exact.objective >= greedy.objective);
    assert!(exact.objective >= stable.objective);
    assert_eq!(stable.blocking_pairs, 0);
    assert!(exact.matched > 0);
    assert!(respects_capacity(&round.instance, &exact.chosen));
    assert_eq!(round.proposals(&exact).len(), exact.matched);
    assert_eq!(round.unmatched(&exact).len(), exact.unmatched.len());
}
