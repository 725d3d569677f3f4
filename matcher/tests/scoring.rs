//! Hand-built cases a clinician would recognise.

mod common;

use common::*;
use matcher::{no_exclusions, CodeSet, Index, Kind, PersonId, ScoringConfig, Vocabulary, Weights};

#[test]
fn community_ots_with_older_adults_outrank_a_school_ot_who_lives_closer() {
    let me = ot(1, 0.0);
    let community_peer = ot(2, 40.0);
    let mut school_ot = ot(3, 10.0);
    school_ot.populations = CodeSet::from_ids([PAEDIATRICS]);
    school_ot.settings = CodeSet::from_ids([SCHOOL]);
    let index = Index::build(ScoringConfig::default(), [me, community_peer, school_ot]);

    let found = index.suggest(PersonId(1), Kind::Peer, 10, &no_exclusions);

    let ids: Vec<_> = found.iter().map(|s| s.id).collect();
    assert_eq!(ids, vec![PersonId(2), PersonId(3)]);
    assert!(found[0].score > found[1].score + 0.3);
}

#[test]
fn a_mentor_with_fewer_years_than_the_mentee_is_never_suggested() {
    let mut mentee = ot(1, 0.0);
    mentee.years_experience = 12;
    mentee.seeking_mentor = true;
    let mut junior = ot(2, 5.0);
    junior.years_experience = 11;
    junior.offering_mentoring = true;
    junior.free_mentor_slots = 3;
    let mut senior = junior.clone();
    senior.id = PersonId(3);
    senior.years_experience = 20;
    let config = ScoringConfig::default();
    let index = Index::build(config.clone(), [mentee.clone(), junior.clone(), senior]);

    let found = index.suggest(PersonId(1), Kind::Mentor, 10, &no_exclusions);

    assert_eq!(
        found.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![PersonId(3)]
    );
    assert_eq!(config.score(&mentee, &junior, Kind::Mentor), None);
}

#[test]
fn reasons_read_plainly_and_never_give_the_exact_distance() {
    let me = ot(1, 0.0);
    let mut peer = ot(2, 38.0);
    peer.populations = CodeSet::from_ids([OLDER_ADULTS, ADULTS]);
    peer.settings = CodeSet::from_ids([COMMUNITY, HOME_VISITS]);
    peer.interests = vec!["Dementia".into(), "falls".into()];
    let mut me = me;
    me.interests = vec![" dementia".into()];
    let config = ScoringConfig::default();

    let explanation = config
        .explain(&me, &peer, Kind::Peer, &Vocabulary::standard())
        .unwrap();

    let label = |code: &str| {
        explanation
            .reasons
            .iter()
            .find(|r| r.code == code)
            .map(|r| r.label.clone())
            .unwrap_or_default()
    };
    assert_eq!(
        label("population_overlap"),
        "You both work with older adults"
    );
    assert_eq!(
        label("setting_overlap"),
        "You both practise in community settings"
    );
    assert_eq!(
        label("same_profession"),
        "You are both occupational therapists"
    );
    assert_eq!(label("nearness"), "About 40 km away");
    assert_eq!(
        label("shared_interests"),
        "You share an interest in dementia"
    );
    for reason in &explanation.reasons {
        assert!(reason.contribution >= 0.05, "{reason:?}");
        assert!(!reason.label.contains("38"), "{reason:?}");
    }
    let total: f32 = explanation.reasons.iter().map(|r| r.contribution).sum();
    assert!(total <= explanation.score + 1e-6);
}

#[test]
fn virtual_only_pairs_are_near_when_they_share_a_time_zone() {
    let mut a = ot(1, 0.0);
    a.meets_in_person = false;
    a.meets_virtually = true;
    let mut b = a.clone();
    b.id = PersonId(2);
    b.location = east_of_base(3000.0);
    let mut c = b.clone();
    c.id = PersonId(3);
    c.utc_offset_minutes = 480;
    let config = ScoringConfig::default();
    let same_zone = config.score(&a, &b, Kind::Peer).unwrap();
    let two_hours = config.score(&a, &c, Kind::Peer).unwrap();
    assert!(same_zone > two_hours);
    let explanation = config
        .explain(&a, &c, Kind::Peer, &Vocabulary::standard())
        .unwrap();
    assert!(explanation
        .reasons
        .iter()
        .any(|r| r.label == "2 hours from your time zone"));
}

#[test]
fn weights_are_configuration_and_scale_to_one() {
    let only_population = Weights {
        population: 2.0,
        setting: 0.0,
        profession: 0.0,
        experience: 0.0,
        nearness: 0.0,
        interests: 0.0,
    };
    let config = ScoringConfig {
        peer: only_population,
        ..ScoringConfig::default()
    };
    let a = ot(1, 0.0);
    let b = ot(2, 500.0);
    assert_eq!(config.score(&a, &b, Kind::Peer), Some(1.0));
}

#[test]
fn unverified_suspended_and_silent_people_are_never_suggested() {
    let me = ot(1, 0.0);
    let mut unverified = ot(2, 1.0);
    unverified.verified = false;
    let mut suspended = ot(3, 1.0);
    suspended.active = false;
    let mut not_seeking = ot(4, 1.0);
    not_seeking.seeking_peers = false;
    let mut other_language = ot(5, 1.0);
    other_language.languages = vec![7];
    let mut too_far = ot(6, 150.0);
    too_far.meets_virtually = false;
    let mut me_in_person = me.clone();
    me_in_person.meets_virtually = false;
    let index = Index::build(
        ScoringConfig::default(),
        [
            me_in_person,
            unverified,
            suspended,
            not_seeking,
            other_language,
            too_far,
            ot(7, 2.0),
        ],
    );
    let blocked = |a: PersonId, b: PersonId| a == PersonId(1) && b == PersonId(7);

    assert!(index
        .suggest(PersonId(1), Kind::Peer, 10, &blocked)
        .is_empty());
    assert_eq!(
        index
            .suggest(PersonId(1), Kind::Peer, 10, &no_exclusions)
            .len(),
        1
    );
}
