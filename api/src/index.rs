//! The bridge between storage and the matcher: every profile lives in an in-memory index,
//! changed at once by this process and refreshed from the database (for changes made by
//! other instances) every couple of seconds. Blocks, live connections and recently declined
//! pairs feed the hard rules the index cannot see.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex, RwLock},
};

use chrono::{DateTime, Duration, Utc};
use matcher::{CodeSet, Index, IsolationConfig, Kind, PersonId, ScoringConfig};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::{
    cards::{Card, Interner},
    domain::connection::{ConnectionKind, ConnectionStatus},
    store::{
        entities::{blocks, connections, erasures, profiles, users},
        profiles::{self as store_profiles, Loaded, Selection},
    },
    vocabulary::VOCABULARY,
};

/// A declined pair is not suggested again for this long.
pub const DECLINE_COOL_OFF_DAYS: i64 = 90;
/// How far back each refresh looks beyond the last change it saw, for transactions that
/// committed after later ones.
const REFRESH_OVERLAP_SECS: i64 = 10;

pub fn person(id: Uuid) -> PersonId {
    PersonId(id.as_u128())
}

pub fn user_id(person: PersonId) -> Uuid {
    Uuid::from_u128(person.0)
}

/// What the hard rules need beyond the two profiles.
#[derive(Default)]
struct Relations {
    blocked: Blocks,
    live: HashSet<(Uuid, Uuid)>,
    declined_at: HashMap<(Uuid, Uuid), DateTime<Utc>>,
    /// Mentees who already have a pending or accepted mentorship.
    mentored: HashSet<Uuid>,
}

fn ordered(a: Uuid, b: Uuid) -> (Uuid, Uuid) {
    if a < b {
        (a, b)
    } else {
        (b, a)
    }
}

/// Blocks, either way: for each person, everyone they blocked or were blocked by, so that
/// one person's blocks are one lookup (the directory asks for the viewer's once).
#[derive(Default)]
struct Blocks(HashMap<Uuid, HashSet<Uuid>>);

impl Blocks {
    async fn read(db: &impl ConnectionTrait) -> Result<Self, sea_orm::DbErr> {
        let mut blocks = Self::default();
        for block in blocks::Entity::find().all(db).await? {
            let (a, b) = (block.blocker_id, block.blocked_id);
            blocks.0.entry(a).or_default().insert(b);
            blocks.0.entry(b).or_default().insert(a);
        }
        Ok(blocks)
    }

    fn between(&self, a: Uuid, b: Uuid) -> bool {
        self.0.get(&a).is_some_and(|theirs| theirs.contains(&b))
    }

    /// Everyone blocked either way with `id`.
    fn of(&self, id: Uuid) -> Option<&HashSet<Uuid>> {
        self.0.get(&id)
    }

    fn forget(&mut self, id: Uuid) {
        for other in self.0.remove(&id).unwrap_or_default() {
            if let Some(theirs) = self.0.get_mut(&other) {
                theirs.remove(&id);
            }
        }
    }
}

impl Relations {
    /// A block either way between the two: they never share a circle.
    fn blocked_pair(&self, a: PersonId, b: PersonId) -> bool {
        self.blocked.between(user_id(a), user_id(b))
    }

    fn excludes(&self, a: Uuid, b: Uuid, now: DateTime<Utc>) -> bool {
        let pair = ordered(a, b);
        self.blocked.between(a, b)
            || self.live.contains(&pair)
            || self
                .declined_at
                .get(&pair)
                .is_some_and(|at| now - *at < Duration::days(DECLINE_COOL_OFF_DAYS))
    }
}

pub struct Matching {
    index: RwLock<Index>,
    /// What the API shows of each practitioner in the index (the read model).
    cards: RwLock<HashMap<Uuid, Arc<Card>>>,
    interner: Interner,
    /// When the read behind each practitioner's entry started: a slower, older read (say,
    /// the poller's) must not overwrite a newer one.
    read_at: Mutex<HashMap<Uuid, std::time::Instant>>,
    relations: RwLock<Relations>,
    watermark: Mutex<DateTime<Utc>>,
}

/// Beyond this radius the directory scans the index once instead of asking the grid.
const WIDE_RADIUS_KM: u32 = 300;

/// What the directory filters on, as the index's codes.
#[derive(Clone, Copy, Debug, Default)]
pub struct DirectoryFilter {
    pub profession: Option<u16>,
    pub population: Option<u16>,
    pub setting: Option<u16>,
    pub language: Option<u16>,
    /// Only practitioners looking for peers.
    pub seeking_peers: bool,
    /// Only mentors with a free slot who are not paused.
    pub mentor_with_free_slot: bool,
}

impl DirectoryFilter {
    fn admits(&self, p: &matcher::Profile) -> bool {
        p.verified
            && p.active
            && self.profession.is_none_or(|code| p.profession == code)
            && self
                .population
                .is_none_or(|code| p.populations.contains(code))
            && self.setting.is_none_or(|code| p.settings.contains(code))
            && self.language.is_none_or(|code| p.languages.contains(&code))
            && (!self.seeking_peers || p.seeking_peers)
            && (!self.mentor_with_free_slot || (p.offering_mentoring && p.free_mentor_slots > 0))
    }
}

/// The `limit + 1` smallest (shown distance, id) keys after a directory cursor, kept in a
/// bounded max-heap.
struct DirectoryPage {
    best: std::collections::BinaryHeap<(u32, Uuid)>,
    after: Option<(Option<u32>, Uuid)>,
    limit: usize,
}

impl DirectoryPage {
    fn new(after: Option<(Option<u32>, Uuid)>, limit: usize) -> Self {
        Self {
            best: std::collections::BinaryHeap::with_capacity(limit + 2),
            after,
            limit,
        }
    }

    fn offer(&mut self, key: (u32, Uuid)) {
        if let Some((after_distance, after_id)) = self.after {
            if key <= (after_distance.unwrap_or(0), after_id) {
                return;
            }
        }
        if self.best.len() <= self.limit {
            self.best.push(key);
        } else if self.best.peek().is_some_and(|top| key < *top) {
            self.best.pop();
            self.best.push(key);
        }
    }

    /// Whether someone `arc_km` away (as the grid measures it) is certainly shown farther
    /// than everyone on a full page: their shown distance, `arc_km` rounded to a multiple
    /// of 10, is then above the page's farthest (half a kilometre spare for rounding).
    fn beyond(&self, arc_km: f32) -> bool {
        self.best.len() > self.limit
            && self
                .best
                .peek()
                .is_some_and(|&(farthest, _)| arc_km > farthest as f32 + 5.5)
    }
}

/// One suggestion with its explanation.
pub struct Suggested {
    pub user_id: Uuid,
    pub score: f32,
    pub reasons: Vec<matcher::Reason>,
}

/// The matcher's view of one stored practitioner, sharing the interests of their `card`.
fn to_matcher(loaded: &Loaded, card: &Card, today: chrono::NaiveDate) -> Option<matcher::Profile> {
    let stored = &loaded.stored;
    let row = &stored.row;
    let accepted_mentees = loaded.accepted_mentees;
    let ids = |codes: &[String], find: &dyn Fn(&str) -> Option<u16>| -> Vec<u16> {
        codes.iter().filter_map(|c| find(c)).collect()
    };
    let populations = ids(&stored.populations, &|c| VOCABULARY.population_id(c));
    let settings = ids(&stored.settings, &|c| VOCABULARY.setting_id(c));
    let paused = row.mentoring_paused_until.is_some_and(|d| d > today) || loaded.dormant;
    let free = if paused {
        0
    } else {
        (i64::from(row.mentoring_capacity) - i64::try_from(accepted_mentees).unwrap_or(i64::MAX))
            .clamp(0, 255)
    };
    let utc_offset_minutes = crate::domain::codes::utc_offset_minutes(&row.timezone, Utc::now());
    // The index only ever sees the grid-snapped position: every score, reason, travel
    // limit, isolation count and round proposal it computes is then as coarse as the grid.
    let mut profile = matcher::Profile::new(
        person(row.user_id),
        VOCABULARY.profession_id(&row.profession)?,
        crate::privacy::snap(row.latitude, row.longitude),
    );
    profile.populations = CodeSet::from_ids(populations);
    profile.settings = CodeSet::from_ids(settings);
    profile.languages = ids(&stored.languages, &|c| VOCABULARY.language_id(c));
    profile.interests = card.interests().to_vec();
    profile.years_experience = u8::try_from(row.years_experience).unwrap_or(60);
    profile.utc_offset_minutes = i16::try_from(utc_offset_minutes).unwrap_or(0);
    profile.meets_virtually = row.meets_virtual;
    profile.meets_in_person = row.meets_in_person;
    profile.max_travel_km = row
        .max_travel_km
        .and_then(|km| u16::try_from(km).ok())
        .unwrap_or(50);
    profile.works_alone = row.works_alone;
    profile.seeking_peers = row.seeking_peers;
    profile.seeking_mentor = row.seeking_mentor;
    profile.offering_mentoring = row.mentoring_offering;
    profile.free_mentor_slots = u8::try_from(free).unwrap_or(0);
    profile.verified = loaded.email_verified;
    profile.active = !loaded.suspended;
    Some(profile)
}

/// The matcher's profile and the card of each loaded practitioner.
fn build_profiles(loaded: &[Loaded], interner: &Interner) -> Vec<(matcher::Profile, Arc<Card>)> {
    let today = Utc::now().date_naive();
    let mut strings = interner.batch();
    loaded
        .iter()
        .filter_map(|p| {
            let mut card = Card::new(
                &p.stored,
                &p.display_name,
                p.accepted_mentees,
                p.account_updated_at,
                &mut strings,
            );
            card.suspended = p.suspended;
            Some((to_matcher(p, &card, today)?, Arc::new(card)))
        })
        .collect()
}

/// Profiles read per query when loading everyone.
const LOAD_PAGE: u64 = 20_000;

/// Loads these pages of profiles (each the ids after the first bound up to the second), one
/// after another, decoding and converting each off the async threads while the next is
/// read. `accepted` holds every mentor's count of accepted mentees.
async fn load_pages(
    db: sea_orm::DatabaseConnection,
    interner: Arc<Interner>,
    accepted: Arc<HashMap<Uuid, u64>>,
    pages: Vec<(Option<Uuid>, Option<Uuid>)>,
) -> Result<Vec<(matcher::Profile, Arc<Card>)>, sea_orm::DbErr> {
    type Built = Result<Vec<(matcher::Profile, Arc<Card>)>, sea_orm::DbErr>;
    let mut built = Vec::new();
    let mut converting: Option<tokio::task::JoinHandle<Built>> = None;
    let failed = |e: tokio::task::JoinError| sea_orm::DbErr::Custom(e.to_string());
    for (after, until) in pages {
        let page = store_profiles::load_range_for_index(&db, after, until).await?;
        if let Some(previous) = converting.take() {
            built.extend(previous.await.map_err(failed)??);
        }
        let (interner, accepted) = (interner.clone(), accepted.clone());
        converting = Some(tokio::task::spawn_blocking(move || {
            let mut loaded = page.decode()?;
            for p in &mut loaded {
                p.accepted_mentees = accepted.get(&p.stored.row.user_id).copied().unwrap_or(0);
            }
            Ok(build_profiles(&loaded, &interner))
        }));
    }
    if let Some(previous) = converting.take() {
        built.extend(previous.await.map_err(failed)??);
    }
    Ok(built)
}

async fn load_relations(db: &impl ConnectionTrait) -> Result<Relations, sea_orm::DbErr> {
    let mut relations = Relations {
        blocked: Blocks::read(db).await?,
        ..Relations::default()
    };
    let since = Utc::now() - Duration::days(DECLINE_COOL_OFF_DAYS);
    let rows = connections::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(connections::Column::ActivePair.is_not_null())
                .add(
                    sea_orm::Condition::all()
                        .add(connections::Column::Status.eq(ConnectionStatus::Declined.as_str()))
                        .add(connections::Column::UpdatedAt.gt(since)),
                ),
        )
        .all(db)
        .await?;
    for row in rows {
        relations.apply(&row);
    }
    Ok(relations)
}

impl Relations {
    fn forget(&mut self, id: Uuid) {
        self.blocked.forget(id);
        self.live.retain(|(a, b)| *a != id && *b != id);
        self.declined_at.retain(|(a, b), _| *a != id && *b != id);
        self.mentored.remove(&id);
    }

    fn apply(&mut self, row: &connections::Model) {
        let pair = ordered(row.requester_id, row.recipient_id);
        if row.active_pair.is_some() {
            self.live.insert(pair);
            if row.kind == ConnectionKind::Mentorship {
                self.mentored.insert(row.requester_id);
            }
        } else {
            self.live.remove(&pair);
            if row.kind == ConnectionKind::Mentorship {
                self.mentored.remove(&row.requester_id);
            }
        }
        if row.status == ConnectionStatus::Declined {
            let at = row.responded_at.unwrap_or(row.updated_at);
            self.declined_at.insert(pair, at);
        }
    }
}

/// Those seeking a mentor who have no mentorship pending or accepted.
fn waiting_for_mentor(index: &Index, relations: &Relations) -> Vec<PersonId> {
    index
        .seeking_mentor()
        .into_iter()
        .filter(|id| !relations.mentored.contains(&user_id(*id)))
        .collect()
}

impl Matching {
    /// Loads every profile and relation; the start-up cost of a live index. The profiles
    /// are read a page (a range of ids) at a time by a few loaders at once, and converted
    /// as they arrive.
    pub async fn load(db: &sea_orm::DatabaseConnection) -> Result<Self, sea_orm::DbErr> {
        Self::load_in_pages(db, LOAD_PAGE).await
    }

    /// [`Matching::load`] with pages of at most `page` profiles (tests read small populations
    /// in many pages, as start-up reads large ones).
    pub async fn load_in_pages(
        db: &sea_orm::DatabaseConnection,
        page: u64,
    ) -> Result<Self, sea_orm::DbErr> {
        let started = Utc::now();
        let clock = std::time::Instant::now();
        let interner = Arc::new(Interner::default());
        // Two loaders a core: while one waits for its next page, the database is working
        // on another's. The pages are dealt out in turn.
        let loaders = std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .clamp(2, 8)
            * 2;
        let (ends, accepted) = tokio::try_join!(
            async {
                // Two pages a loader at least, so that each ends about when the others do.
                let ends = store_profiles::page_ends(db, page, loaders * 2).await;
                tracing::debug!(elapsed = ?clock.elapsed(), "pages planned");
                ends
            },
            crate::store::connections::accepted_counts(db, None)
        )?;
        let mut pages = Vec::new();
        let mut after = None;
        for end in ends {
            pages.push((after, Some(end)));
            after = Some(end);
        }
        pages.push((after, None));
        let accepted = Arc::new(accepted);
        let ranges = (0..loaders).map(|first| {
            let mine = pages.iter().skip(first).step_by(loaders).copied().collect();
            tokio::spawn(load_pages(
                db.clone(),
                interner.clone(),
                accepted.clone(),
                mine,
            ))
        });
        let relations = load_relations(db);
        let (ranges, relations) = tokio::join!(futures_util::future::join_all(ranges), relations);
        tracing::debug!(elapsed = ?clock.elapsed(), "profiles read");
        // Each range's cards go into the map as it is taken apart, and the index is built
        // once they are all in: building both at once kept every card twice for a while
        // (a fifth more resident memory at a million).
        let ranges = ranges
            .into_iter()
            .map(|range| range.map_err(|e| sea_orm::DbErr::Custom(e.to_string()))?)
            .collect::<Result<Vec<_>, _>>()?;
        // Every card was put in its `Arc` where it was built: only pointers move here. The
        // map and the list are made at their full size at once, never grown by copying.
        let total = ranges.iter().map(Vec::len).sum();
        let mut profiles = Vec::with_capacity(total);
        let mut cards = HashMap::with_capacity(total);
        for range in ranges {
            for (profile, card) in range {
                profiles.push(profile);
                cards.insert(card.user_id, card);
            }
        }
        let count = profiles.len();
        tracing::debug!(elapsed = ?clock.elapsed(), "profiles gathered");
        let index =
            tokio::task::spawn_blocking(move || Index::build(ScoringConfig::default(), profiles))
                .await
                .map_err(|e| sea_orm::DbErr::Custom(e.to_string()))?;
        tracing::info!(profiles = count, elapsed = ?clock.elapsed(), "matching index loaded");
        Ok(Self {
            index: RwLock::new(index),
            cards: RwLock::new(cards),
            interner: Arc::into_inner(interner).unwrap_or_default(),
            read_at: Mutex::new(HashMap::new()),
            relations: RwLock::new(relations?),
            watermark: Mutex::new(started),
        })
    }

    /// Re-reads these practitioners and applies them at once.
    pub async fn refresh_users(
        &self,
        db: &impl ConnectionTrait,
        ids: &[Uuid],
    ) -> Result<(), sea_orm::DbErr> {
        if ids.is_empty() {
            return Ok(());
        }
        let read_started = std::time::Instant::now();
        let mut fresh = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(store_profiles::ID_CHUNK) {
            let loaded = store_profiles::load_for_index(db, Selection::Ids(chunk))
                .await?
                .decode()?;
            fresh.extend(build_profiles(&loaded, &self.interner));
        }
        let present: HashSet<PersonId> = fresh.iter().map(|(p, _)| p.id).collect();
        if let (Ok(mut index), Ok(mut cards), Ok(mut read_at)) =
            (self.index.write(), self.cards.write(), self.read_at.lock())
        {
            let mut newer = |id: Uuid| match read_at.get(&id) {
                Some(previous) if *previous > read_started => false,
                _ => {
                    read_at.insert(id, read_started);
                    true
                }
            };
            for id in ids {
                if !present.contains(&person(*id)) && newer(*id) {
                    index.remove(person(*id));
                    cards.remove(id);
                }
            }
            for (profile, card) in fresh {
                if newer(card.user_id) {
                    index.upsert(profile);
                    cards.insert(card.user_id, card);
                }
            }
        }
        Ok(())
    }

    /// What the API shows of these practitioners, from memory: the cards of those the
    /// index holds, in the order given (absent ones are left out).
    pub fn cards(&self, ids: &[Uuid]) -> Vec<Arc<Card>> {
        let Ok(cards) = self.cards.read() else {
            return Vec::new();
        };
        ids.iter().filter_map(|id| cards.get(id).cloned()).collect()
    }

    pub fn card(&self, id: Uuid) -> Option<Arc<Card>> {
        self.cards.read().ok()?.get(&id).cloned()
    }

    /// Applies a connection this process just wrote.
    pub async fn connection_changed(
        &self,
        db: &impl ConnectionTrait,
        row: &connections::Model,
    ) -> Result<(), sea_orm::DbErr> {
        if let Ok(mut relations) = self.relations.write() {
            relations.apply(row);
        }
        self.refresh_users(db, &[row.requester_id, row.recipient_id])
            .await
    }

    pub async fn blocks_changed(&self, db: &impl ConnectionTrait) -> Result<(), sea_orm::DbErr> {
        let blocked = Blocks::read(db).await?;
        if let Ok(mut relations) = self.relations.write() {
            relations.blocked = blocked;
        }
        Ok(())
    }

    /// Picks up what other instances wrote since the last look.
    pub async fn poll(&self, db: &impl ConnectionTrait) -> Result<(), sea_orm::DbErr> {
        let now = Utc::now();
        let since = self.watermark.lock().map(|w| *w).unwrap_or(now)
            - Duration::seconds(REFRESH_OVERLAP_SECS);
        let mut changed: HashSet<Uuid> = profiles::Entity::find()
            .select_only()
            .column(profiles::Column::UserId)
            .filter(profiles::Column::UpdatedAt.gt(since))
            .into_tuple::<Uuid>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        changed.extend(
            users::Entity::find()
                .select_only()
                .column(users::Column::Id)
                .filter(users::Column::UpdatedAt.gt(since))
                .into_tuple::<Uuid>()
                .all(db)
                .await?,
        );
        let connection_rows = connections::Entity::find()
            .filter(connections::Column::UpdatedAt.gt(since))
            .all(db)
            .await?;
        if let Ok(mut relations) = self.relations.write() {
            for row in &connection_rows {
                relations.apply(row);
            }
        }
        for row in &connection_rows {
            changed.insert(row.requester_id);
            changed.insert(row.recipient_id);
        }
        self.blocks_changed(db).await?;
        let changed: Vec<Uuid> = changed.into_iter().collect();
        for chunk in changed.chunks(500) {
            self.refresh_users(db, chunk).await?;
        }
        // Erased accounts have no rows left to change; their tombstones say so.
        let erased: Vec<Uuid> = erasures::Entity::find()
            .select_only()
            .column(erasures::Column::UserId)
            .filter(erasures::Column::ErasedAt.gt(since))
            .into_tuple::<Uuid>()
            .all(db)
            .await?;
        for id in erased {
            self.forget(id);
        }
        if let Ok(mut watermark) = self.watermark.lock() {
            *watermark = now;
        }
        Ok(())
    }

    /// Drops an erased person from the index and from every relation.
    pub fn forget(&self, id: Uuid) {
        if let Ok(mut index) = self.index.write() {
            index.remove(person(id));
        }
        if let Ok(mut cards) = self.cards.write() {
            cards.remove(&id);
        }
        if let Ok(mut relations) = self.relations.write() {
            relations.forget(id);
        }
    }

    /// The best `k` candidates of `kind` for `seeker`, each with reasons.
    pub fn suggest(&self, seeker: Uuid, kind: Kind, k: usize) -> Vec<Suggested> {
        let (Ok(index), Ok(relations)) = (self.index.read(), self.relations.read()) else {
            return Vec::new();
        };
        let now = Utc::now();
        let exclude = |a: PersonId, b: PersonId| relations.excludes(user_id(a), user_id(b), now);
        index
            .suggest(person(seeker), kind, k, &exclude)
            .into_iter()
            .map(|s| Suggested {
                user_id: user_id(s.id),
                score: s.score,
                reasons: index
                    .explain(person(seeker), s.id, kind, &VOCABULARY)
                    .map(|e| e.reasons)
                    .unwrap_or_default(),
            })
            .collect()
    }

    /// Score and reasons for one pair, when the profiles allow it at all.
    pub fn explain(
        &self,
        seeker: Uuid,
        candidate: Uuid,
        kind: Kind,
    ) -> Option<matcher::Explanation> {
        self.index
            .read()
            .ok()?
            .explain(person(seeker), person(candidate), kind, &VOCABULARY)
    }

    /// One page of the directory for `viewer`, from the index alone: practitioners who pass
    /// `filter`, neither blocking nor blocked by the viewer, in order of (shown distance, id)
    /// when `near` is given and of id otherwise, after `after`. Returns each one's id with
    /// its shown distance (when `near`), and whether more follow. The work is bounded by the
    /// index, never by the database.
    pub fn directory(
        &self,
        viewer: Uuid,
        filter: &DirectoryFilter,
        near: Option<((f64, f64), u32)>,
        after: Option<(Option<u32>, Uuid)>,
        limit: usize,
    ) -> (Vec<(Uuid, Option<u32>)>, bool) {
        let (Ok(index), Ok(relations)) = (self.index.read(), self.relations.read()) else {
            return (Vec::new(), false);
        };
        // Those blocked either way with the viewer, found once rather than looked up for
        // everyone near.
        let blocked = relations.blocked.of(viewer);
        let keep = |p: &matcher::Profile| {
            let id = user_id(p.id);
            id != viewer && filter.admits(p) && !blocked.is_some_and(|b| b.contains(&id))
        };
        let mut page = DirectoryPage::new(after, limit);
        match near {
            Some(((lat, lon), km)) => {
                let shown = |p: &matcher::Profile| {
                    crate::privacy::public_distance_km((lat, lon), (p.location.lat, p.location.lon))
                };
                if km <= WIDE_RADIUS_KM {
                    // Candidates a little beyond the radius from the spatial grid; the shown
                    // distance decides. Once the page is full, whoever is certainly shown
                    // farther than its farthest is passed over without working it out.
                    let here = crate::privacy::snap(lat, lon);
                    let radius = km as f32 + 10.0;
                    index.visit_within(here, radius, filter.profession, |p, arc_km| {
                        if page.beyond(arc_km) || !keep(p) {
                            return;
                        }
                        let distance = shown(p);
                        if distance <= km {
                            page.offer((distance, user_id(p.id)));
                        }
                    });
                } else {
                    // A wide radius covers much of the population: one pass is cheaper than
                    // collecting and sorting every grid hit.
                    for p in index.profiles() {
                        if filter.profession.is_none_or(|f| f == p.profession) && keep(p) {
                            let distance = shown(p);
                            if distance <= km {
                                page.offer((distance, user_id(p.id)));
                            }
                        }
                    }
                }
            }
            None => {
                for p in index.profiles() {
                    if filter.profession.is_none_or(|f| f == p.profession) && keep(p) {
                        page.offer((0, user_id(p.id)));
                    }
                }
            }
        }
        let mut page = page.best.into_sorted_vec();
        let more = page.len() > limit;
        page.truncate(limit);
        let page = page
            .into_iter()
            .map(|(distance, id)| (id, near.map(|_| distance)))
            .collect();
        (page, more)
    }

    pub fn isolation(&self, id: Uuid) -> Option<matcher::Isolation> {
        self.index
            .read()
            .ok()?
            .isolation(person(id), &IsolationConfig::default())
    }

    /// Isolation of everyone, for the admin figures.
    pub fn isolated_count(&self) -> usize {
        self.index.read().map_or(0, |index| {
            index
                .isolation_all(&IsolationConfig::default())
                .iter()
                .filter(|(_, i)| i.is_isolated())
                .count()
        })
    }

    /// How many practitioners the index holds.
    pub fn population(&self) -> usize {
        self.index.read().map_or(0, |index| index.len())
    }

    /// How many a mentorship round would be over now.
    pub fn waiting_for_mentor(&self) -> usize {
        let (Ok(index), Ok(relations)) = (self.index.read(), self.relations.read()) else {
            return 0;
        };
        waiting_for_mentor(&index, &relations).len()
    }

    /// A mentorship round over everyone waiting for a mentor.
    pub fn round(
        &self,
        solver: matcher::round::Solver,
    ) -> Result<RoundOutcome, matcher::round::RoundError> {
        let (Ok(index), Ok(relations)) = (self.index.read(), self.relations.read()) else {
            return Ok(RoundOutcome::default());
        };
        let now = Utc::now();
        let mentees = waiting_for_mentor(&index, &relations);
        let exclude = |a: PersonId, b: PersonId| relations.excludes(user_id(a), user_id(b), now);
        let clock = std::time::Instant::now();
        let round = index.mentorship_round(&mentees, 50, &IsolationConfig::default(), &exclude);
        tracing::debug!(elapsed = ?clock.elapsed(), mentees = mentees.len(), "round candidates found");
        let report = round.instance.solve(solver)?;
        tracing::debug!(elapsed = ?clock.elapsed(), "round solved");
        Ok(RoundOutcome {
            proposals: round
                .proposals(&report)
                .into_iter()
                .map(|p| (user_id(p.mentee), user_id(p.mentor), p.score))
                .collect(),
            unmatched: round.unmatched(&report).into_iter().map(user_id).collect(),
            blocking_pairs: report.blocking_pairs,
            total_score: report.total_score,
            objective: report.objective,
            elapsed_ms: report.elapsed.as_secs_f64() * 1000.0,
        })
    }
    /// Circles for `seekers`, the most isolated placed first; no blocked pair shares a
    /// circle. The upper bound is costly (one search per seeker) and computed only when
    /// asked for.
    pub fn form_circles(
        &self,
        seekers: &[Uuid],
        rules: &matcher::circles::CircleRules,
        with_bound: bool,
    ) -> CircleOutcome {
        let (Ok(index), Ok(relations)) = (self.index.read(), self.relations.read()) else {
            return CircleOutcome::default();
        };
        let asked = with_isolation(&index, seekers.iter().copied());
        let exclude = |a: PersonId, b: PersonId| relations.blocked_pair(a, b);
        let formed = index.form_circles(&asked, rules, &exclude);
        let bound = with_bound.then(|| index.circle_bound(&asked, rules, &exclude));
        CircleOutcome {
            circles: formed
                .circles
                .iter()
                .map(|c| {
                    (
                        c.members.iter().copied().map(user_id).collect(),
                        c.mean_score,
                    )
                })
                .collect(),
            unplaced: formed
                .unplaced
                .iter()
                .map(|(id, why)| (user_id(*id), why.code()))
                .collect(),
            objective: formed.objective,
            greedy_objective: formed.greedy_objective,
            upper_bound: bound,
            elapsed_ms: formed.elapsed.as_secs_f64() * 1000.0,
        }
    }
}

impl Matching {
    /// Of `waiting`, the best `take` to offer a free seat in a circle of `members`: those
    /// who would add most to it, never anyone blocked with a member, the most isolated
    /// weighing most.
    pub fn best_for_circle(
        &self,
        members: &[Uuid],
        waiting: &[Uuid],
        rules: &matcher::circles::CircleRules,
        take: usize,
    ) -> Vec<Uuid> {
        let (Ok(index), Ok(relations)) = (self.index.read(), self.relations.read()) else {
            return Vec::new();
        };
        let waiting = with_isolation(
            &index,
            waiting.iter().copied().filter(|id| !members.contains(id)),
        );
        let members: Vec<PersonId> = members.iter().copied().map(person).collect();
        let exclude = |a: PersonId, b: PersonId| relations.blocked_pair(a, b);
        index
            .best_for_circle(&members, &waiting, rules, &exclude)
            .into_iter()
            .take(take)
            .map(|(id, _)| user_id(id))
            .collect()
    }
}

/// Each of `ids` with their isolation score: how much placing them first is worth.
fn with_isolation(index: &Index, ids: impl Iterator<Item = Uuid>) -> Vec<(PersonId, f32)> {
    let config = IsolationConfig::default();
    ids.map(|id| {
        let isolation = index
            .isolation(person(id), &config)
            .map_or(0.0, |i| i.score);
        (person(id), isolation)
    })
    .collect()
}

/// Circles as a formation round found them, by account.
#[derive(Default)]
pub struct CircleOutcome {
    /// Members, most isolated first, with their mean pairwise score.
    pub circles: Vec<(Vec<Uuid>, f64)>,
    pub unplaced: Vec<(Uuid, &'static str)>,
    pub objective: f64,
    pub greedy_objective: f64,
    pub upper_bound: Option<f64>,
    pub elapsed_ms: f64,
}

#[derive(Default)]
pub struct RoundOutcome {
    pub proposals: Vec<(Uuid, Uuid, f64)>,
    pub unmatched: Vec<Uuid>,
    /// Pairs who would both rather have each other than what the round gave them.
    pub blocking_pairs: usize,
    pub total_score: f64,
    pub objective: f64,
    pub elapsed_ms: f64,
}

/// Keeps the index fresh with other instances' changes until shutdown.
pub async fn run_refresher(
    matching: std::sync::Arc<Matching>,
    db: sea_orm::DatabaseConnection,
    every: std::time::Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => break,
        }
        if let Err(error) = matching.poll(&db).await {
            tracing::warn!(%error, "cannot refresh the matching index");
        }
    }
}
