use std::collections::HashMap;

use serde_json::{json, Value};
use tests::{on_both_backends, TestApp};

async fn admin(app: &TestApp) -> tests::Practitioner {
    let admin = app.create_verified_practitioner("Programme Admin").await;
    app.make_admin(&admin).await;
    admin
}

async fn run_round(app: &TestApp, admin: &tests::Practitioner, dry_run: bool) -> Value {
    let response = app
        .post(
            "/api/v1/admin/matching-rounds",
            &json!({"kind": "mentorship", "dry_run": dry_run}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

on_both_backends! {
    async fn a_round_on_a_seeded_population_respects_capacity_and_beats_greedy(app) {
        api::seed::seed(&app.db, 400, 11).await.unwrap();
        // The index of a running server loads at start-up; a second instance sees the seed.
        let fresh = app.another_instance().await;
        let admin = admin(app).await;
        let result = run_round(&fresh, &admin, true).await;
        let proposals = result["proposals"].as_array().unwrap();
        assert!(!proposals.is_empty(), "{result}");

        let mut per_mentor: HashMap<&str, i64> = HashMap::new();
        let mut mentees = std::collections::HashSet::new();
        for p in proposals {
            *per_mentor.entry(p["mentor_id"].as_str().unwrap()).or_default() += 1;
            assert!(mentees.insert(p["mentee_id"].as_str().unwrap()), "a mentee proposed twice");
            let score = p["score"].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&score));
        }
        for (mentor, count) in &per_mentor {
            let profile: Value = fresh.get(&format!("/api/v1/profiles/{mentor}"), Some(&admin.access_token)).await.json().await.unwrap();
            assert!(*count <= profile["mentoring"]["available_slots"].as_i64().unwrap(), "capacity of {mentor} exceeded");
        }

        let matching = api::index::Matching::load(&app.db).await.unwrap();
        let exact = matching.round(matcher::round::Solver::Exact).unwrap();
        let greedy = matching.round(matcher::round::Solver::Greedy).unwrap();
        assert!(exact.objective + 1e-9 >= greedy.objective, "exact {} < greedy {}", exact.objective, greedy.objective);

        // A dry run creates nothing; a real one proposes pending requests to the mentors.
        let stats: Value = fresh.get("/api/v1/admin/stats", Some(&admin.access_token)).await.json().await.unwrap();
        assert_eq!(stats["connections"]["pending"], 0);
        let real = run_round(&fresh, &admin, false).await;
        let stats: Value = fresh.get("/api/v1/admin/stats", Some(&admin.access_token)).await.json().await.unwrap();
        assert_eq!(stats["connections"]["pending"].as_u64().unwrap() as usize, real["proposals"].as_array().unwrap().len());
        assert!(stats["practitioners"].as_u64().unwrap() >= 400);
        assert!(stats["isolated"].as_u64().unwrap() > 0);
        assert!(stats["open_mentor_slots"].as_u64().unwrap() > 0);
        fresh.teardown().await;
    }

    async fn isolated_mentees_come_first_when_mentors_are_scarce(app) {
        let admin = admin(app).await;
        // One virtual mentor with one place; two mentees alike in every way but isolation.
        let virtual_only = json!(["virtual"]);
        let mentor = app.practitioner_with_profile("Only Mentor", json!({
            "years_experience": 15, "meeting_modes": virtual_only,
            "location": {"latitude": -27.47, "longitude": 153.03},
            "seeking": {"peers": false, "mentor": false},
            "mentoring": {"offering": true, "capacity": 1}
        })).await;
        let mentee = |lat: f64, lon: f64| json!({
            "years_experience": 2, "meeting_modes": ["virtual"], "works_alone": false,
            "location": {"latitude": lat, "longitude": lon},
            "seeking": {"peers": false, "mentor": true}
        });
        let isolated = app.practitioner_with_profile("Remote Mentee", mentee(-31.5, 145.8)).await;
        let connected = app.practitioner_with_profile("City Mentee", mentee(-33.87, 151.21)).await;
        for n in 0..4 {
            app.practitioner_with_profile(&format!("City Peer {n}"), json!({
                "location": {"latitude": -33.87 + f64::from(n) * 0.01, "longitude": 151.21},
                "seeking": {"peers": true, "mentor": false}
            })).await;
        }
        let me: Value = app.get("/api/v1/me", Some(&connected.access_token)).await.json().await.unwrap();
        assert!(me["isolation"]["peers_within_50km"].as_u64().unwrap() >= 4);

        let result = run_round(app, &admin, true).await;
        let proposals = result["proposals"].as_array().unwrap();
        assert_eq!(proposals.len(), 1, "{result}");
        assert_eq!(proposals[0]["mentee_id"], json!(isolated.user_id));
        assert_eq!(proposals[0]["mentor_id"], json!(mentor.user_id));
        assert_eq!(result["unmatched_mentee_ids"], json!([connected.user_id]));
    }

    async fn declining_a_round_proposal_offers_the_next_best_mentor(app) {
        let admin = admin(app).await;
        let mentor_at = |lat: f64, years: u32| json!({
            "years_experience": years,
            "location": {"latitude": lat, "longitude": 148.6},
            "seeking": {"peers": false, "mentor": false},
            "mentoring": {"offering": true, "capacity": 1}
        });
        let best = app.practitioner_with_profile("Best Mentor", mentor_at(-32.3, 12)).await;
        let next = app.practitioner_with_profile("Next Mentor", mentor_at(-34.5, 30)).await;
        let mentee = app.practitioner_with_profile("Round Mentee", json!({"years_experience": 2, "seeking": {"peers": false, "mentor": true}})).await;
        let result = run_round(app, &admin, false).await;
        assert_eq!(result["proposals"][0]["mentor_id"], json!(best.user_id), "{result}");

        let incoming: Value = app.get("/api/v1/connections?direction=incoming&status=pending", Some(&best.access_token)).await.json().await.unwrap();
        let proposal = &incoming["items"][0];
        assert_eq!(proposal["proposed_by_round"], true);
        app.smtp.wait_for(|m| m.is_to(&best.email) && m.subject().contains("would like to connect")).await;
        let id = proposal["id"].as_str().unwrap();
        let declined = app.post(&format!("/api/v1/connections/{id}/decline"), &json!({"reason_code": "no_capacity"}), Some(&best.access_token)).await;
        assert_eq!(declined.status(), 200);

        let offered: Value = app.get("/api/v1/connections?direction=incoming&status=pending", Some(&next.access_token)).await.json().await.unwrap();
        let items = offered["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{offered}");
        assert_eq!(items[0]["requester"]["user_id"], json!(mentee.user_id));
        assert_eq!(items[0]["proposed_by_round"], true);
    }
}

on_both_backends! {
    async fn an_index_larger_than_one_query_loads_at_start_up(app) {
        api::seed::seed(&app.db, 6000, 3).await.unwrap();
        let restarted = app.another_instance().await;
        assert_eq!(restarted.get("/readyz", None).await.status(), 200);
        let stats_admin = admin(app).await;
        let stats: Value = restarted.get("/api/v1/admin/stats", Some(&stats_admin.access_token)).await.json().await.unwrap();
        assert_eq!(stats["practitioners"], 6000);
        restarted.teardown().await;
    }
}
