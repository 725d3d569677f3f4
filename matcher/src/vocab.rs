//! Controlled vocabularies and the wording used in reasons.
//!
//! Profiles carry small integer ids; this table turns them back into codes and into the
//! phrases a clinician reads ("You both work with older adults"). The api may use
//! [`Vocabulary::standard`] as its single list or build its own with the same shape.

/// One entry of a controlled list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Term {
    /// Stable machine code, e.g. `older_adults`.
    pub code: String,
    /// Display label, e.g. `Older adults`.
    pub label: String,
    /// The words that fit into a sentence, e.g. `older adults` or `occupational therapists`.
    pub phrase: String,
}

impl Term {
    fn new(code: &str, label: &str, phrase: &str) -> Self {
        Self {
            code: code.to_owned(),
            label: label.to_owned(),
            phrase: phrase.to_owned(),
        }
    }
}

/// The lists a profile's ids refer to. An id is the position in its list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vocabulary {
    /// Phrases are plural nouns: "You are both {phrase}".
    pub professions: Vec<Term>,
    /// Phrases complete "You both work with {phrase}".
    pub populations: Vec<Term>,
    /// Phrases complete "You both practise in {phrase}".
    pub settings: Vec<Term>,
    /// ISO 639-1 codes; common ones first so they get the cheapest ids.
    pub languages: Vec<String>,
}

pub(crate) const PROFESSIONS: &[(&str, &str, &str)] = &[
    (
        "occupational_therapy",
        "Occupational therapy",
        "occupational therapists",
    ),
    ("physiotherapy", "Physiotherapy", "physiotherapists"),
    (
        "speech_pathology",
        "Speech pathology",
        "speech pathologists",
    ),
    ("dietetics", "Dietetics", "dietitians"),
    ("social_work", "Social work", "social workers"),
    ("psychology", "Psychology", "psychologists"),
    ("podiatry", "Podiatry", "podiatrists"),
    ("audiology", "Audiology", "audiologists"),
    (
        "exercise_physiology",
        "Exercise physiology",
        "exercise physiologists",
    ),
    (
        "orthotics_prosthetics",
        "Orthotics and prosthetics",
        "orthotists and prosthetists",
    ),
    (
        "allied_health_assistant",
        "Allied health assistant",
        "allied health assistants",
    ),
    (
        "other",
        "Other allied health",
        "allied health practitioners",
    ),
];

pub(crate) const POPULATIONS: &[(&str, &str, &str)] = &[
    ("paediatrics", "Paediatrics", "children"),
    ("adolescents", "Adolescents", "adolescents"),
    ("adults", "Adults", "adults"),
    ("older_adults", "Older adults", "older adults"),
    (
        "mental_health",
        "Mental health",
        "people with mental health conditions",
    ),
    (
        "neurology",
        "Neurology",
        "people with neurological conditions",
    ),
    (
        "musculoskeletal",
        "Musculoskeletal",
        "people with musculoskeletal conditions",
    ),
    (
        "developmental_disability",
        "Developmental disability",
        "people with developmental disability",
    ),
    (
        "acquired_brain_injury",
        "Acquired brain injury",
        "people with acquired brain injury",
    ),
    (
        "palliative_care",
        "Palliative care",
        "people receiving palliative care",
    ),
    ("hand_therapy", "Hand therapy", "hand therapy clients"),
    (
        "vocational_rehabilitation",
        "Vocational rehabilitation",
        "people returning to work",
    ),
];

pub(crate) const SETTINGS: &[(&str, &str, &str)] = &[
    ("community", "Community", "community settings"),
    ("home_visits", "Home visits", "clients' homes"),
    ("private_practice", "Private practice", "private practice"),
    ("hospital_acute", "Acute hospital", "acute hospitals"),
    (
        "hospital_rehabilitation",
        "Rehabilitation hospital",
        "rehabilitation hospitals",
    ),
    ("outpatient", "Outpatient", "outpatient clinics"),
    ("aged_care", "Aged care", "aged care"),
    ("school", "School", "schools"),
    (
        "early_intervention",
        "Early intervention",
        "early intervention",
    ),
    ("telehealth", "Telehealth", "telehealth"),
    ("rural_remote", "Rural and remote", "rural and remote areas"),
    ("primary_care", "Primary care", "primary care"),
];

const LANGUAGES: &str = "en zh vi ar el it hi es pa ta tl ko ja fr de pt ru tr fa ur bn si ne \
    id ms th km my mi sm to fj pl nl sv da no fi hu cs sk hr sr bs sl mk sq ro bg uk he am so \
    sw ha yo ig zu xh af ku ps gu mr te kn ml or as \
    aa ab ae ak an av ay az ba be bh bi bm bo br ca ce ch co cr cu cv cy dv dz ee eo et eu ff \
    fo fy ga gd gl gn gv ho ht hy hz ia ie ii ik io is iu jv ka kg ki kj kk kl kr ks kv kw ky \
    la lb lg li ln lo lt lu lv mg mh mn mt na nb nd ng nn nr nv ny oc oj om os pi qu rm rn rw \
    sa sc sd se sg sn ss st su tg ti tk tn ts tt tw ty ug uz ve vo wa wo yi za";

impl Vocabulary {
    /// The lists from the product brief, in a fixed order (ids never change meaning).
    pub fn standard() -> Self {
        let terms = |list: &[(&str, &str, &str)]| {
            list.iter()
                .map(|(code, label, phrase)| Term::new(code, label, phrase))
                .collect()
        };
        Self {
            professions: terms(PROFESSIONS),
            populations: terms(POPULATIONS),
            settings: terms(SETTINGS),
            languages: LANGUAGES.split_whitespace().map(str::to_owned).collect(),
        }
    }

    pub fn profession_id(&self, code: &str) -> Option<u16> {
        position(self.professions.iter().map(|t| t.code.as_str()), code)
    }

    pub fn population_id(&self, code: &str) -> Option<u16> {
        position(self.populations.iter().map(|t| t.code.as_str()), code)
    }

    pub fn setting_id(&self, code: &str) -> Option<u16> {
        position(self.settings.iter().map(|t| t.code.as_str()), code)
    }

    pub fn language_id(&self, code: &str) -> Option<u16> {
        position(self.languages.iter().map(String::as_str), code)
    }

    pub(crate) fn profession_phrase(&self, id: u16) -> &str {
        phrase(
            &self.professions,
            id,
            "practitioners in the same profession",
        )
    }

    pub(crate) fn population_phrase(&self, id: u16) -> &str {
        phrase(&self.populations, id, "the same client group")
    }

    pub(crate) fn setting_phrase(&self, id: u16) -> &str {
        phrase(&self.settings, id, "the same kind of setting")
    }
}

fn position<'a>(mut codes: impl Iterator<Item = &'a str>, code: &str) -> Option<u16> {
    codes
        .position(|c| c == code)
        .and_then(|i| u16::try_from(i).ok())
}

fn phrase<'a>(terms: &'a [Term], id: u16, fallback: &'a str) -> &'a str {
    terms
        .get(usize::from(id))
        .map_or(fallback, |t| t.phrase.as_str())
}

/// "a", "a and b", "a, b and c".
pub(crate) fn join_phrases<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let items: Vec<&str> = items.into_iter().collect();
    match items.split_last() {
        None => String::new(),
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_lists_have_unique_codes_and_fit_in_a_code_set() {
        let v = Vocabulary::standard();
        for list in [&v.professions, &v.populations, &v.settings] {
            let mut codes: Vec<_> = list.iter().map(|t| &t.code).collect();
            codes.sort();
            codes.dedup();
            assert_eq!(codes.len(), list.len());
            assert!(list.len() <= crate::CodeSet::CAPACITY);
        }
        let mut langs = v.languages.clone();
        langs.sort();
        langs.dedup();
        assert_eq!(langs.len(), v.languages.len());
        assert_eq!(v.language_id("en"), Some(0));
        assert_eq!(v.population_id("older_adults"), Some(3));
    }

    #[test]
    fn phrases_join_like_a_sentence() {
        assert_eq!(join_phrases(["a"]), "a");
        assert_eq!(join_phrases(["a", "b"]), "a and b");
        assert_eq!(join_phrases(["a", "b", "c"]), "a, b and c");
    }
}
