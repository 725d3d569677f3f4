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

#[test]
fn moving_lone_practitioners_to_the_country_leaves_the_share_asked_for_without_a_peer() {
    let before = synth::population(3, 6000);
    let (without, lone) = synth::lone_without_peer(&before, 50.0);
    assert!(
        lone > 0 && without * 10 < lone * 4,
        "already {without} of {lone}"
    );

    let mut moved = before.clone();
    let (without, lone_after) = synth::move_to_the_country(&mut moved, 0.4, 50.0, 3);
    assert_eq!(lone_after, lone, "nobody stops working alone");
    assert!(
        without * 10 >= lone * 4,
        "{without} of {lone} have no peer within 50 km"
    );
    // Only people who work alone move, and each keeps a town in a known time zone.
    for (a, b) in before.iter().zip(&moved) {
        if a.profile.location != b.profile.location {
            assert!(a.profile.works_alone);
            assert!(b.place.location.distance_km(b.profile.location) < 100.0);
            assert!(b.timezone.starts_with("Australia/") || b.timezone == "Pacific/Auckland");
        }
    }
    let mut again = before.clone();
    synth::move_to_the_country(&mut again, 0.4, 50.0, 3);
    assert_eq!(again, moved, "the same seed moves the same people");
}
