//! Demo data: realistic practitioners at real towns, from the matcher's synthetic
//! population (dense cities, a long rural tail, some truly isolated).

use chrono::Utc;
use sea_orm::{EntityTrait, Set};
use uuid::Uuid;

use crate::store::{
    bulk,
    entities::{profile_tags, profiles, users},
    profiles::{tag_list, INTEREST, LANGUAGE, POPULATION, SETTING},
};

pub const DEMO_PASSWORD: &str = "alongside-demo";

/// Rows per INSERT, well inside SQLite's limit on bound parameters.
const BATCH: usize = 1000;
/// Practitioners per `COPY` on PostgreSQL, which has no such limit.
const COPY_BATCH: usize = 10_000;
/// `COPY` chunks written at once on PostgreSQL.
const COPIES_AT_ONCE: usize = 2;

pub struct Seeded {
    pub count: usize,
    pub first_email: String,
    /// Of those who work alone, how many have nobody of their profession within 50 km:
    /// (as generated, after moving some to the country, of how many).
    pub isolated: (usize, usize, usize),
    pub circles: usize,
    pub waiting_for_a_circle: usize,
}

/// How far a peer may be and still count as near.
const PEER_RADIUS_KM: f64 = 50.0;
/// Members of each demo circle.
const CIRCLE_SIZE: usize = 5;

/// One chunk, as PostgreSQL's `COPY` text or as rows for multi-row inserts.
enum Batch {
    Copy {
        count: usize,
        parts: Vec<bulk::CopyPart>,
    },
    Insert(Rows),
}

/// One chunk's rows, ready to insert.
struct Rows {
    users: Vec<users::ActiveModel>,
    profiles: Vec<profiles::ActiveModel>,
    tags: Vec<profile_tags::ActiveModel>,
}

/// The rows of practitioners `first..first + chunk.len()` of a run.
fn rows(
    chunk: &[matcher::synth::SynthPractitioner],
    first: usize,
    run: &str,
    password_hash: &str,
    now: chrono::DateTime<Utc>,
) -> Rows {
    let mut user_rows = Vec::with_capacity(chunk.len());
    let mut profile_rows = Vec::with_capacity(chunk.len());
    let mut tag_rows = Vec::with_capacity(chunk.len() * 8);
    for (i, p) in chunk.iter().enumerate() {
        let n = first + i;
        let id = Uuid::now_v7();
        let email = format!("demo-{run}-{n}@example.org");
        user_rows.push(users::ActiveModel {
            id: Set(id),
            email: Set(email.clone()),
            email_normalized: Set(email),
            password_hash: Set(password_hash.to_owned()),
            display_name: Set(p.display_name.clone()),
            email_verified: Set(true),
            role: Set(crate::domain::role::Role::Practitioner),
            suspended: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
            last_active_at: Set(Some(now)),
            dormant: Set(false),
            unanswered_expiries: Set(0),
        });
        let m = &p.profile;
        let lists: [(&str, Vec<String>); 4] = [
            (
                POPULATION,
                p.populations.iter().map(|s| (*s).to_owned()).collect(),
            ),
            (
                SETTING,
                p.settings.iter().map(|s| (*s).to_owned()).collect(),
            ),
            (
                LANGUAGE,
                p.languages.iter().map(|s| (*s).to_owned()).collect(),
            ),
            (
                INTEREST,
                m.interests.iter().map(|s| s.to_string()).collect(),
            ),
        ];
        let mut tags: Vec<(&str, i32, String)> = Vec::with_capacity(8);
        for (kind, codes) in lists {
            let mut seen = Vec::new();
            for code in codes {
                if seen.contains(&code.to_lowercase()) {
                    continue;
                }
                seen.push(code.to_lowercase());
                tags.push((kind, i32::try_from(seen.len()).unwrap_or(0), code));
            }
        }
        profile_rows.push(profiles::ActiveModel {
            user_id: Set(id),
            profession: Set(p.profession.to_owned()),
            latitude: Set(m.location.lat),
            longitude: Set(m.location.lon),
            years_experience: Set(i32::from(m.years_experience)),
            bio: Set(None),
            timezone: Set(p.timezone.to_owned()),
            meets_virtual: Set(m.meets_virtually),
            meets_in_person: Set(m.meets_in_person),
            max_travel_km: Set(Some(i32::from(m.max_travel_km))),
            works_alone: Set(m.works_alone),
            seeking_peers: Set(m.seeking_peers),
            seeking_mentor: Set(m.seeking_mentor),
            mentoring_offering: Set(m.offering_mentoring),
            mentoring_capacity: Set(i32::from(p.mentoring_capacity)),
            mentoring_paused_until: Set(None),
            place_name: Set(p.place.name.clone()),
            place_region: Set(p.place.region.clone()),
            place_country_code: Set(p.place.country_code.clone()),
            created_at: Set(now),
            updated_at: Set(now),
            tag_list: Set(tag_list(
                tags.iter()
                    .map(|(kind, position, code)| (*kind, *position, code.as_str())),
            )),
        });
        tag_rows.extend(
            tags.into_iter()
                .map(|(kind, position, code)| profile_tags::ActiveModel {
                    user_id: Set(id),
                    kind: Set(kind.to_owned()),
                    position: Set(position),
                    code: Set(code),
                }),
        );
    }
    Rows {
        users: user_rows,
        profiles: profile_rows,
        tags: tag_rows,
    }
}

/// What the seeder decided about the people it made up, by their place in the run.
#[derive(Default)]
struct Plan {
    isolated: (usize, usize, usize),
    /// Members of each demo circle: the same profession and time zone.
    circles: Vec<Vec<usize>>,
    /// People who asked to be placed in a circle by the next formation round.
    seekers: Vec<usize>,
}

/// Demo circles of people who share a profession and a time zone, and some who wait for a
/// round: about one circle per 200 practitioners (at most 25), and one in ten who work
/// alone waiting.
fn plan(members: &[matcher::synth::SynthPractitioner], isolated: (usize, usize, usize)) -> Plan {
    let wanted = (members.len() / 200).clamp(1, 25);
    let mut groups: std::collections::BTreeMap<(&str, &str), Vec<usize>> = Default::default();
    let mut circles = Vec::new();
    let mut placed = std::collections::HashSet::new();
    for (i, m) in members.iter().enumerate() {
        if circles.len() >= wanted {
            break;
        }
        if !(m.profile.works_alone || m.profile.seeking_peers) {
            continue;
        }
        let group = groups.entry((m.profession, m.timezone)).or_default();
        group.push(i);
        if group.len() == CIRCLE_SIZE {
            placed.extend(group.iter().copied());
            circles.push(std::mem::take(group));
        }
    }
    let seekers = members
        .iter()
        .enumerate()
        .filter(|(i, m)| m.profile.works_alone && !placed.contains(i) && i % 10 == 0)
        .map(|(i, _)| i)
        .collect();
    Plan {
        isolated,
        circles,
        seekers,
    }
}

pub async fn seed(
    db: &sea_orm::DatabaseConnection,
    count: usize,
    seed: u64,
    rural_share: f64,
) -> anyhow::Result<Seeded> {
    let password_hash = crate::auth::hash_password_blocking(DEMO_PASSWORD.to_owned()).await?;
    let run = Uuid::now_v7().simple().to_string();
    let run = run[run.len() - 6..].to_owned();
    let first_email = format!("demo-{run}-0@example.org");
    // The practitioners are made up (and their rows built) on a thread of their own while
    // earlier chunks are written, a few chunks ahead.
    let postgres = crate::store::is_postgres(db);
    let chunk_size = if postgres { COPY_BATCH } else { BATCH };
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Batch>(4);
    let email_run = run.clone();
    let started = std::time::Instant::now();
    let maker = std::thread::spawn(move || {
        let mut members = matcher::synth::population(seed, count);
        let (as_made, _) = matcher::synth::lone_without_peer(&members, PEER_RADIUS_KM);
        let (now, lone) =
            matcher::synth::move_to_the_country(&mut members, rural_share, PEER_RADIUS_KM, seed);
        let plan = plan(&members, (as_made, now, lone));
        tracing::info!(elapsed = ?started.elapsed(), "demo practitioners made up");
        let mut first = 0;
        for chunk in members.chunks(chunk_size) {
            let rows = rows(chunk, first, &run, &password_hash, Utc::now());
            first += chunk.len();
            let batch = if postgres {
                Batch::Copy {
                    count: rows.users.len(),
                    parts: vec![
                        bulk::copy_part(rows.users),
                        bulk::copy_part(rows.profiles),
                        bulk::copy_part(rows.tags),
                    ],
                }
            } else {
                Batch::Insert(rows)
            };
            if tx.blocking_send(batch).is_err() {
                break;
            }
        }
        plan
    });
    // One transaction per chunk, stamped when it is built, so that a running server's
    // index (which polls for recent changes) picks the new practitioners up.
    // PostgreSQL spends most of a chunk's time in one backend (checking keys, updating
    // indexes), so two chunks go in at once, each on a connection of its own.
    let mut copying = tokio::task::JoinSet::new();
    // Each chunk writes its accounts before the rows that refer to them, in one
    // transaction, so where the role may, the per-row key checks are left out.
    let skip_key_checks = postgres && bulk::may_skip_key_checks(db).await?;
    let mut written = 0;
    while let Some(batch) = rx.recv().await {
        match batch {
            Batch::Copy { count, parts } => {
                if copying.len() >= COPIES_AT_ONCE {
                    written += copied(copying.join_next().await)?;
                }
                let db = db.clone();
                copying.spawn(async move {
                    bulk::copy_in(&db, parts, skip_key_checks)
                        .await
                        .map(|()| count)
                });
            }
            Batch::Insert(rows) => {
                let txn = crate::store::begin(db).await?;
                written += rows.users.len();
                users::Entity::insert_many(rows.users)
                    .exec_without_returning(&txn)
                    .await?;
                profiles::Entity::insert_many(rows.profiles)
                    .exec_without_returning(&txn)
                    .await?;
                let mut tags = rows.tags.into_iter().peekable();
                while tags.peek().is_some() {
                    profile_tags::Entity::insert_many(tags.by_ref().take(BATCH * 4))
                        .exec_without_returning(&txn)
                        .await?;
                }
                txn.commit().await?;
            }
        }
    }
    while let Some(done) = copying.join_next().await {
        written += copied(Some(done))?;
    }
    let plan = maker
        .join()
        .map_err(|_| anyhow::anyhow!("making up the demo practitioners failed"))?;
    tracing::info!(elapsed = ?started.elapsed(), written, "demo practitioners written");
    if postgres {
        // What autovacuum would do in the minute after (where it is on): statistics for the
        // planner, and every new row marked visible once, so that the first reads after
        // seeding neither plan blind nor write the tables back out.
        use sea_orm::ConnectionTrait;
        db.execute_unprepared("VACUUM (ANALYZE) users, profiles, profile_tags")
            .await?;
        tracing::info!(elapsed = ?started.elapsed(), "demo tables analysed");
    }
    let ids = ids_of(db, &email_run, &plan).await?;
    let circles = circles::seed(db, &plan.circles, &ids).await?;
    tracing::info!(elapsed = ?started.elapsed(), "demo circles written");
    let seekers: Vec<Uuid> = plan
        .seekers
        .iter()
        .filter_map(|n| ids.get(n).copied())
        .collect();
    crate::store::circles::add_seekers(db, &seekers).await?;
    let waiting = seekers.len();
    tracing::info!(elapsed = ?started.elapsed(), waiting, "demo circle seekers written");
    Ok(Seeded {
        count: written,
        first_email,
        isolated: plan.isolated,
        circles,
        waiting_for_a_circle: waiting,
    })
}

/// The practitioners of a finished `COPY` task.
fn copied(
    done: Option<Result<Result<usize, sea_orm::DbErr>, tokio::task::JoinError>>,
) -> anyhow::Result<usize> {
    Ok(done.ok_or_else(|| anyhow::anyhow!("no copy was running"))???)
}

/// The account ids of the people the plan names, by their place in the run.
async fn ids_of(
    db: &sea_orm::DatabaseConnection,
    run: &str,
    plan: &Plan,
) -> anyhow::Result<std::collections::HashMap<usize, Uuid>> {
    use sea_orm::{ColumnTrait, QueryFilter, QuerySelect};
    let wanted: Vec<usize> = plan
        .circles
        .iter()
        .flatten()
        .chain(&plan.seekers)
        .copied()
        .collect();
    let mut ids = std::collections::HashMap::new();
    for chunk in wanted.chunks(500) {
        let emails: Vec<String> = chunk
            .iter()
            .map(|n| format!("demo-{run}-{n}@example.org"))
            .collect();
        let found: Vec<(Uuid, String)> = users::Entity::find()
            .select_only()
            .column(users::Column::Id)
            .column(users::Column::Email)
            // The demo addresses are lower case already; the normalized one is indexed.
            .filter(users::Column::EmailNormalized.is_in(emails))
            .into_tuple()
            .all(db)
            .await?;
        for (id, email) in found {
            let n = email
                .trim_end_matches("@example.org")
                .rsplit('-')
                .next()
                .and_then(|n| n.parse::<usize>().ok());
            if let Some(n) = n {
                ids.insert(n, id);
            }
        }
    }
    Ok(ids)
}

/// Demo circles with something in them: a welcome, a case study with replies, a shared
/// link and a meeting next week.
mod circles {
    use chrono::{Duration, Utc};
    use sea_orm::Set;
    use uuid::Uuid;

    use crate::{
        domain::circle::{Admission, CircleState, MemberRole, MemberStatus, PostKind},
        store::{
            circles::{self as rows, NewMember},
            entities::{circle_meetings, circle_resources, circles, profiles},
        },
    };

    #[allow(clippy::too_many_arguments)]
    fn post(
        circle_id: Uuid,
        parent_id: Option<Uuid>,
        author_id: Uuid,
        kind: PostKind,
        title: Option<&str>,
        body: &str,
        questions: &[&str],
        minutes_ago: i64,
    ) -> rows::NewPost {
        rows::NewPost {
            circle_id,
            parent_id,
            author_id,
            kind,
            title: title.map(str::to_owned),
            body: body.to_owned(),
            questions: questions.iter().map(|q| (*q).to_owned()).collect(),
            at: Utc::now() - Duration::minutes(minutes_ago),
        }
    }

    pub async fn seed(
        db: &sea_orm::DatabaseConnection,
        groups: &[Vec<usize>],
        ids: &std::collections::HashMap<usize, Uuid>,
    ) -> anyhow::Result<usize> {
        use sea_orm::EntityTrait;
        let mut made = 0;
        for group in groups {
            let members: Vec<Uuid> = group.iter().filter_map(|n| ids.get(n).copied()).collect();
            let Some(&first) = members.first() else {
                continue;
            };
            let Some(profile) = profiles::Entity::find_by_id(first).one(db).await? else {
                continue;
            };
            let profession = crate::vocabulary::VOCABULARY
                .professions
                .iter()
                .find(|t| t.code == profile.profession)
                .map_or_else(|| profile.profession.clone(), |t| t.label.clone());
            let domain = format!("{profession} working alone, {}", profile.place_region);
            let anchor = crate::privacy::snap(profile.latitude, profile.longitude);
            let now = Utc::now();
            let id = Uuid::now_v7();
            let txn = crate::store::begin(db).await?;
            rows::insert(
                &txn,
                circles::ActiveModel {
                    id: Set(id),
                    domain: Set(domain.chars().take(120).collect()),
                    cap: Set(6),
                    state: Set(CircleState::Active),
                    admission: Set(Admission::Approval),
                    closed_reason: Set(None),
                    profession: Set(profile.profession.clone()),
                    utc_offset_minutes: Set(crate::domain::codes::utc_offset_minutes(
                        &profile.timezone,
                        now,
                    )),
                    anchor_latitude: Set(anchor.lat),
                    anchor_longitude: Set(anchor.lon),
                    round_id: Set(None),
                    version: Set(0),
                    created_at: Set(now - Duration::days(14)),
                    last_activity_at: Set(now),
                    updated_at: Set(now),
                },
            )
            .await?;
            for (i, &user_id) in members.iter().enumerate() {
                rows::add_member(
                    &txn,
                    NewMember {
                        circle_id: id,
                        user_id,
                        role: if i == 0 {
                            MemberRole::Facilitator
                        } else {
                            MemberRole::Member
                        },
                        status: MemberStatus::Active,
                        note: None,
                    },
                )
                .await?;
            }
            let second = members.get(1).copied().unwrap_or(first);
            rows::insert_post(
                &txn,
                post(id, None, first, PostKind::Discussion, Some("Welcome"),
                    "Welcome, everyone. Say a little about your practice and what you would like from this circle.",
                    &[], 60 * 24 * 13),
            )
            .await?;
            let case = rows::insert_post(
                &txn,
                post(id, None, second, PostKind::Case, Some("A first home visit that went sideways"),
                    "An older adult living alone, recently home from hospital, declined most of the equipment we discussed. Details changed; nothing identifying.",
                    &["What would you try on the next visit?", "Who else would you involve?"],
                    60 * 24 * 2),
            )
            .await?;
            for (k, &user_id) in members.iter().enumerate().skip(2).take(2) {
                let reply = post(
                    id,
                    Some(case.id),
                    user_id,
                    PostKind::Reply,
                    None,
                    if k == 2 {
                        "I would start with what matters most to them, and leave the rest for later."
                    } else {
                        "A call with their GP and family helped me in a case like this."
                    },
                    &[],
                    60 * (30 - k as i64),
                );
                rows::insert_post(&txn, reply).await?;
                rows::replied(&txn, case.id, Utc::now()).await?;
            }
            rows::add_resource(
                &txn,
                circle_resources::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    circle_id: Set(id),
                    added_by: Set(Some(first)),
                    title: Set("Falls prevention resources".to_owned()),
                    url: Set("https://www.who.int/news-room/fact-sheets/detail/falls".to_owned()),
                    note: Set(Some(
                        "A good overview to share with clients' families.".to_owned(),
                    )),
                    created_at: Set(now),
                },
            )
            .await?;
            rows::insert_meeting(
                &txn,
                circle_meetings::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    circle_id: Set(id),
                    series_id: Set(None),
                    organiser_id: Set(Some(first)),
                    title: Set("Case discussion".to_owned()),
                    starts_at: Set(now + Duration::days(7)),
                    duration_minutes: Set(60),
                    timezone: Set(profile.timezone.clone()),
                    location: Set(Some(
                        "Video call; the link follows in the discussion".to_owned(),
                    )),
                    sequence: Set(0),
                    cancelled: Set(false),
                    reminded_at: Set(None),
                    held_at: Set(None),
                    created_at: Set(now),
                },
            )
            .await?;
            txn.commit().await?;
            made += 1;
        }
        Ok(made)
    }
}
