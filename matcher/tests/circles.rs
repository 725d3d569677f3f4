//! Circle formation: every constraint on every circle, the objective as reported, the local
//! search never worse than the greedy construction, the bound above both.

mod common;

use std::collections::HashSet;

use common::*;
use matcher::circles::{CircleRules, Formation, Unplaced};
use matcher::{synth, Index, Kind, PersonId, Profile, ScoringConfig};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 150,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/circles.txt",
        ))),
        ..ProptestConfig::default()
    }
}

/// Some people far away in time (so some have nobody whose hours overlap), isolation
/// scores that vary, and everyone but a few asking for a circle.
fn seekers(profiles: &mut [Profile]) -> Vec<(PersonId, f32)> {
    for p in profiles.iter_mut() {
        if p.id.0 % 9 == 0 {
            p.utc_offset_minutes = -300;
        }
    }
    profiles
        .iter()
        .filter(|p| p.id.0 % 11 != 0)
        .map(|p| (p.id, (p.id.0 % 5) as f32 / 4.0))
        .collect()
}

fn blocked(a: PersonId, b: PersonId) -> bool {
    (a.0 * 7 + b.0 * 7) % 13 == 0
}

/// The score two seekers have as circle-mates, from the public scoring function.
fn pair_score(a: &Profile, b: &Profile) -> Option<f32> {
    let (mut a, mut b) = (a.clone(), b.clone());
    a.seeking_peers = true;
    b.seeking_peers = true;
    ScoringConfig::default().score(&a, &b, Kind::Peer)
}

fn priority(isolation: f32) -> f64 {
    matcher::round::priority(isolation)
}

fn found<T>(value: Option<T>) -> Result<T, TestCaseError> {
    value.ok_or_else(|| TestCaseError::fail("a person or a score is missing"))
}

/// Checks every rule of a formation and returns the objective recomputed from scratch.
fn check(
    index: &Index,
    asked: &[(PersonId, f32)],
    rules: &CircleRules,
    formation: &Formation,
) -> Result<f64, TestCaseError> {
    let asked_ids: HashSet<PersonId> = asked.iter().map(|a| a.0).collect();
    let mut seen = HashSet::new();
    let mut objective = 0.0;
    for circle in &formation.circles {
        prop_assert!(circle.members.len() >= rules.min_size);
        prop_assert!(circle.members.len() <= rules.cap);
        let mut pairs = 0.0;
        let mut sum = 0.0;
        let mut value = 0.0;
        for &a in &circle.members {
            prop_assert!(asked_ids.contains(&a));
            prop_assert!(seen.insert(a), "{a:?} is in two circles");
            let pa = found(index.get(a))?;
            let mut own = 0.0;
            for &b in circle.members.iter().filter(|&&b| b != a) {
                let pb = found(index.get(b))?;
                prop_assert!(!blocked(a, b));
                prop_assert!(rules.interprofessional || pa.profession == pb.profession);
                let gap =
                    (i32::from(pa.utc_offset_minutes) - i32::from(pb.utc_offset_minutes)).abs();
                prop_assert!(gap <= rules.max_offset_gap());
                let s = f64::from(found(pair_score(pa, pb))?);
                own += s;
                sum += s;
                pairs += 1.0;
            }
            let isolation = found(asked.iter().find(|x| x.0 == a))?.1;
            value += priority(isolation) * own / (circle.members.len() - 1) as f64;
        }
        prop_assert!((circle.mean_score - sum / pairs).abs() < 1e-4);
        prop_assert!((circle.value - value).abs() < 1e-4);
        objective += value;
    }
    // Everyone who asked is either in a circle or told why not, once.
    let mut out = HashSet::new();
    for (id, reason) in &formation.unplaced {
        prop_assert!(asked_ids.contains(id));
        prop_assert!(!seen.contains(id));
        prop_assert!(out.insert(*id));
        let p = found(index.get(*id))?;
        if *reason == Unplaced::NoOverlap {
            // Truly nobody of their profession, among those who asked, within hours.
            for other in asked.iter().filter(|o| o.0 != *id) {
                let q = found(index.get(other.0))?;
                let eligible = q.verified && q.active;
                let gap = (i32::from(p.utc_offset_minutes) - i32::from(q.utc_offset_minutes)).abs();
                prop_assert!(
                    !eligible || q.profession != p.profession || gap > rules.max_offset_gap()
                );
            }
        }
        if *reason == Unplaced::NotEligible {
            prop_assert!(!(p.verified && p.active));
        }
    }
    prop_assert_eq!(seen.len() + out.len(), asked_ids.len());
    prop_assert!((formation.objective - objective).abs() < 1e-6 * objective.max(1.0));
    Ok(objective)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn circles_obey_every_constraint_and_search_never_loses(
        mut profiles in population(60),
        cap in 4usize..=8,
        interprofessional in any::<bool>(),
    ) {
        let asked = seekers(&mut profiles);
        let index = Index::build(ScoringConfig::default(), profiles);
        let rules = CircleRules { cap, interprofessional, ..CircleRules::default() };
        let formation = index.form_circles(&asked, &rules, &blocked);
        check(&index, &asked, &rules, &formation)?;
        prop_assert!(formation.greedy_objective <= formation.objective + 1e-9);
        let bound = index.circle_bound(&asked, &rules, &blocked);
        prop_assert!(formation.objective <= bound + 1e-6, "{} > bound {}", formation.objective, bound);
        // The same input gives the same circles.
        let again = index.form_circles(&asked, &rules, &blocked);
        prop_assert_eq!(&formation.circles, &again.circles);
        prop_assert_eq!(&formation.unplaced, &again.unplaced);
    }

    #[test]
    fn an_open_seat_goes_to_someone_who_fits_everyone(mut profiles in population(40)) {
        let asked = seekers(&mut profiles);
        let index = Index::build(ScoringConfig::default(), profiles);
        let rules = CircleRules::default();
        let formation = index.form_circles(&asked, &rules, &blocked);
        let Some(circle) = formation.circles.first() else { return Ok(()); };
        let members = &circle.members[1..];
        let placed: HashSet<PersonId> =
            formation.circles.iter().flat_map(|c| c.members.iter().copied()).collect();
        let waiting: Vec<(PersonId, f32)> =
            asked.iter().copied().filter(|a| !placed.contains(&a.0)).collect();
        let ranked = index.best_for_circle(members, &waiting, &rules, &blocked);
        for pair in ranked.windows(2) {
            prop_assert!(pair[0].1 >= pair[1].1);
        }
        for (id, _) in &ranked {
            prop_assert!(!members.contains(id));
            let p = index.get(*id).unwrap();
            for m in members {
                let q = index.get(*m).unwrap();
                prop_assert!(!blocked(*id, *m));
                prop_assert!(p.profession == q.profession);
                prop_assert!(pair_score(p, q).is_some());
            }
        }
    }
}

#[test]
fn on_a_realistic_population_the_search_improves_on_greedy_and_stays_under_the_bound() {
    let profiles = synth::profiles(5, 4000);
    let index = Index::build(ScoringConfig::default(), profiles.clone());
    let asked: Vec<(PersonId, f32)> = profiles
        .iter()
        .filter(|p| p.verified && p.active)
        .map(|p| (p.id, if p.works_alone { 0.8 } else { 0.2 }))
        .collect();
    let rules = CircleRules::default();
    let formation = index.form_circles(&asked, &rules, &matcher::no_exclusions);
    let bound = index.circle_bound(&asked, &rules, &matcher::no_exclusions);
    assert!(
        formation.circles.len() > 100,
        "{} circles",
        formation.circles.len()
    );
    assert!(formation.objective > formation.greedy_objective);
    assert!(formation.improvements > 0);
    assert!(formation.objective <= bound);
    // The most isolated are placed first: their share among the placed is no lower than
    // among those who asked.
    let placed: HashSet<PersonId> = formation
        .circles
        .iter()
        .flat_map(|c| c.members.iter().copied())
        .collect();
    let isolated = |ids: &mut dyn Iterator<Item = PersonId>| {
        let (mut n, mut k) = (0.0, 0.0);
        for id in ids {
            n += 1.0;
            if index.get(id).is_some_and(|p| p.works_alone) {
                k += 1.0;
            }
        }
        k / n
    };
    assert!(
        isolated(&mut placed.iter().copied()) >= isolated(&mut asked.iter().map(|a| a.0)) - 1e-9
    );
}

#[test]
fn nobody_is_placed_with_someone_they_blocked_and_lone_time_zones_are_explained() {
    // Six occupational therapists who fit, one of whom blocks another; one far away in time.
    let mut profiles: Vec<Profile> = (1..=7).map(|i| ot(i, i as f64)).collect();
    for p in &mut profiles {
        p.seeking_peers = true;
    }
    profiles[6].utc_offset_minutes = -420;
    let index = Index::build(ScoringConfig::default(), profiles);
    let asked: Vec<(PersonId, f32)> = (1..=7).map(|i| (PersonId(i), 0.5)).collect();
    let block = |a: PersonId, b: PersonId| {
        let pair = (a.0.min(b.0), a.0.max(b.0));
        pair == (1, 2)
    };
    let rules = CircleRules {
        cap: 5,
        ..CircleRules::default()
    };
    let formation = index.form_circles(&asked, &rules, &block);
    assert_eq!(formation.circles.len(), 1);
    let members = &formation.circles[0].members;
    assert_eq!(members.len(), 5);
    assert!(!(members.contains(&PersonId(1)) && members.contains(&PersonId(2))));
    assert!(formation
        .unplaced
        .contains(&(PersonId(7), Unplaced::NoOverlap)));
}
