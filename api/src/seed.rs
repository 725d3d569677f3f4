//! Demo data: realistic practitioners at real towns, from the matcher's synthetic
//! population (dense cities, a long rural tail, some truly isolated).

use chrono::Utc;
use sea_orm::{EntityTrait, Set, TransactionTrait};
use uuid::Uuid;

use crate::store::{
    bulk,
    entities::{profile_tags, profiles, users},
};

pub const DEMO_PASSWORD: &str = "alongside-demo";

/// Rows per INSERT, well inside SQLite's limit on bound parameters.
const BATCH: usize = 1000;
/// Practitioners per `COPY` on PostgreSQL, which has no such limit.
const COPY_BATCH: usize = 10_000;

pub struct Seeded {
    pub count: usize,
    pub first_email: String,
}

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
        });
        let m = &p.profile;
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
        });
        let lists: [(&str, Vec<String>); 4] = [
            (
                "population",
                p.populations.iter().map(|s| (*s).to_owned()).collect(),
            ),
            (
                "setting",
                p.settings.iter().map(|s| (*s).to_owned()).collect(),
            ),
            (
                "language",
                p.languages.iter().map(|s| (*s).to_owned()).collect(),
            ),
            ("interest", m.interests.clone()),
        ];
        for (kind, codes) in lists {
            let mut seen = Vec::new();
            for code in codes {
                if seen.contains(&code.to_lowercase()) {
                    continue;
                }
                seen.push(code.to_lowercase());
                tag_rows.push(profile_tags::ActiveModel {
                    user_id: Set(id),
                    kind: Set(kind.to_owned()),
                    position: Set(i32::try_from(seen.len()).unwrap_or(0)),
                    code: Set(code),
                });
            }
        }
    }
    Rows {
        users: user_rows,
        profiles: profile_rows,
        tags: tag_rows,
    }
}

pub async fn seed(
    db: &sea_orm::DatabaseConnection,
    count: usize,
    seed: u64,
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
    let maker = std::thread::spawn(move || {
        let mut members = matcher::synth::members(seed).take(count);
        let mut first = 0;
        loop {
            let chunk: Vec<_> = members.by_ref().take(chunk_size).collect();
            if chunk.is_empty() {
                break;
            }
            let rows = rows(&chunk, first, &run, &password_hash, Utc::now());
            first += chunk.len();
            let batch = if postgres {
                Batch::Copy {
                    count: rows.users.len(),
                    parts: vec![
                        bulk::copy_part(&rows.users),
                        bulk::copy_part(&rows.profiles),
                        bulk::copy_part(&rows.tags),
                    ],
                }
            } else {
                Batch::Insert(rows)
            };
            if tx.blocking_send(batch).is_err() {
                break;
            }
        }
    });
    // One transaction per chunk, stamped when it is built, so that a running server's
    // index (which polls for recent changes) picks the new practitioners up.
    let mut written = 0;
    while let Some(batch) = rx.recv().await {
        match batch {
            Batch::Copy { count, parts } => {
                bulk::copy_in(db, parts).await?;
                written += count;
            }
            Batch::Insert(rows) => {
                let txn = db.begin().await?;
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
    maker
        .join()
        .map_err(|_| anyhow::anyhow!("making up the demo practitioners failed"))?;
    Ok(Seeded {
        count: written,
        first_email,
    })
}
