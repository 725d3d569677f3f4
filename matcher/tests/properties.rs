//! Properties of matching.md §5 over random populations.

mod common;

use std::collections::HashSet;

use common::*;
use matcher::{Index, IsolationConfig, Kind, PersonId, Profile, ScoringConfig};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

/// Failures are kept in `matcher/proptest-regressions/` (tests run from the package root)
/// and replayed first on every run.
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 48,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/properties.txt",
        ))),
        ..ProptestConfig::default()
    }
}

/// Pairs the api would exclude (blocks, pending or declined connections), drawn at random.
fn exclusions(profiles: &[Profile], seed: u64) -> HashSet<(PersonId, PersonId)> {
    let mut out = HashSet::new();
    for a in profiles {
        for b in profiles {
            let h = (a.id.0 as u64).wrapping_mul(31) ^ (b.id.0 as u64).wrapping_mul(17) ^ seed;
            if h % 7 == 0 {
                out.insert((a.id, b.id));
            }
        }
    }
    out
}

/// The reference: score everyone with the public pair scorer, sort, take k.
fn brute_force(
    profiles: &[Profile],
    seeker: &Profile,
    kind: Kind,
    k: usize,
    excluded: &HashSet<(PersonId, PersonId)>,
) -> Vec<(PersonId, f32)> {
    let config = ScoringConfig::default();
    let mut all: Vec<(PersonId, f32)> = profiles
        .iter()
        .filter(|c| !excluded.contains(&(seeker.id, c.id)))
        .filter_map(|c| config.score(seeker, c, kind).map(|s| (c.id, s)))
        .collect();
    all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    all.truncate(k);
    all
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn suggestions_equal_brute_force_and_obey_every_hard_rule(
        profiles in population(60),
        k in 1usize..12,
        seed in any::<u64>(),
    ) {
        let index = Index::build(ScoringConfig::default(), profiles.clone());
        let excluded = exclusions(&profiles, seed);
        let exclude = |a: PersonId, b: PersonId| excluded.contains(&(a, b));
        for seeker in &profiles {
            for kind in [Kind::Peer, Kind::Mentor] {
                let found = index.suggest(seeker.id, kind, k, &exclude);
                let expected = brute_force(&profiles, seeker, kind, k, &excluded);
                let found_pairs: Vec<(PersonId, f32)> = found.iter().map(|s| (s.id, s.score)).collect();
                prop_assert_eq!(&found_pairs, &expected);
                for s in &found {
                    let candidate = index.get(s.id).unwrap();
                    prop_assert!(obeys_hard_rules(seeker, candidate, kind));
                    prop_assert!(!excluded.contains(&(seeker.id, s.id)));
                    prop_assert!((0.0..=1.0).contains(&s.score));
                }
            }
        }
    }

    #[test]
    fn scores_lie_in_the_unit_interval_and_peer_scores_are_symmetric(
        profiles in population(30),
    ) {
        let config = ScoringConfig::default();
        for a in &profiles {
            for b in &profiles {
                for kind in [Kind::Peer, Kind::Mentor] {
                    if let Some(s) = config.score(a, b, kind) {
                        prop_assert!((0.0..=1.0).contains(&s));
                        prop_assert!(!strict_in_person_violation(a, b));
                    }
                }
                let (mut a2, mut b2) = (a.clone(), b.clone());
                a2.seeking_peers = true;
                b2.seeking_peers = true;
                prop_assert_eq!(config.score(&a2, &b2, Kind::Peer), config.score(&b2, &a2, Kind::Peer));
            }
        }
    }

    #[test]
    fn more_overlap_never_lowers_a_score(
        profiles in population(20),
        code in 0u16..5,
        tag in 0usize..3,
    ) {
        let config = ScoringConfig::default();
        for a in &profiles {
            for b in &profiles {
                for kind in [Kind::Peer, Kind::Mentor] {
                    let Some(before) = config.score(a, b, kind) else { continue };
                    let mut more = b.clone();
                    if a.populations.contains(code) {
                        more.populations = more.populations.with(code);
                    }
                    if a.settings.contains(code) {
                        more.settings = more.settings.with(code);
                    }
                    if let Some(t) = a.interests.get(tag) {
                        more.interests.push(t.to_uppercase().into());
                    }
                    let after = config.score(a, &more, kind);
                    prop_assert!(after.is_some());
                    prop_assert!(after.unwrap_or(0.0) >= before, "{} < {}", after.unwrap_or(0.0), before);
                }
            }
        }
    }

    #[test]
    fn incremental_updates_match_a_fresh_build(
        first in population(40),
        changed in population(40),
        removed in proptest::collection::vec(1u128..=40, 0..10),
    ) {
        let mut index = Index::build(ScoringConfig::default(), first.iter().take(25).cloned());
        for p in first.iter().skip(25) {
            index.upsert(p.clone());
        }
        for p in changed.iter().step_by(3) {
            index.upsert(p.clone());
        }
        for &id in &removed {
            index.remove(PersonId(id));
        }
        let mut expected: Vec<Profile> = first.clone();
        for p in changed.iter().step_by(3) {
            if let Some(slot) = expected.iter_mut().find(|q| q.id == p.id) {
                *slot = p.clone();
            }
        }
        expected.retain(|p| !removed.contains(&p.id.0));
        let fresh = Index::build(ScoringConfig::default(), expected.clone());
        // A build given the same id twice keeps the later profile.
        let repeated = Index::build(
            ScoringConfig::default(),
            first
                .iter()
                .chain(changed.iter().step_by(3))
                .filter(|p| !removed.contains(&p.id.0))
                .cloned(),
        );
        prop_assert_eq!(index.len(), fresh.len());
        prop_assert_eq!(repeated.len(), fresh.len());
        for p in &expected {
            prop_assert_eq!(index.get(p.id), Some(p));
            prop_assert_eq!(repeated.get(p.id), Some(p));
            prop_assert_eq!(
                repeated.suggest(p.id, Kind::Peer, 5, &matcher::no_exclusions),
                fresh.suggest(p.id, Kind::Peer, 5, &matcher::no_exclusions)
            );
            for kind in [Kind::Peer, Kind::Mentor] {
                prop_assert_eq!(
                    index.suggest(p.id, kind, 5, &matcher::no_exclusions),
                    fresh.suggest(p.id, kind, 5, &matcher::no_exclusions)
                );
            }
            let config = IsolationConfig::default();
            prop_assert_eq!(index.isolation(p.id, &config), fresh.isolation(p.id, &config));
        }
    }

    #[test]
    fn isolation_counts_verified_peers_nearby_who_share_a_population(
        profiles in population(60),
        cap in 1u32..8,
    ) {
        let index = Index::build(ScoringConfig::default(), profiles.clone());
        let config = IsolationConfig { radius_km: 50.0, cap, ..IsolationConfig::default() };
        let all: std::collections::HashMap<_, _> = index.isolation_all(&config).into_iter().collect();
        prop_assert_eq!(all.len(), profiles.len());
        for p in &profiles {
            // The index compares straight-line chords in f32, so a peer within a metre of the
            // radius may fall either side of it; everyone else must be counted exactly.
            let within = |km: f32| {
                profiles
                    .iter()
                    .filter(|q| q.id != p.id && q.verified && q.active && q.profession == p.profession)
                    .filter(|q| !q.populations.intersection(p.populations).is_empty())
                    .filter(|q| q.location.distance_km(p.location) <= km)
                    .count() as u32
            };
            let (surely, at_most) = (within(50.0 - 0.001), within(50.0 + 0.001));
            let one = index.isolation(p.id, &config).unwrap();
            prop_assert!(
                (surely.min(cap)..=at_most.min(cap)).contains(&one.peers_within_radius),
                "{} peers counted, expected {surely}..={at_most} (cap {cap})",
                one.peers_within_radius
            );
            prop_assert_eq!(Some(&one), all.get(&p.id));
            prop_assert!((0.0..=1.0).contains(&one.score));
            if p.works_alone {
                prop_assert!(one.score >= 0.7);
            }
        }
    }

    #[test]
    fn radius_queries_return_everyone_within_nearest_first(
        profiles in population(60),
        radius in 1.0f32..120.0,
        at in 0usize..60,
    ) {
        let index = Index::build(ScoringConfig::default(), profiles.clone());
        let center = profiles[at].location;
        let found = index.within(center, radius, None, |p| p.verified);
        let mut expected: Vec<(f32, PersonId)> = profiles
            .iter()
            .filter(|p| p.verified)
            .map(|p| (p.location.distance_km(center), p.id))
            .filter(|&(d, _)| d <= radius)
            .collect();
        expected.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let found: Vec<(f32, PersonId)> = found.iter().map(|n| (n.distance_km, n.id)).collect();
        prop_assert_eq!(found, expected);
    }
}
