//! The directory: filters, distance and paging.

use std::collections::HashSet;

use serde_json::json;
use tests::{expect_problem, on_both_engines, Practitioner, TestApp};

/// A viewer in Dubbo and seven others around Dubbo and Sydney; the others' ids.
async fn seed_directory(app: &TestApp) -> (Practitioner, Vec<String>) {
    let viewer = app.practitioner("Viewer").await;
    let mentoring_two = json!({"offering": true, "capacity": 2});
    let people = [
        app.practitioner("Near OT Peer").located((-32.30, 148.65)),
        app.practitioner("Mid OT Mentor")
            .located((-33.28, 149.10))
            .with(json!({"years_experience": 20, "mentoring": mentoring_two})),
        app.practitioner("Paused Mentor")
            .located((-32.25, 148.60))
            .with(json!({"mentoring": {
                "offering": true, "capacity": 2, "paused_until": "2999-01-01"
            }})),
        app.practitioner("Full Mentor")
            .located((-32.25, 148.60))
            .with(json!({"mentoring": {"offering": true, "capacity": 0}})),
        app.practitioner("Sydney Physio")
            .located((-33.87, 151.21))
            .with(json!({"profession": "physiotherapy"}))
            .with(json!({"populations": ["paediatrics"], "settings": ["school"]})),
        app.practitioner("Sydney Speechie")
            .located((-33.80, 151.00))
            .with(json!({"profession": "speech_pathology", "languages": ["en", "vi"]}))
            .with(json!({"seeking": {"peers": false, "mentor": true}})),
        app.practitioner("Bathurst OT")
            .located((-33.42, 149.58))
            .with(json!({"populations": ["paediatrics"]})),
    ];
    let mut ids = Vec::new();
    for person in people {
        ids.push(person.await.user_id);
    }
    (viewer, ids)
}

/// Every item listed for `viewer` with `query`, page after page, following the cursors.
async fn every_page(app: &TestApp, viewer: &Practitioner, query: &str) -> Vec<serde_json::Value> {
    let mut listed = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{query}&cursor={c}"),
            None => query.to_owned(),
        };
        let page = app.directory(viewer, &url).await;
        listed.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return listed,
        }
    }
}

/// The names listed for `viewer` with `query`, in the order listed.
async fn names(app: &TestApp, viewer: &Practitioner, query: &str) -> Vec<String> {
    let page = app.directory(viewer, query).await;
    let name = |p: &serde_json::Value| p["display_name"].as_str().unwrap().to_owned();
    page.items.iter().map(name).collect()
}

#[on_both_engines]
async fn directory_filters_combine(app: &TestApp) {
    let (viewer, _) = seed_directory(app).await;
    let all = names(app, &viewer, "limit=100").await;
    assert_eq!(all.len(), 7, "everyone but the caller: {all:?}");

    let mut ots = names(app, &viewer, "profession=occupational_therapy").await;
    ots.sort();
    let all_ots = [
        "Bathurst OT",
        "Full Mentor",
        "Mid OT Mentor",
        "Near OT Peer",
        "Paused Mentor",
    ];
    assert_eq!(ots, all_ots);
    let query = "profession=occupational_therapy&population=paediatrics";
    assert_eq!(names(app, &viewer, query).await, ["Bathurst OT"]);
    let query = "population=paediatrics&setting=school";
    assert_eq!(names(app, &viewer, query).await, ["Sydney Physio"]);
    assert_eq!(
        names(app, &viewer, "language=vi").await,
        ["Sydney Speechie"]
    );
    let mentors = names(app, &viewer, "kind=mentor").await;
    assert_eq!(
        mentors,
        ["Mid OT Mentor"],
        "only unpaused mentors with a free slot"
    );
    let peers = names(app, &viewer, "kind=peer").await;
    assert!(!peers.contains(&"Sydney Speechie".to_owned()));
    let query = "profession=physiotherapy&language=vi";
    assert!(names(app, &viewer, query).await.is_empty());
}

#[on_both_engines]
async fn directory_refuses_unknown_codes_huge_pages_and_made_up_cursors(app: &TestApp) {
    let viewer = app.practitioner("Viewer").await;
    let dragons = app
        .get_as(&viewer, "/api/v1/directory?population=dragons")
        .await;
    let problem = expect_problem(dragons, 422).await;
    let message = problem["errors"]["population"][0].as_str().unwrap();
    assert!(message.contains("older_adults"), "{message}");
    let huge = app.get_as(&viewer, "/api/v1/directory?limit=100000").await;
    expect_problem(huge, 422).await;
    let garbage = app
        .get_as(&viewer, "/api/v1/directory?cursor=garbage")
        .await;
    expect_problem(garbage, 422).await;
}

#[on_both_engines]
async fn directory_within_km_is_nearest_first(app: &TestApp) {
    let (viewer, _) = seed_directory(app).await;
    let page = app.directory(&viewer, "within_km=200").await;
    let distances: Vec<u64> = page
        .items
        .iter()
        .map(|p| p["distance_km"].as_u64().unwrap())
        .collect();
    assert!(distances.windows(2).all(|w| w[0] <= w[1]), "{distances:?}");
    assert!(distances.iter().all(|d| *d <= 200 && d % 10 == 0));
    let listed = names(app, &viewer, "within_km=200").await;
    assert!(
        !listed.contains(&"Sydney Physio".to_owned()),
        "Sydney is over 300 km from Dubbo"
    );
    assert!(listed.contains(&"Bathurst OT".to_owned()));
    assert_eq!(listed.len(), 5, "{listed:?}");
}

#[on_both_engines]
async fn directory_pages_have_no_duplicates_or_gaps(app: &TestApp) {
    let (viewer, ids) = seed_directory(app).await;
    for query in ["limit=2", "limit=3&within_km=2000"] {
        let seen: Vec<String> = (every_page(app, &viewer, query).await.iter())
            .map(|item| item["user_id"].as_str().unwrap().to_owned())
            .collect();
        let unique: HashSet<&String> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "duplicates with {query}");
        let expected: HashSet<&String> = ids.iter().collect();
        assert_eq!(unique, expected, "gaps with {query}");
    }
}

/// Paged by one or two, a search within a radius lists the same people in the same order as
/// one page of all of them: whoever a full page passes over comes on a later one. The
/// farthest of the viewer's own grid cell joined first, so the nearest are found last.
#[on_both_engines]
async fn directory_pages_within_km_list_everyone_nearest_first(app: &TestApp) {
    let viewer = app.practitioner("Viewer").located((-32.26, 148.60)).await;
    for (name, at) in [
        ("Far In Cell", (-32.45, 148.95)),
        ("Mid In Cell", (-32.38, 148.80)),
        ("Near In Cell", (-32.28, 148.63)),
        ("Next Door", (-32.27, 148.61)),
        ("Bathurst", (-33.42, 149.58)),
    ] {
        app.practitioner(name).located(at).await;
    }
    let all = names(app, &viewer, "within_km=200&limit=100").await;
    // The two nearest share one shown distance: by id, that is in the order they joined.
    assert_eq!(
        all,
        [
            "Near In Cell",
            "Next Door",
            "Mid In Cell",
            "Far In Cell",
            "Bathurst"
        ]
    );
    for limit in [1, 2] {
        let query = format!("within_km=200&limit={limit}");
        let listed: Vec<String> = (every_page(app, &viewer, &query).await.iter())
            .map(|item| item["display_name"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(listed, all, "pages of {limit}");
    }
}
