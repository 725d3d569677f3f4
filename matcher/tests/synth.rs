//! The synthetic population is deterministic, realistic and usable by the api.

use matcher::{synth, Index, IsolationConfig, ScoringConfig, Vocabulary};

#[test]
fn the_same_seed_gives_the_same_people_at_real_towns() {
    let a = synth::population(11, 300);
    let b = synth::population(11, 300);
    assert_eq!(a, b);
    assert_ne!(a, synth::population(12, 300));

    let vocabulary = Vocabulary::standard();
    for p in &a {
        assert!(
            ["AU", "NZ"].contains(&p.place.country_code.as_str()),
            "{:?}",
            p.place
        );
        assert!(p.place.location.distance_km(p.profile.location) < 5.0);
        assert_eq!(
            vocabulary.profession_id(p.profession),
            Some(p.profile.profession)
        );
        for code in &p.populations {
            let id = vocabulary.population_id(code).unwrap();
            assert!(p.profile.populations.contains(id));
        }
        assert!(!p.display_name.is_empty());
        assert!(p.timezone.contains('/'));
    }
    let professions: std::collections::HashSet<_> = a.iter().map(|p| p.profession).collect();
    assert!(professions.len() >= 6);
}

#[test]
fn cities_are_dense_and_some_people_are_truly_isolated() {
    let index = Index::build(ScoringConfig::default(), synth::profiles(5, 3000));
    let isolation = index.isolation_all(&IsolationConfig::default());
    let alone = isolation
        .iter()
        .filter(|(_, i)| i.peers_within_radius == 0)
        .count();
    let crowded = isolation
        .iter()
        .filter(|(_, i)| i.peers_within_radius >= 10)
        .count();
    assert!(alone > 30, "{alone}");
    assert!(crowded > 300, "{crowded}");
}
