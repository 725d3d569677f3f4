//! Profiles and their tags (populations, settings, languages, interests).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    sea_query::{Expr, ExprTrait, Query},
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::bulk::{CopyRows, FromCopy};
use super::entities::{
    location_changes,
    profile_tags::{self, Entity as ProfileTags},
    profiles::{self, Entity as Profiles},
    users,
};
use crate::domain::profile::ProfileData;

pub use profiles::Model as ProfileRow;

pub const POPULATION: &str = "population";
pub const SETTING: &str = "setting";
pub const LANGUAGE: &str = "language";
pub const INTEREST: &str = "interest";

/// Ids per `IN (...)` list.
pub const ID_CHUNK: usize = 5000;

/// A profile as stored: the row and its tags, in the order they were given.
#[derive(Clone, Debug)]
pub struct StoredProfile {
    pub row: ProfileRow,
    pub populations: Vec<String>,
    pub settings: Vec<String>,
    pub languages: Vec<String>,
    pub interests: Vec<String>,
}

impl StoredProfile {
    pub fn location(&self) -> (f64, f64) {
        (self.row.latitude, self.row.longitude)
    }
}

/// Where the nearest town is, found offline from the coordinates.
pub struct PlaceName {
    pub name: String,
    pub region: String,
    pub country_code: String,
}

pub async fn save(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    data: &ProfileData,
    place: PlaceName,
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    let existing = Profiles::find_by_id(user_id).one(db).await?;
    let created_at = existing.as_ref().map_or(now, |p| p.created_at);
    fn codes<T: AsRef<str>>(list: &[T]) -> Vec<String> {
        list.iter().map(|c| c.as_ref().to_owned()).collect()
    }
    let tags = [
        (POPULATION, codes(&data.populations)),
        (SETTING, codes(&data.settings)),
        (LANGUAGE, codes(&data.languages)),
        (INTEREST, data.interests.clone()),
    ];
    let numbered = || {
        tags.iter().flat_map(|(kind, codes)| {
            codes
                .iter()
                .zip(0..)
                .map(move |(code, position)| (*kind, position, code.as_str()))
        })
    };
    let row = profiles::ActiveModel {
        user_id: Set(user_id),
        profession: Set(data.profession.as_str().to_owned()),
        latitude: Set(data.location.latitude()),
        longitude: Set(data.location.longitude()),
        years_experience: Set(data.years_experience),
        bio: Set(data.bio.clone()),
        timezone: Set(data.timezone.as_str().to_owned()),
        meets_virtual: Set(data.meets_virtual),
        meets_in_person: Set(data.meets_in_person),
        max_travel_km: Set(data.max_travel_km),
        works_alone: Set(data.works_alone),
        seeking_peers: Set(data.seeking.peers),
        seeking_mentor: Set(data.seeking.mentor),
        mentoring_offering: Set(data.mentoring_offering),
        mentoring_capacity: Set(data.mentoring_capacity),
        mentoring_paused_until: Set(data.mentoring_paused_until),
        place_name: Set(place.name),
        place_region: Set(place.region),
        place_country_code: Set(place.country_code),
        created_at: Set(created_at),
        updated_at: Set(now),
        tag_list: Set(tag_list(numbered())),
    };
    if existing.is_some() {
        row.update(db).await?;
    } else {
        row.insert(db).await?;
    }

    ProfileTags::delete_many()
        .filter(profile_tags::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    let rows: Vec<profile_tags::ActiveModel> = numbered()
        .map(|(kind, position, code)| profile_tags::ActiveModel {
            user_id: Set(user_id),
            kind: Set(kind.to_owned()),
            code: Set(code.to_owned()),
            position: Set(position),
        })
        .collect();
    ProfileTags::insert_many(rows)
        .exec_without_returning(db)
        .await?;

    users::ActiveModel {
        id: Set(user_id),
        display_name: Set(data.display_name.as_str().to_owned()),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(db)
    .await
    .map(drop)
}

/// Pauses a mentor's mentoring until `until`, unless they do not offer it or are paused
/// already; true when it paused them.
pub async fn pause_mentoring(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    until: NaiveDate,
    now: DateTime<Utc>,
) -> Result<bool, sea_orm::DbErr> {
    use sea_orm::sea_query::Expr;
    let done = Profiles::update_many()
        .col_expr(
            profiles::Column::MentoringPausedUntil,
            Expr::value(Some(until)),
        )
        .col_expr(profiles::Column::UpdatedAt, Expr::value(now))
        .filter(profiles::Column::UserId.eq(user_id))
        .filter(profiles::Column::MentoringOffering.eq(true))
        .filter(
            Condition::any()
                .add(profiles::Column::MentoringPausedUntil.is_null())
                .add(profiles::Column::MentoringPausedUntil.lte(now.date_naive())),
        )
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

pub async fn load(
    db: &impl ConnectionTrait,
    user_id: Uuid,
) -> Result<Option<StoredProfile>, sea_orm::DbErr> {
    let Some(row) = Profiles::find_by_id(user_id).one(db).await? else {
        return Ok(None);
    };
    Ok(attach_tags(db, vec![row]).await?.pop())
}

/// Adds each profile's tags, keeping the order of `rows`.
pub async fn attach_tags(
    db: &impl ConnectionTrait,
    rows: Vec<ProfileRow>,
) -> Result<Vec<StoredProfile>, sea_orm::DbErr> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = rows.iter().map(|r| r.user_id).collect();
    let mut by_user: HashMap<Uuid, Vec<profile_tags::Model>> = HashMap::new();
    // Chunks keep each IN list far below SQLite's limit on bound parameters.
    for chunk in ids.chunks(ID_CHUNK) {
        let tags = ProfileTags::find()
            .filter(profile_tags::Column::UserId.is_in(chunk.to_vec()))
            .order_by_asc(profile_tags::Column::Position)
            .all(db)
            .await?;
        for tag in tags {
            by_user.entry(tag.user_id).or_default().push(tag);
        }
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let tags = by_user.remove(&row.user_id).unwrap_or_default();
            let of = |kind: &str| -> Vec<String> {
                tags.iter()
                    .filter(|t| t.kind == kind)
                    .map(|t| t.code.clone())
                    .collect()
            };
            StoredProfile {
                populations: of(POPULATION),
                settings: of(SETTING),
                languages: of(LANGUAGE),
                interests: of(INTEREST),
                row,
            }
        })
        .collect())
}

/// Ids of verified, active accounts: the only ones anybody else may see.
/// Those of `ids` whose accounts are visible, as one bounded query (the subquery is
/// limited to the same ids, so it never scans every account).
pub fn visible_among(ids: Vec<Uuid>) -> Condition {
    Condition::all()
        .add(profiles::Column::UserId.is_in(ids.clone()))
        .add(
            Expr::col((profiles::Entity, profiles::Column::UserId)).in_subquery(
                Query::select()
                    .column(users::Column::Id)
                    .from(users::Entity)
                    .and_where(Expr::col(users::Column::Id).is_in(ids))
                    .and_where(Expr::col(users::Column::EmailVerified).eq(true))
                    .and_where(Expr::col(users::Column::Suspended).eq(false))
                    .to_owned(),
            ),
        )
}

pub fn visible_users() -> Condition {
    Condition::all().add(
        Expr::col((profiles::Entity, profiles::Column::UserId)).in_subquery(
            Query::select()
                .column(users::Column::Id)
                .from(users::Entity)
                .and_where(Expr::col(users::Column::EmailVerified).eq(true))
                .and_where(Expr::col(users::Column::Suspended).eq(false))
                .to_owned(),
        ),
    )
}

/// Profiles holding a tag of `kind` among `codes`: each candidate's own tags, looked up by
/// the tag table's primary key (a code is held by a fifth of everyone or more, so a lookup
/// by code would read far more than the candidates the other conditions leave).
pub fn has_tag(kind: &str, codes: Vec<String>) -> Condition {
    Condition::all().add(Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(profile_tags::Entity)
            .and_where(
                Expr::col((profile_tags::Entity, profile_tags::Column::UserId))
                    .equals((profiles::Entity, profiles::Column::UserId)),
            )
            .and_where(Expr::col((profile_tags::Entity, profile_tags::Column::Kind)).eq(kind))
            .and_where(Expr::col((profile_tags::Entity, profile_tags::Column::Code)).is_in(codes))
            .to_owned(),
    ))
}

/// A latitude/longitude box that contains every point within `km` of the centre (wider
/// where it must be: near the poles or across the antimeridian it drops the longitude
/// bound).
pub fn bounding_box(lat: f64, lon: f64, km: f64) -> Condition {
    let dlat = km / 111.0;
    let mut condition = Condition::all()
        .add(profiles::Column::Latitude.gte(lat - dlat))
        .add(profiles::Column::Latitude.lte(lat + dlat));
    let widest = (lat.abs() + dlat).min(90.0);
    if widest < 89.0 {
        let dlon = km / (111.0 * widest.to_radians().cos());
        if lon - dlon >= -180.0 && lon + dlon <= 180.0 {
            condition = condition
                .add(profiles::Column::Longitude.gte(lon - dlon))
                .add(profiles::Column::Longitude.lte(lon + dlon));
        }
    }
    condition
}

pub fn mentor_with_free_slot(today: NaiveDate) -> Condition {
    Condition::all()
        .add(profiles::Column::MentoringOffering.eq(true))
        .add(Expr::cust(
            "profiles.mentoring_capacity > (SELECT COUNT(*) FROM connections \
             WHERE connections.recipient_id = profiles.user_id \
             AND connections.kind = 'mentorship' AND connections.status = 'accepted')",
        ))
        .add(
            Condition::any()
                .add(profiles::Column::MentoringPausedUntil.is_null())
                .add(profiles::Column::MentoringPausedUntil.lte(today)),
        )
}

pub async fn find(
    db: &impl ConnectionTrait,
    condition: Condition,
    after: Option<Uuid>,
    limit: Option<u64>,
) -> Result<Vec<ProfileRow>, sea_orm::DbErr> {
    let mut query = Profiles::find()
        .filter(condition)
        .order_by_asc(profiles::Column::UserId);
    if let Some(after) = after {
        query = query.filter(profiles::Column::UserId.gt(after));
    }
    if let Some(limit) = limit {
        query = query.limit(limit);
    }
    query.all(db).await
}

pub async fn location_changes_since(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    since: DateTime<Utc>,
) -> Result<Vec<DateTime<Utc>>, sea_orm::DbErr> {
    location_changes(db, user_id, Some(since)).await
}

pub async fn all_location_changes(
    db: &impl ConnectionTrait,
    user_id: Uuid,
) -> Result<Vec<DateTime<Utc>>, sea_orm::DbErr> {
    location_changes(db, user_id, None).await
}

async fn location_changes(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    since: Option<DateTime<Utc>>,
) -> Result<Vec<DateTime<Utc>>, sea_orm::DbErr> {
    let mut query = location_changes::Entity::find()
        .filter(location_changes::Column::UserId.eq(user_id))
        .order_by_asc(location_changes::Column::ChangedAt);
    if let Some(since) = since {
        query = query.filter(location_changes::Column::ChangedAt.gt(since));
    }
    Ok(query
        .all(db)
        .await?
        .into_iter()
        .map(|c| c.changed_at)
        .collect())
}

pub async fn record_location_change(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    location_changes::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        changed_at: Set(now),
    }
    .insert(db)
    .await
    .map(drop)
}

pub async fn count(db: &impl ConnectionTrait) -> Result<u64, sea_orm::DbErr> {
    Profiles::find().count(db).await
}

/// One practitioner as the live index and its read model need them: the profile with its
/// tags, the account's standing and name, and how many mentees they have.
pub struct Loaded {
    pub stored: StoredProfile,
    pub display_name: String,
    pub email_verified: bool,
    pub suspended: bool,
    /// A mentor away too long, left out as a mentor until they return.
    pub dormant: bool,
    pub account_updated_at: DateTime<Utc>,
    pub accepted_mentees: u64,
}

/// Which profiles [`load_for_index`] reads.
pub enum Selection<'a> {
    /// These practitioners.
    Ids(&'a [Uuid]),
    /// The profiles after `after` and up to `until` (inclusive), in no order, with
    /// `accepted_mentees` left at 0: [`super::connections::accepted_counts`] counts
    /// everyone's at once, cheaper
    /// than a count beside every row.
    Range {
        after: Option<Uuid>,
        until: Option<Uuid>,
    },
}

/// Separates kinds from codes, and tags from tags, in the tag list column.
const UNIT_SEPARATOR: char = '\u{1f}';
const RECORD_SEPARATOR: char = '\u{1e}';

/// A profile's tags as its `tag_list` column keeps them: `kind␟position␟code`, joined by
/// `␞`. Written with the profile row, in the transaction that writes its `profile_tags`.
pub fn tag_list<'a>(tags: impl IntoIterator<Item = (&'a str, i32, &'a str)>) -> String {
    let mut list = String::new();
    for (kind, position, code) in tags {
        if !list.is_empty() {
            list.push(RECORD_SEPARATOR);
        }
        list.push_str(kind);
        list.push(UNIT_SEPARATOR);
        list.push_str(&position.to_string());
        list.push(UNIT_SEPARATOR);
        list.push_str(code);
    }
    list
}

/// The columns of one loaded practitioner, in the order of each row of the page document.
const LOADED_COLUMNS: [&str; 27] = [
    "p.user_id",
    "p.profession",
    "p.latitude",
    "p.longitude",
    "p.years_experience",
    "p.bio",
    "p.timezone",
    "p.meets_virtual",
    "p.meets_in_person",
    "p.max_travel_km",
    "p.works_alone",
    "p.seeking_peers",
    "p.seeking_mentor",
    "p.mentoring_offering",
    "p.mentoring_capacity",
    "p.mentoring_paused_until",
    "p.place_name",
    "p.place_region",
    "p.place_country_code",
    "p.created_at",
    "p.updated_at",
    "u.display_name",
    "u.email_verified",
    "u.suspended",
    "u.updated_at",
    "p.tag_list",
    "u.dormant",
];

/// Profiles with everything the index needs, in one query that answers one JSON document
/// for the whole page: each profile with its account, its tags (its `tag_list` column) and
/// its accepted mentees, read beside the profile row by an index lookup. One row per page
/// instead of one per profile: on SQLite each row crosses a thread, and that handing over,
/// not the reading, was most of the start-up time.
pub async fn load_for_index(
    db: &impl ConnectionTrait,
    selection: Selection<'_>,
) -> Result<LoadedPage, sea_orm::DbErr> {
    use sea_orm::{DbBackend, Statement, Value};
    let backend = db.get_database_backend();
    let postgres = backend == DbBackend::Postgres;
    let mut values: Vec<Value> = Vec::new();
    let mut bind = |value: Value| {
        values.push(value);
        if postgres {
            format!("${}", values.len())
        } else {
            "?".to_owned()
        }
    };
    let (filter, accepted) = match selection {
        Selection::Ids(ids) => {
            let list: Vec<String> = ids.iter().map(|id| bind((*id).into())).collect();
            (
                format!(" WHERE p.user_id IN ({})", list.join(", ")),
                "(SELECT COUNT(*) FROM connections c WHERE c.recipient_id = p.user_id \
                 AND c.status = 'accepted' AND c.kind = 'mentorship')",
            )
        }
        Selection::Range { after, until } => (
            range_filter(after, until, |id| bind(id.into())),
            NOT_COUNTED,
        ),
    };
    let rows = format!(
        "SELECT p.*, u.display_name AS u_display_name, u.email_verified AS u_email_verified, \
         u.suspended AS u_suspended, u.updated_at AS u_updated_at, u.dormant AS u_dormant, \
         {accepted} AS accepted_mentees FROM profiles p JOIN users u ON u.id = p.user_id{filter}"
    );
    if postgres {
        // A few practitioners (a change seen; whole ranges go by `load_range_for_index`):
        // rows as they are, each column read by its place.
        let fields: Vec<String> = LOADED_COLUMNS
            .iter()
            .map(|c| c.replace("u.", "p.u_"))
            .collect();
        let sql = format!(
            "SELECT {}, p.accepted_mentees FROM ({rows}) p",
            fields.join(", ")
        );
        let rows = db
            .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
        return Ok(LoadedPage::Rows(rows));
    }
    // On SQLite every row crosses from the database's thread to the caller's, and that
    // handing over, not the reading, was most of the start-up time: the page comes as one
    // JSON document instead. Ids as text, and doubles with every digit they have (SQLite's
    // JSON would round them).
    let fields: Vec<String> = LOADED_COLUMNS
        .iter()
        .map(|c| match *c {
            "p.user_id" => "lower(hex(p.user_id))".to_owned(),
            "p.latitude" | "p.longitude" => format!("printf('%!.17g', {c})"),
            c => c.replace("u.", "p.u_"),
        })
        .collect();
    let sql = format!(
        "SELECT json_group_array(json_array({}, accepted_mentees)) AS page FROM ({rows}) p",
        fields.join(", ")
    );
    let row = db
        .query_one_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    let page: Option<String> = match row {
        Some(row) => row.try_get("", "page")?,
        None => None,
    };
    Ok(LoadedPage::Document(page))
}

/// The practitioners of a [`Selection::Range`], as [`load_for_index`] reads them, but on
/// PostgreSQL by one binary `COPY` of the range: reading rows of a query cost more than
/// everything else at start-up together (a type check and a copy for every column of every
/// row); the copy is read in place.
pub async fn load_range_for_index(
    db: &sea_orm::DatabaseConnection,
    after: Option<Uuid>,
    until: Option<Uuid>,
) -> Result<LoadedPage, sea_orm::DbErr> {
    if !super::is_postgres(db) {
        return load_for_index(db, Selection::Range { after, until }).await;
    }
    // `COPY` takes no parameters: the ids are written in, and a `Uuid` prints as hex digits
    // and hyphens only.
    let filter = range_filter(after, until, |id| format!("'{id}'"));
    let statement = format!(
        "COPY (SELECT {}, {NOT_COUNTED} FROM profiles p JOIN users u ON u.id = p.user_id\
         {filter}) TO STDOUT (FORMAT binary)",
        LOADED_COLUMNS.join(", ")
    );
    Ok(LoadedPage::Copy(
        super::bulk::copy_out(db, &statement).await?,
    ))
}

/// The accepted mentees of a range's rows, left at 0: [`super::connections::accepted_counts`]
/// counts everyone's at once, cheaper than a count beside every row.
const NOT_COUNTED: &str = "CAST(0 AS BIGINT)";

/// The `WHERE` clause that keeps the ids after `after` and up to `until` (inclusive), or
/// nothing when neither is set; `value` writes an id into the statement. The range bounds
/// the accounts (`u`) as well as the profiles (`p`): with the join alone, once PostgreSQL
/// has statistics it hashes every account for each page (a million: ready in 15-17 s
/// instead of 7-9 s), where with both ranges it merges two index ranges.
fn range_filter(
    after: Option<Uuid>,
    until: Option<Uuid>,
    mut value: impl FnMut(Uuid) -> String,
) -> String {
    let mut conditions = Vec::new();
    for column in ["p.user_id", "u.id"] {
        if let Some(after) = after {
            conditions.push(format!("{column} > {}", value(after)));
        }
        if let Some(until) = until {
            conditions.push(format!("{column} <= {}", value(until)));
        }
    }
    if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    }
}

/// A page of [`load_for_index`] as the database answered it. Decoding it is CPU work that
/// belongs off the async threads, by [`LoadedPage::decode`].
pub enum LoadedPage {
    /// A row per practitioner (PostgreSQL, a few by id).
    Rows(Vec<sea_orm::QueryResult>),
    /// PostgreSQL's binary copy of a range of practitioners.
    Copy(Vec<u8>),
    /// One JSON document for the page (SQLite).
    Document(Option<String>),
}

impl LoadedPage {
    pub fn decode(self) -> Result<Vec<Loaded>, sea_orm::DbErr> {
        match self {
            LoadedPage::Rows(rows) => rows
                .iter()
                .map(|row| loaded_from(&mut ByPosition { row, at: 0 }))
                .collect(),
            LoadedPage::Copy(data) => {
                CopyRows::read_all(&data, LOADED_COLUMNS.len() + 1, loaded_from)
            }
            LoadedPage::Document(None) => Ok(Vec::new()),
            LoadedPage::Document(Some(page)) => {
                let rows: Vec<Vec<serde_json::Value>> =
                    serde_json::from_str(&page).map_err(|e| {
                        sea_orm::DbErr::Custom(format!("the profiles page is not JSON: {e}"))
                    })?;
                rows.iter().map(|row| loaded(row)).collect()
            }
        }
    }
}

/// Adds the tags of a [`tag_list`] (`kind␟position␟code` joined by `␞`, in any order),
/// each kind's in the order of their positions.
fn add_tags(stored: &mut StoredProfile, tags: &str) {
    let mut parsed: Vec<(&str, i64, &str)> = tags
        .split(RECORD_SEPARATOR)
        .filter_map(|tag| {
            let mut parts = tag.splitn(3, UNIT_SEPARATOR);
            let (kind, position, code) = (parts.next()?, parts.next()?, parts.next()?);
            Some((kind, position.parse().ok()?, code))
        })
        .collect();
    parsed.sort_unstable_by_key(|&(kind, position, _)| (kind, position));
    for (kind, _, code) in parsed {
        let list = match kind {
            POPULATION => &mut stored.populations,
            SETTING => &mut stored.settings,
            LANGUAGE => &mut stored.languages,
            INTEREST => &mut stored.interests,
            _ => continue,
        };
        list.push(code.to_owned());
    }
}

fn untagged(row: ProfileRow) -> StoredProfile {
    StoredProfile {
        row,
        populations: Vec::new(),
        settings: Vec::new(),
        languages: Vec::new(),
        interests: Vec::new(),
    }
}

/// Reads the columns of a loaded practitioner one after another: those of
/// [`LOADED_COLUMNS`], then the count of accepted mentees.
trait NextColumn<T> {
    fn next_column(&mut self) -> Result<T, sea_orm::DbErr>;
}

/// A row of a query on PostgreSQL, read by position (finding 28 columns by name in every
/// row cost more than the reading).
struct ByPosition<'a> {
    row: &'a sea_orm::QueryResult,
    at: usize,
}

impl<T: sea_orm::TryGetable> NextColumn<T> for ByPosition<'_> {
    fn next_column(&mut self) -> Result<T, sea_orm::DbErr> {
        let value = self.row.try_get_by_index(self.at)?;
        self.at += 1;
        Ok(value)
    }
}

impl<T: FromCopy> NextColumn<T> for CopyRows<'_> {
    fn next_column(&mut self) -> Result<T, sea_orm::DbErr> {
        self.field_as()
    }
}

/// One practitioner from a query's row or a binary copy (PostgreSQL).
fn loaded_from<R>(r: &mut R) -> Result<Loaded, sea_orm::DbErr>
where
    R: NextColumn<Uuid>
        + NextColumn<String>
        + NextColumn<Option<String>>
        + NextColumn<f64>
        + NextColumn<i32>
        + NextColumn<Option<i32>>
        + NextColumn<bool>
        + NextColumn<Option<NaiveDate>>
        + NextColumn<DateTime<Utc>>
        + NextColumn<i64>,
{
    // Struct fields are read in the order they are written here: the columns' order.
    let mut stored = untagged(ProfileRow {
        user_id: r.next_column()?,
        profession: r.next_column()?,
        latitude: r.next_column()?,
        longitude: r.next_column()?,
        years_experience: r.next_column()?,
        bio: r.next_column()?,
        timezone: r.next_column()?,
        meets_virtual: r.next_column()?,
        meets_in_person: r.next_column()?,
        max_travel_km: r.next_column()?,
        works_alone: r.next_column()?,
        seeking_peers: r.next_column()?,
        seeking_mentor: r.next_column()?,
        mentoring_offering: r.next_column()?,
        mentoring_capacity: r.next_column()?,
        mentoring_paused_until: r.next_column()?,
        place_name: r.next_column()?,
        place_region: r.next_column()?,
        place_country_code: r.next_column()?,
        created_at: r.next_column()?,
        updated_at: r.next_column()?,
        // Read into the lists below, not kept twice.
        tag_list: String::new(),
    });
    let display_name = r.next_column()?;
    let email_verified = r.next_column()?;
    let suspended = r.next_column()?;
    let account_updated_at = r.next_column()?;
    let tags: String = r.next_column()?;
    add_tags(&mut stored, &tags);
    let dormant = r.next_column()?;
    let accepted: i64 = r.next_column()?;
    Ok(Loaded {
        stored,
        display_name,
        email_verified,
        suspended,
        dormant,
        account_updated_at,
        accepted_mentees: u64::try_from(accepted).unwrap_or(0),
    })
}

/// One practitioner from a row of the page document (SQLite).
fn loaded(row: &[serde_json::Value]) -> Result<Loaded, sea_orm::DbErr> {
    use serde_json::Value as J;
    let bad = |what: &str| sea_orm::DbErr::Custom(format!("a loaded profile has a bad {what}"));
    let at = |n: usize| row.get(n).unwrap_or(&J::Null);
    let text = |n: usize| at(n).as_str().map(str::to_owned);
    let needed = |n: usize, what: &str| text(n).ok_or_else(|| bad(what));
    // SQLite keeps booleans as integers.
    let flag = |n: usize| match at(n) {
        J::Bool(b) => *b,
        J::Number(v) => v.as_i64().is_some_and(|v| v != 0),
        _ => false,
    };
    let int = |n: usize| at(n).as_i64().and_then(|v| i32::try_from(v).ok());
    let float = |n: usize, what: &str| {
        match at(n) {
            J::String(s) => s.parse::<f64>().ok(),
            J::Number(v) => v.as_f64(),
            _ => None,
        }
        .ok_or_else(|| bad(what))
    };
    let time = |n: usize, what: &str| {
        text(n)
            .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| bad(what))
    };
    let user_id = Uuid::parse_str(&needed(0, "id")?).map_err(|_| bad("id"))?;
    let mut stored = untagged(ProfileRow {
        user_id,
        profession: needed(1, "profession")?,
        latitude: float(2, "latitude")?,
        longitude: float(3, "longitude")?,
        years_experience: int(4).ok_or_else(|| bad("years of experience"))?,
        bio: text(5),
        timezone: needed(6, "time zone")?,
        meets_virtual: flag(7),
        meets_in_person: flag(8),
        max_travel_km: int(9),
        works_alone: flag(10),
        seeking_peers: flag(11),
        seeking_mentor: flag(12),
        mentoring_offering: flag(13),
        mentoring_capacity: int(14).unwrap_or(0),
        mentoring_paused_until: text(15).and_then(|d| d.parse::<NaiveDate>().ok()),
        place_name: text(16).unwrap_or_default(),
        place_region: text(17).unwrap_or_default(),
        place_country_code: text(18).unwrap_or_default(),
        created_at: time(19, "creation time")?,
        updated_at: time(20, "update time")?,
        tag_list: String::new(),
    });
    add_tags(&mut stored, text(25).as_deref().unwrap_or(""));
    Ok(Loaded {
        stored,
        display_name: text(21).unwrap_or_default(),
        email_verified: flag(22),
        suspended: flag(23),
        dormant: flag(26),
        account_updated_at: time(24, "account update time")?,
        accepted_mentees: at(27).as_u64().unwrap_or(0),
    })
}

/// The id that ends every `page`-th profile in id order, or a smaller page when that makes
/// fewer than `pages` of them. Cut there, the profiles fall into ranges of that size (and a
/// last, shorter one), each read by a range query with no sort and
/// no limit: cheap whichever plan the database picks for it, statistics or none. The ids
/// are read in no order and sorted here, which costs the database one scan instead of a
/// sort (at a million, 0.6 s instead of 1.3); on PostgreSQL by a binary copy, read in place.
pub async fn page_ends(
    db: &sea_orm::DatabaseConnection,
    page: u64,
    pages: usize,
) -> Result<Vec<Uuid>, sea_orm::DbErr> {
    let mut ids: Vec<Uuid> = if super::is_postgres(db) {
        let data = super::bulk::copy_out(
            db,
            "COPY (SELECT user_id FROM profiles) TO STDOUT (FORMAT binary)",
        )
        .await?;
        CopyRows::read_all(&data, 1, CopyRows::field_as)?
    } else {
        Profiles::find()
            .select_only()
            .column(profiles::Column::UserId)
            .into_tuple()
            .all(db)
            .await?
    };
    ids.sort_unstable();
    let page = usize::try_from(page)
        .unwrap_or(usize::MAX)
        .min(ids.len().div_ceil(pages.max(1)))
        .max(1);
    Ok(ids.into_iter().skip(page - 1).step_by(page).collect())
}
