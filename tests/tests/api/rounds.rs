use std::collections::{HashMap, HashSet};

use serde_json::json;
use tests::{body_of, on_both_engines, Practitioner, TestApp};

/// 400 seeded practitioners, seen by a second instance (the index of a running server loads
/// at start-up), and an administrator.
async fn seeded(app: &TestApp) -> (TestApp, Practitioner) {
    api::seed::seed(&app.db, 400, 11, 0.0).await.unwrap();
    let fresh = app.another_instance().await;
    let admin = app.admin().await;
    (fresh, admin)
}

#[on_both_engines]
async fn a_round_on_a_seeded_population_respects_capacity(app: &TestApp) {
    let (fresh, admin) = seeded(app).await;
    let result = fresh.run_round(&admin, true).await;
    assert!(!result.proposals.is_empty(), "{result:?}");

    let mut per_mentor: HashMap<&str, i64> = HashMap::new();
    let mut mentees = HashSet::new();
    for proposal in &result.proposals {
        *per_mentor.entry(&proposal.mentor_id).or_default() += 1;
        let first_time = mentees.insert(&proposal.mentee_id);
        assert!(first_time, "a mentee proposed twice");
        assert!((0.0..=1.0).contains(&proposal.score));
    }
    for (mentor, count) in &per_mentor {
        let path = format!("/api/v1/profiles/{mentor}");
        let profile: tests::wire::PublicProfile = body_of(fresh.get_as(&admin, &path).await).await;
        let slots = profile.mentoring.available_slots;
        assert!(*count <= slots, "capacity of {mentor} exceeded");
    }
    fresh.teardown().await;
}

#[on_both_engines]
async fn the_exact_round_is_never_worse_than_greedy(app: &TestApp) {
    api::seed::seed(&app.db, 400, 11, 0.0).await.unwrap();
    let matching = api::index::Matching::load(&app.db).await.unwrap();
    let exact = matching.round(matcher::round::Solver::Exact).unwrap();
    let greedy = matching.round(matcher::round::Solver::Greedy).unwrap();
    let (exact, greedy) = (exact.objective, greedy.objective);
    assert!(exact + 1e-9 >= greedy, "exact {exact} < greedy {greedy}");
}

/// Start-up reads profiles a page (a range of ids) at a time; read in many small pages, the
/// same database gives the same cards and the same round as read in the pages start-up
/// picks (two a loader for a population this small).
#[on_both_engines]
async fn profiles_read_in_many_pages_are_those_read_in_one(app: &TestApp) {
    use sea_orm::{EntityTrait, QuerySelect};
    api::seed::seed(&app.db, 400, 11, 0.0).await.unwrap();
    let whole = api::index::Matching::load(&app.db).await.unwrap();
    let paged = api::index::Matching::load_in_pages(&app.db, 7)
        .await
        .unwrap();
    let ids: Vec<uuid::Uuid> = api::store::entities::users::Entity::find()
        .select_only()
        .column(api::store::entities::users::Column::Id)
        .into_tuple()
        .all(&app.db)
        .await
        .unwrap();
    assert!(whole.population() >= 400);
    assert_eq!(paged.population(), whole.population());
    for id in ids {
        let (a, b) = (whole.card(id), paged.card(id));
        assert_eq!(format!("{b:?}"), format!("{a:?}"), "{id}");
    }
    let exact = matcher::round::Solver::Exact;
    let (a, b) = (whole.round(exact).unwrap(), paged.round(exact).unwrap());
    assert_eq!(b.proposals, a.proposals);
    assert_eq!(b.objective, a.objective);
}

#[on_both_engines]
async fn a_dry_run_creates_nothing_and_a_real_round_proposes_to_the_mentors(app: &TestApp) {
    let (fresh, admin) = seeded(app).await;
    fresh.run_round(&admin, true).await;
    let stats = fresh.stats(&admin).await;
    assert_eq!(stats["connections"]["pending"], 0);

    let real = fresh.run_round(&admin, false).await;
    let stats = fresh.stats(&admin).await;
    let pending = stats["connections"]["pending"].as_u64().unwrap() as usize;
    assert_eq!(pending, real.proposals.len());
    assert!(stats["practitioners"].as_u64().unwrap() >= 400);
    assert!(stats["isolated"].as_u64().unwrap() > 0);
    assert!(stats["open_mentor_slots"].as_u64().unwrap() > 0);
    fresh.teardown().await;
}

#[on_both_engines]
async fn isolated_mentees_come_first_when_mentors_are_scarce(app: &TestApp) {
    let admin = app.admin().await;
    // One virtual mentor with one place; two mentees alike in every way but isolation.
    let only_virtual = json!({"meeting_modes": ["virtual"]});
    let not_seeking = json!({"seeking": {"peers": false, "mentor": false}});
    let mentor = app
        .practitioner("Only Mentor")
        .mentoring(1)
        .with(json!({"years_experience": 15}))
        .with(not_seeking)
        .with(only_virtual.clone())
        .at("Brisbane")
        .await;
    let mentee = |name: &'static str, at: (f64, f64)| {
        app.practitioner(name)
            .with(json!({"years_experience": 2, "works_alone": false}))
            .with(json!({"seeking": {"peers": false, "mentor": true}}))
            .with(only_virtual.clone())
            .located(at)
    };
    let isolated = mentee("Remote Mentee", (-31.5, 145.8)).await;
    let connected = mentee("City Mentee", (-33.87, 151.21)).await;
    for n in 0..4 {
        app.practitioner(&format!("City Peer {n}"))
            .located((-33.87 + f64::from(n) * 0.01, 151.21))
            .with(json!({"seeking": {"peers": true, "mentor": false}}))
            .await;
    }
    let me = app.me(&connected).await;
    assert!(me["isolation"]["peers_within_50km"].as_u64().unwrap() >= 4);

    let result = app.run_round(&admin, true).await;
    assert_eq!(result.proposals.len(), 1, "{result:?}");
    assert_eq!(result.proposals[0].mentee_id, isolated.user_id);
    assert_eq!(result.proposals[0].mentor_id, mentor.user_id);
    assert_eq!(result.unmatched_mentee_ids, [connected.user_id]);
}

#[on_both_engines]
async fn declining_a_round_proposal_offers_the_next_best_mentor(app: &TestApp) {
    let admin = app.admin().await;
    let mentor = |name: &'static str, latitude: f64, years: u32| {
        app.practitioner(name)
            .mentoring(1)
            .with(json!({"years_experience": years}))
            .with(json!({"seeking": {"peers": false, "mentor": false}}))
            .located((latitude, 148.6))
    };
    let best = mentor("Best Mentor", -32.3, 12).await;
    let next = mentor("Next Mentor", -34.5, 30).await;
    let mentee = app
        .practitioner("Round Mentee")
        .with(json!({"years_experience": 2, "seeking": {"peers": false, "mentor": true}}))
        .await;
    let result = app.run_round(&admin, false).await;
    assert_eq!(result.proposals[0].mentor_id, best.user_id, "{result:?}");

    let pending = "direction=incoming&status=pending";
    let incoming = app.connections(&best, pending).await;
    let proposal = &incoming.items[0];
    assert!(proposal.proposed_by_round);
    app.smtp
        .wait_for_subject(&best.email, "would like to connect")
        .await;
    let reason = json!({"reason_code": "no_capacity"});
    let declined = app.act_with(&best, &proposal.id, "decline", reason).await;
    assert_eq!(declined.status(), 200);

    let offered = app.connections(&next, pending).await;
    assert_eq!(offered.items.len(), 1, "{offered:?}");
    assert_eq!(offered.items[0].requester.user_id, mentee.user_id);
    assert!(offered.items[0].proposed_by_round);
}

#[on_both_engines]
async fn an_index_larger_than_one_query_loads_at_start_up(app: &TestApp) {
    api::seed::seed(&app.db, 6000, 3, 0.0).await.unwrap();
    let restarted = app.another_instance().await;
    assert_eq!(restarted.get("/readyz", None).await.status(), 200);
    let admin = app.admin().await;
    let stats = restarted.stats(&admin).await;
    assert_eq!(stats["practitioners"], 6000);
    restarted.teardown().await;
}

/// A round with another solver, as `admin`.
async fn round_with(app: &TestApp, admin: &Practitioner, solver: &str) -> tests::wire::RoundResult {
    let body = json!({"kind": "mentorship", "dry_run": true, "solver": solver});
    body_of(
        app.post_as(admin, "/api/v1/admin/matching-rounds", body)
            .await,
    )
    .await
}

#[on_both_engines]
async fn a_programme_compares_an_optimal_round_with_a_stable_one(app: &TestApp) {
    let (fresh, admin) = seeded(app).await;
    let exact = round_with(&fresh, &admin, "exact").await;
    let stable = round_with(&fresh, &admin, "stable").await;
    let greedy = round_with(&fresh, &admin, "greedy").await;
    assert_eq!(
        (exact.solver.as_str(), stable.solver.as_str()),
        ("exact", "stable")
    );
    assert_eq!(
        stable.blocking_pairs, 0,
        "a stable round has no blocking pair"
    );
    assert!(!stable.proposals.is_empty() && !greedy.proposals.is_empty());
    let default = fresh.run_round(&admin, true).await;
    assert_eq!(default.solver, "exact");
    assert_eq!(default.proposals.len(), exact.proposals.len());
    let refused = fresh
        .post_as(
            &admin,
            "/api/v1/admin/matching-rounds",
            json!({"dry_run": true, "solver": "fastest"}),
        )
        .await;
    assert_eq!(refused.status(), 422);
}
