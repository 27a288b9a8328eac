//! Search queries, built from validated parameters: every condition is one an index serves (see
//! `docs/DIRECTORY.md`), and every value is a bound parameter. Pure: no I/O.

use crate::api::SearchSort;

use super::model::EARTH_RADIUS_KM;
use super::text::{fold, skeleton};

/// Words of a query that count: more adds cost without making results better.
pub(crate) const MAX_QUERY_TERMS: usize = 8;

/// Shortest word matched by trigram similarity: shorter words have too few trigrams to tell a typo
/// from another word, so they match as prefixes only.
const MIN_FUZZY_CHARS: usize = 4;

/// One word of the query, folded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Term {
    /// The folded word, matched as a prefix and, when long enough, by trigram similarity.
    pub word: String,
    /// Its consonant skeleton, matched exactly: how `mohamed` finds `محمد`.
    pub skeleton: Option<String>,
}

/// Splits a query into folded terms. Single letters are dropped (`à`, `l'`): they match
/// everything.
pub(crate) fn terms(query: &str) -> Vec<Term> {
    let folded = fold(query);
    let mut terms: Vec<Term> = Vec::new();
    for word in folded.split(' ').filter(|word| word.chars().count() > 1) {
        if terms.len() == MAX_QUERY_TERMS {
            break;
        }
        if terms.iter().any(|term| term.word == word) {
            continue;
        }
        terms.push(Term {
            word: word.to_owned(),
            skeleton: skeleton(word).filter(|skeleton| skeleton != word),
        });
    }
    terms
}

/// A validated search.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SearchSpec {
    /// The query's words; empty without `q`.
    pub terms: Vec<Term>,
    /// Category ids: the asked category and its subcategories.
    pub categories: Option<Vec<i16>>,
    /// A wilaya code.
    pub wilaya: Option<String>,
    /// A folded commune.
    pub commune: Option<String>,
    /// Lowest average rating.
    pub min_rating: Option<f64>,
    /// Verified or not.
    pub verified: Option<bool>,
    /// Only open at this minute of the week.
    pub open_at: Option<i32>,
    /// A language code.
    pub language: Option<String>,
    /// The centre as a point on the sphere, and the radius as a chord, in km.
    pub near: Option<([f64; 3], f64)>,
    /// The order.
    pub sort: SearchSort,
    /// Page size.
    pub limit: i64,
    /// Rows skipped.
    pub offset: i64,
    /// The minute of the week now, for each result's `open_now`.
    pub now_minute: i32,
}

/// A bound value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Param {
    /// `text`.
    Text(String),
    /// `smallint[]`.
    SmallInts(Vec<i16>),
    /// `integer`.
    Int(i32),
    /// `bigint`.
    BigInt(i64),
    /// `double precision`.
    Float(f64),
    /// `double precision[]`.
    Floats(Vec<f64>),
    /// `boolean`.
    Bool(bool),
}

/// A statement and its values.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Statement {
    /// The SQL, with `$n` placeholders.
    pub sql: String,
    /// The values, `$1` first.
    pub params: Vec<Param>,
}

#[derive(Default)]
struct Binder {
    params: Vec<Param>,
}

impl Binder {
    fn bind(&mut self, param: Param) -> String {
        self.params.push(param);
        format!("${}", self.params.len())
    }
}

/// The folded query as one string, for similarity scoring.
fn whole_text(spec: &SearchSpec) -> String {
    spec.terms
        .iter()
        .map(|term| term.word.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `to_tsquery` text for one term: a prefix, or its skeleton.
fn term_query(term: &Term) -> String {
    match &term.skeleton {
        Some(skeleton) => format!("{}:* | {skeleton}", term.word),
        None => format!("{}:*", term.word),
    }
}

/// The WHERE clause. Each term must match, as a prefix or skeleton in the full-text vector (GIN) or
/// as a similar word of the names (trigram GIN); each filter has its own index.
fn conditions(spec: &SearchSpec, binder: &mut Binder) -> String {
    let mut conditions: Vec<String> = Vec::new();
    for term in &spec.terms {
        let query = binder.bind(Param::Text(term_query(term)));
        if term.word.chars().count() >= MIN_FUZZY_CHARS {
            let word = binder.bind(Param::Text(term.word.clone()));
            conditions.push(format!(
                "(search_vector @@ to_tsquery('simple', {query}) OR search_names %> {word})"
            ));
        } else {
            conditions.push(format!("search_vector @@ to_tsquery('simple', {query})"));
        }
    }
    if let Some(categories) = &spec.categories {
        let ids = binder.bind(Param::SmallInts(categories.clone()));
        conditions.push(format!("category_id = ANY({ids}::smallint[])"));
    }
    if let Some(wilaya) = &spec.wilaya {
        let code = binder.bind(Param::Text(wilaya.clone()));
        conditions.push(format!("wilaya_code = {code}"));
    }
    if let Some(commune) = &spec.commune {
        let key = binder.bind(Param::Text(commune.clone()));
        conditions.push(format!("commune_key = {key}"));
    }
    if let Some(min_rating) = spec.min_rating {
        // Cast on the parameter's side, so the comparison stays on the indexed numeric column.
        let min = binder.bind(Param::Float(min_rating));
        conditions.push(format!("rating_average >= {min}::numeric"));
    }
    if let Some(verified) = spec.verified {
        let flag = binder.bind(Param::Bool(verified));
        conditions.push(format!("verified = {flag}"));
    }
    if let Some(minute) = spec.open_at {
        let minute = binder.bind(Param::Int(minute));
        conditions.push(format!("open_minutes @> {minute}::integer"));
    }
    if let Some(language) = &spec.language {
        let code = binder.bind(Param::Text(language.clone()));
        conditions.push(format!("languages @> ARRAY[{code}::text]"));
    }
    if let Some((centre, chord)) = spec.near {
        let point = binder.bind(Param::Floats(centre.to_vec()));
        let chord = binder.bind(Param::Float(chord));
        // The box finds candidates through the GiST index; the distance check trims its corners.
        conditions.push(format!(
            "location <@ cube_enlarge(cube({point}::float8[]), {chord}, 3) \
             AND cube_distance(location, cube({point}::float8[])) <= {chord}"
        ));
    }
    if conditions.is_empty() {
        "true".to_owned()
    } else {
        conditions.join(" AND ")
    }
}

/// The page of results, best first.
pub(crate) fn page(spec: &SearchSpec) -> Statement {
    let mut binder = Binder::default();
    let filter = conditions(spec, &mut binder);
    let now = binder.bind(Param::Int(spec.now_minute));
    let distance = match spec.near {
        Some((centre, _)) => {
            let point = binder.bind(Param::Floats(centre.to_vec()));
            format!(
                "2 * {EARTH_RADIUS_KM} * asin(least(1, cube_distance(location, \
                 cube({point}::float8[])) / (2 * {EARTH_RADIUS_KM})))"
            )
        }
        None => "NULL::float8".to_owned(),
    };
    // Relevance: how well the text matches (weighted full-text rank plus name similarity), then a
    // little for reputation, so that among equal matches the verified and well rated come first.
    let score = if spec.terms.is_empty() {
        "NULL::float8".to_owned()
    } else {
        let any: Vec<String> = spec.terms.iter().map(term_query).collect();
        let any = binder.bind(Param::Text(any.join(" | ")));
        let text = binder.bind(Param::Text(whole_text(spec)));
        format!(
            "ts_rank(search_vector, to_tsquery('simple', {any})) \
             + 0.5 * word_similarity({text}, search_names) \
             + 0.05 * coalesce(rating_average, 0)::float8 + 0.02 * ln(1 + rating_count) \
             + CASE WHEN verified THEN 0.1 ELSE 0 END"
        )
    };
    let order = match spec.sort {
        SearchSort::Relevance => "score DESC, id",
        SearchSort::Distance => "distance_km ASC NULLS LAST, id",
        // Qualified: the bare name would be the output column, a float cast no index provides.
        SearchSort::Rating => {
            "professionals.rating_average DESC NULLS LAST, professionals.rating_count DESC, id"
        }
        SearchSort::Newest => "created_at DESC, id DESC",
    };
    let limit = binder.bind(Param::BigInt(spec.limit));
    let offset = binder.bind(Param::BigInt(spec.offset));
    let sql = format!(
        "SELECT id, slug, display_name, business_name, category_id, wilaya_code, commune, \
                latitude, longitude, languages, verified, open_minutes @> {now}::integer AS open_now, \
                rating_count, rating_average::float8 AS rating_average, rating_distribution, \
                {distance} AS distance_km, {score} AS score \
           FROM professionals \
          WHERE {filter} \
          ORDER BY {order} \
          LIMIT {limit} OFFSET {offset}"
    );
    Statement {
        sql,
        params: binder.params,
    }
}

/// Counts of all matches by category and by wilaya; their category counts sum to the total.
pub(crate) fn facets(spec: &SearchSpec) -> Statement {
    let mut binder = Binder::default();
    let filter = conditions(spec, &mut binder);
    let sql = format!(
        "SELECT category_id, wilaya_code, count(*) AS n \
           FROM professionals \
          WHERE {filter} \
          GROUP BY GROUPING SETS ((category_id), (wilaya_code))"
    );
    Statement {
        sql,
        params: binder.params,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> SearchSpec {
        SearchSpec {
            terms: Vec::new(),
            categories: None,
            wilaya: None,
            commune: None,
            min_rating: None,
            verified: None,
            open_at: None,
            language: None,
            near: None,
            sort: SearchSort::Newest,
            limit: 20,
            offset: 0,
            now_minute: 0,
        }
    }

    #[test]
    fn query_words_are_folded_deduplicated_and_capped() {
        let words: Vec<String> = terms("Plombier à  ORAN plombier l'électricien")
            .into_iter()
            .map(|term| term.word)
            .collect();
        assert_eq!(words, ["plombier", "oran", "electricien"]);
        assert_eq!(terms(&"mot ".repeat(3)).len(), 1);
        let many: String = (0..20).map(|i| format!("w{i} ")).collect();
        assert_eq!(terms(&many).len(), MAX_QUERY_TERMS);
        assert_eq!(terms("Mohamed")[0].skeleton.as_deref(), Some("mhmd"));
    }

    #[test]
    fn every_value_is_bound_never_spliced() {
        let mut spec = spec();
        spec.terms = terms("o'brien; DROP TABLE professionals");
        spec.wilaya = Some("16' OR '1'='1".to_owned());
        let statement = page(&spec);
        assert!(!statement.sql.contains("DROP"), "{}", statement.sql);
        assert!(!statement.sql.contains("'1'='1"), "{}", statement.sql);
        let placeholders = statement.sql.matches('$').count();
        assert!(placeholders >= statement.params.len());
    }

    #[test]
    fn without_filters_there_is_no_condition() {
        let statement = facets(&spec());
        assert!(statement.sql.contains("WHERE true"));
        assert!(statement.params.is_empty());
    }

    #[test]
    fn short_words_match_as_prefixes_only() {
        let mut spec = spec();
        spec.terms = terms("dr plombier");
        let statement = facets(&spec);
        assert_eq!(statement.sql.matches("%>").count(), 1, "{}", statement.sql);
        assert_eq!(statement.params[0], Param::Text("dr:*".to_owned()));
    }
}
