//! Search queries, built from validated parameters: every condition is one an index serves (see
//! `docs/DIRECTORY.md`), and every value is a bound parameter. Pure: no I/O.

use crate::api::SearchSort;

use super::model::EARTH_RADIUS_KM;
use super::text::{fold, skeleton};

/// Results whose ids a search of text or filters returns in rank order beyond its page, when its
/// page lies within them: five pages of 20. A broad search is cached with them, so its next pages
/// read 20 rows by id instead of ranking thousands again.
pub(crate) const RANKED_WINDOW: i64 = 100;

/// Words of a query that count: more adds cost without making results better.
pub(crate) const MAX_QUERY_TERMS: usize = 8;

/// Shortest word corrected against the dictionary: shorter words have too few trigrams to tell a
/// typo from another word, so they match as prefixes only.
pub(crate) const MIN_CORRECTED_CHARS: usize = 4;

/// Shortest word matched as a prefix: `de:*` would match three quarters of the directory (every
/// word that starts with `de`), so shorter words must match whole.
pub(crate) const MIN_PREFIX_CHARS: usize = 3;

/// Words that carry no meaning in a search (articles, prepositions, conjunctions), folded. A
/// query drops them unless it has nothing else: `cours de maths` looks for `cours` and `maths`.
/// Each is in most biographies, so requiring it costs a scan of most of the directory and
/// changes nothing about what is found. (Not `على`: folded, it is the name `علي`.)
const STOP_WORDS: &[&str] = &[
    "au", "aux", "avec", "dans", "de", "des", "du", "en", "et", "la", "le", "les", "ou", "par",
    "pour", "sur", "un", "une", "الي", "عن", "في", "مع", "من", "او",
];

/// One word of the query, folded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Term {
    /// The folded word, matched as a prefix when it has at least [`MIN_PREFIX_CHARS`] letters,
    /// else whole.
    pub word: String,
    /// Its consonant skeleton, matched exactly: how `mohamed` finds `محمد`.
    pub skeleton: Option<String>,
    /// Dictionary words close to it, matched exactly: how `plombiere` finds `plombier`.
    pub corrections: Vec<String>,
    /// Whether the dictionary holds the word itself (looked up with its corrections). A known
    /// word names categories by its spelling only, not by its skeleton (`topics.rs`).
    pub known: bool,
    /// The categories whose words it matches (`avocat`: all of law), in memory
    /// (`topics.rs`): a profile there matches the word without storing it.
    pub categories: Vec<i16>,
    /// The wilayas whose names it matches (`oran`, `وهران`).
    pub wilayas: Vec<String>,
}

impl Term {
    fn has_topics(&self) -> bool {
        !self.categories.is_empty() || !self.wilayas.is_empty()
    }
}

/// Splits a query into folded terms. Single letters are dropped (`à`, `l'`): they match
/// everything; so are stop words when other words remain.
pub(crate) fn terms(query: &str) -> Vec<Term> {
    let folded = fold(query);
    let mut words: Vec<&str> = Vec::new();
    for word in folded.split(' ').filter(|word| word.chars().count() > 1) {
        if !words.contains(&word) {
            words.push(word);
        }
    }
    if words.iter().any(|word| !STOP_WORDS.contains(word)) {
        words.retain(|word| !STOP_WORDS.contains(word));
    }
    words
        .into_iter()
        .take(MAX_QUERY_TERMS)
        .map(|word| Term {
            word: word.to_owned(),
            skeleton: skeleton(word).filter(|skeleton| skeleton != word),
            corrections: Vec::new(),
            known: false,
            categories: Vec::new(),
            wilayas: Vec::new(),
        })
        .collect()
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
    /// `text[]`.
    Texts(Vec<String>),
    /// `uuid[]`.
    Uuids(Vec<uuid::Uuid>),
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

/// `to_tsquery` text of one word: it matches as a prefix (whole when short), as its skeleton or
/// as one of its corrections. Words hold only letters and digits (folding removed everything
/// else), so nothing in them is tsquery syntax.
fn term_query(term: &Term) -> String {
    let mut alternatives = vec![if term.word.chars().count() < MIN_PREFIX_CHARS {
        term.word.clone()
    } else {
        format!("{}:*", term.word)
    }];
    alternatives.extend(term.skeleton.iter().cloned());
    alternatives.extend(term.corrections.iter().cloned());
    format!("({})", alternatives.join(" | "))
}

/// `to_tsquery` text of the whole query: every word must match.
fn text_query(terms: &[Term]) -> String {
    terms.iter().map(term_query).collect::<Vec<_>>().join(" & ")
}

/// The condition that `term` names the profile's category or wilaya, or `None` when it names
/// none.
fn topic_condition(term: &Term, binder: &mut Binder) -> Option<String> {
    let mut alternatives = Vec::new();
    if !term.categories.is_empty() {
        let ids = binder.bind(Param::SmallInts(term.categories.clone()));
        alternatives.push(format!("category_id = ANY({ids}::smallint[])"));
    }
    if !term.wilayas.is_empty() {
        let codes = binder.bind(Param::Texts(term.wilayas.clone()));
        alternatives.push(format!("wilaya_code = ANY({codes}::text[])"));
    }
    (!alternatives.is_empty()).then(|| alternatives.join(" OR "))
}

/// The WHERE clause: the text through the full-text GIN index, each filter through its own.
fn conditions(spec: &SearchSpec, binder: &mut Binder) -> String {
    let mut conditions: Vec<String> = Vec::new();
    if spec.terms.iter().any(Term::has_topics) {
        // Each word through the full-text index, or through its categories' or wilayas'.
        for term in &spec.terms {
            let query = binder.bind(Param::Text(term_query(term)));
            let text = format!("search_vector @@ to_tsquery('simple', {query})");
            conditions.push(match topic_condition(term, binder) {
                Some(topic) => format!("({text} OR {topic})"),
                None => text,
            });
        }
    } else if !spec.terms.is_empty() {
        let query = binder.bind(Param::Text(text_query(&spec.terms)));
        conditions.push(format!("search_vector @@ to_tsquery('simple', {query})"));
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

/// The statements of a search, to run pipelined: one round trip.
///
/// With text or any filter, one statement matches once (through the filters' indexes) and
/// returns both the page and the facet counts: ranking must read every match anyway, and so must
/// the facets. A page read by walking a sort index until `limit` rows pass the filters looks
/// cheaper, but when the filters match fewer rows than the planner estimates (`open_now` at night
/// in a category subtree) the walk reads the whole table: p99 0.6 s at 100,000 profiles
/// (docs/PERFORMANCE.md).
///
/// Without text or filter (browsing everyone), nothing is filtered out: the page is an ordered
/// index scan that stops after `limit` rows, and the facets an index-only count.
///
/// Nearest first around a point without text or other filters (a bare map), the page is read
/// from the location index in distance order (its nearest-neighbour scan), which stops after the
/// ranked window, and the facets are counted apart: 25 km around Algiers is ten thousand
/// profiles, and ranking them all cost more than counting them. A map with a filter is matched
/// once ([`nearest_first`] says why).
pub(crate) fn statements(spec: &SearchSpec) -> Vec<Statement> {
    if browsing(spec) {
        vec![page(spec), facets(spec)]
    } else if nearest_first(spec) {
        vec![nearest(spec), facets(spec)]
    } else {
        vec![page_and_facets(spec)]
    }
}

/// Whether `spec` asks the nearest profiles of a point first, without text or any other filter:
/// then the location index's nearest-neighbour scan stops after the ranked window. With a filter
/// (a category, most often) that scan reads on until it has kept a window's worth of matches,
/// often the whole radius for a trade that is rare there, and the facet count reads the whole
/// radius again; matching once reads it once (a plumber within 25 km of Alger: 13 ms against 8
/// for the scan and 13 for the count; docs/PERFORMANCE.md, "Maps with a filter matched once").
fn nearest_first(spec: &SearchSpec) -> bool {
    spec.sort == SearchSort::Distance
        && spec.near.is_some()
        && browsing(&SearchSpec {
            near: None,
            ..spec.clone()
        })
}

/// Whether `spec` browses everyone: no text, no filter.
fn browsing(spec: &SearchSpec) -> bool {
    spec.terms.is_empty() && conditions(spec, &mut Binder::default()) == "true"
}

/// Whether the statements of `spec` may run prepared, reusing a generic plan: searches without
/// text, except those filtering by containment (`open_now`, `language`). PostgreSQL cannot
/// estimate `@>` against a parameter (it assumes 0.5% of the rows), so their generic plans read the
/// filter's own index (the opening hours' GiST, the languages' GIN) before the category's: 75,000
/// to 90,000 candidates, 97-160 ms against 1-34 ms planned with the values (docs/PERFORMANCE.md).
pub(crate) fn reuses_generic_plan(spec: &SearchSpec) -> bool {
    spec.terms.is_empty() && spec.open_at.is_none() && spec.language.is_none()
}

/// Whether the search of `spec` returns the ids of its first [`RANKED_WINDOW`] results, so that
/// any page among them can be served from one computation.
pub(crate) fn windowed(spec: &SearchSpec) -> bool {
    !browsing(spec) && windowed_page(spec)
}

/// The distance from the search centre in km, or NULL.
fn distance(spec: &SearchSpec, binder: &mut Binder) -> String {
    match spec.near {
        Some((centre, _)) => {
            let point = binder.bind(Param::Floats(centre.to_vec()));
            format!(
                "2 * {EARTH_RADIUS_KM} * asin(least(1, cube_distance(location, \
                 cube({point}::float8[])) / (2 * {EARTH_RADIUS_KM})))"
            )
        }
        None => "NULL::float8".to_owned(),
    }
}

/// What a word found among a profile's category or wilaya words adds to its rank: about what
/// `ts_rank` gives one word found once at weight B, where these words used to be stored.
const TOPIC_RANK: f64 = 0.24;

/// Relevance: how much of the query the profile's text holds, weighted (names count most, then
/// services and places, then biographies), plus [`TOPIC_RANK`] for each word its category or
/// wilaya answers, then a little reputation, so that among equal matches the verified and well
/// rated come first.
fn score(spec: &SearchSpec, binder: &mut Binder) -> String {
    if spec.terms.is_empty() {
        return "NULL::float8".to_owned();
    }
    // Any word counts: a word answered by the category is not in the vector.
    let any = spec
        .terms
        .iter()
        .map(term_query)
        .collect::<Vec<_>>()
        .join(" | ");
    let query = binder.bind(Param::Text(any));
    let mut topics = String::new();
    let share = TOPIC_RANK / spec.terms.len() as f64;
    for term in &spec.terms {
        if let Some(topic) = topic_condition(term, binder) {
            topics.push_str(&format!(" + CASE WHEN {topic} THEN {share} ELSE 0 END"));
        }
    }
    format!(
        "ts_rank(search_vector, to_tsquery('simple', {query})){topics} \
         + 0.05 * coalesce(rating_average, 0)::float8 + 0.02 * ln(1 + rating_count) \
         + CASE WHEN verified THEN 0.1 ELSE 0 END"
    )
}

/// The ORDER BY of a sort, over columns named as in `professionals`.
fn order(sort: SearchSort) -> &'static str {
    match sort {
        SearchSort::Relevance => "score DESC, id",
        SearchSort::Distance => "distance_km ASC NULLS LAST, id",
        SearchSort::Rating => "rating_average DESC NULLS LAST, rating_count DESC, id",
        SearchSort::Newest => "created_at DESC, id DESC",
    }
}

/// The columns of a result, from `professionals` aliased `p`.
fn hit_columns(now: &str) -> String {
    format!(
        "p.id, p.slug, p.display_name, p.business_name, p.category_id, p.wilaya_code, p.commune, \
         p.latitude, p.longitude, p.languages, p.verified, \
         p.open_minutes @> {now}::integer AS open_now, p.rating_count, \
         p.rating_average::float8 AS rating_average, p.rating_distribution"
    )
}

/// How many columns [`hit_columns`] has.
const HIT_COLUMNS: usize = 15;

/// The page of results, best first, without facets.
pub(crate) fn page(spec: &SearchSpec) -> Statement {
    let mut binder = Binder::default();
    let filter = conditions(spec, &mut binder);
    let now = binder.bind(Param::Int(spec.now_minute));
    let distance = distance(spec, &mut binder);
    let score = score(spec, &mut binder);
    // Over the table's own columns, so that an index in that order can serve it.
    let order = order(spec.sort).replace("rating_", "p.rating_");
    let limit = binder.bind(Param::BigInt(spec.limit));
    let offset = binder.bind(Param::BigInt(spec.offset));
    let columns = hit_columns(&now);
    let sql = format!(
        "SELECT {columns}, {distance} AS distance_km, {score} AS score \
           FROM professionals p \
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
        "SELECT category_id AS facet_category, wilaya_code AS facet_wilaya, count(*) AS facet_n \
           FROM professionals \
          WHERE {filter} \
          GROUP BY GROUPING SETS ((category_id), (wilaya_code))"
    );
    Statement {
        sql,
        params: binder.params,
    }
}

/// The page and the facet counts from one pass over the matches: result rows first, in rank
/// order, then facet rows (those with `facet_n`). When the page lies within the first
/// [`RANKED_WINDOW`] results, those are ranked, and the rows outside the page carry only their
/// `ranked_id` and distance; every result row carries `ranked_id` and `ord`.
pub(crate) fn page_and_facets(spec: &SearchSpec) -> Statement {
    let mut binder = Binder::default();
    let filter = conditions(spec, &mut binder);
    let now = binder.bind(Param::Int(spec.now_minute));
    let distance = distance(spec, &mut binder);
    let score = score(spec, &mut binder);
    let order = order(spec.sort);
    let (ranked, skipped) = window_bounds(spec, &mut binder);
    let rows = ranked_rows(spec, &now, &mut binder);
    let hit_nulls = vec!["NULL"; HIT_COLUMNS].join(", ");
    let sql = format!(
        "WITH matched AS MATERIALIZED ( \
             SELECT id, category_id, wilaya_code, created_at, rating_average, rating_count, \
                    {distance} AS distance_km, {score} AS score \
               FROM professionals \
              WHERE {filter}), \
         page AS MATERIALIZED ( \
             SELECT id, distance_km, row_number() OVER () AS ord \
               FROM (SELECT * FROM matched ORDER BY {order} LIMIT {ranked} OFFSET {skipped}) \
                    AS top) \
         {rows} \
         UNION ALL \
         SELECT {hit_nulls}, NULL, NULL, NULL, category_id, wilaya_code, count(*) \
           FROM matched GROUP BY GROUPING SETS ((category_id), (wilaya_code)) \
         ORDER BY ord NULLS LAST"
    );
    Statement {
        sql,
        params: binder.params,
    }
}

/// The page of a search nearest first without text or filters, as [`page_and_facets`] returns
/// it but without facets ([`facets`] counts them): the location index yields the profiles in
/// distance order and the scan stops after the ranked window. Profiles at exactly the same
/// distance come in the index's order.
pub(crate) fn nearest(spec: &SearchSpec) -> Statement {
    let Some((centre, _)) = spec.near else {
        return page_and_facets(spec);
    };
    let mut binder = Binder::default();
    let filter = conditions(spec, &mut binder);
    let now = binder.bind(Param::Int(spec.now_minute));
    let distance = distance(spec, &mut binder);
    let centre = binder.bind(Param::Floats(centre.to_vec()));
    let (ranked, skipped) = window_bounds(spec, &mut binder);
    let rows = ranked_rows(spec, &now, &mut binder);
    let sql = format!(
        "WITH page AS MATERIALIZED ( \
             SELECT id, distance_km, row_number() OVER () AS ord \
               FROM (SELECT id, {distance} AS distance_km \
                       FROM professionals \
                      WHERE {filter} \
                      ORDER BY location <-> cube({centre}::float8[]) \
                      LIMIT {ranked} OFFSET {skipped}) AS top) \
         {rows} \
         ORDER BY ord"
    );
    Statement {
        sql,
        params: binder.params,
    }
}

/// How many results to rank and how many to skip first: the whole [`RANKED_WINDOW`] when the
/// page lies within it, else just the page.
fn window_bounds(spec: &SearchSpec, binder: &mut Binder) -> (String, String) {
    let (ranked, skipped) = if windowed_page(spec) {
        (RANKED_WINDOW, 0)
    } else {
        (spec.limit, spec.offset)
    };
    (
        binder.bind(Param::BigInt(ranked)),
        binder.bind(Param::BigInt(skipped)),
    )
}

/// Whether the page asked lies within the first [`RANKED_WINDOW`] results.
fn windowed_page(spec: &SearchSpec) -> bool {
    spec.offset + spec.limit <= RANKED_WINDOW
}

/// The result rows of a `page` CTE (`id`, `distance_km`, `ord`): the page's profiles in full,
/// then the other ranked ids with their distances only. Facet columns are NULL.
fn ranked_rows(spec: &SearchSpec, now: &str, binder: &mut Binder) -> String {
    let (first, last) = if windowed_page(spec) {
        (spec.offset, spec.offset + spec.limit)
    } else {
        (0, spec.limit)
    };
    let first = binder.bind(Param::BigInt(first));
    let last = binder.bind(Param::BigInt(last));
    let columns = hit_columns(now);
    let hit_nulls = vec!["NULL"; HIT_COLUMNS].join(", ");
    format!(
        "SELECT {columns}, page.distance_km, page.ord, page.id AS ranked_id, \
                NULL::smallint AS facet_category, NULL::text AS facet_wilaya, \
                NULL::bigint AS facet_n \
           FROM page JOIN professionals p ON p.id = page.id \
          WHERE page.ord > {first} AND page.ord <= {last} \
         UNION ALL \
         SELECT {hit_nulls}, distance_km, ord, id, NULL, NULL, NULL \
           FROM page WHERE page.ord <= {first} OR page.ord > {last}"
    )
}

/// Result rows by id, in no order, for a page of a ranked window.
pub(crate) fn hits_by_id(ids: Vec<uuid::Uuid>, now_minute: i32) -> Statement {
    let mut binder = Binder::default();
    let ids = binder.bind(Param::Uuids(ids));
    let now = binder.bind(Param::Int(now_minute));
    let columns = hit_columns(&now);
    Statement {
        sql: format!(
            "SELECT {columns}, NULL::float8 AS distance_km \
               FROM professionals p WHERE p.id = ANY({ids}::uuid[])"
        ),
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
        let words = |query: &str| -> Vec<String> {
            terms(query).into_iter().map(|term| term.word).collect()
        };
        assert_eq!(words("Cours de maths"), ["cours", "maths"]);
        assert_eq!(words("تصليح في وهران"), ["تصليح", "وهران"]);
        assert_eq!(words("de la"), ["de", "la"], "nothing but stop words: kept");
        for word in STOP_WORDS {
            assert_eq!(fold(word), *word, "stop words are written folded");
        }
    }

    #[test]
    fn every_value_is_bound_never_spliced() {
        let mut spec = spec();
        spec.terms = terms("o'brien; DROP TABLE professionals");
        spec.wilaya = Some("16' OR '1'='1".to_owned());
        let statement = page_and_facets(&spec);
        assert!(!statement.sql.contains("DROP"), "{}", statement.sql);
        assert!(!statement.sql.contains("'1'='1"), "{}", statement.sql);
        let placeholders = statement.sql.matches('$').count();
        assert!(placeholders >= statement.params.len());
    }

    #[test]
    fn filters_by_containment_are_planned_with_their_values() {
        let mut browsing = spec();
        browsing.categories = Some(vec![55]);
        browsing.wilaya = Some("16".to_owned());
        assert!(reuses_generic_plan(&browsing));
        let open = SearchSpec {
            open_at: Some(5_636),
            ..browsing.clone()
        };
        assert!(!reuses_generic_plan(&open));
        let speaking = SearchSpec {
            language: Some("kab".to_owned()),
            ..browsing.clone()
        };
        assert!(!reuses_generic_plan(&speaking));
        let text = SearchSpec {
            terms: terms("plombier"),
            ..browsing
        };
        assert!(!reuses_generic_plan(&text));
    }

    #[test]
    fn without_filters_there_is_no_condition() {
        let browsing = statements(&spec());
        assert_eq!(browsing.len(), 2, "browsing: an ordered page and a count");
        assert!(browsing[1].sql.contains("WHERE true"));
        assert!(browsing[1].params.is_empty());
        let mut filtered = spec();
        filtered.verified = Some(true);
        assert_eq!(statements(&filtered).len(), 1, "filtered: one pass");
    }

    #[test]
    fn nearest_first_without_text_or_filters_reads_the_location_index_in_order() {
        let mut around = spec();
        around.near = Some(([1.0, 2.0, 3.0], 5.0));
        around.sort = SearchSort::Distance;
        let both = statements(&around);
        assert_eq!(both.len(), 2, "the page, then the facets");
        assert!(both[0].sql.contains("ORDER BY location <-> cube("));
        assert!(!both[0].sql.contains("GROUPING SETS"));
        assert!(both[1].sql.contains("GROUPING SETS"));
        around.terms = terms("pharmacie");
        assert_eq!(statements(&around).len(), 1, "with text: one pass");
        around.terms.clear();
        around.categories = Some(vec![67]);
        let filtered = statements(&around);
        assert_eq!(filtered.len(), 1, "with a filter: one pass");
        assert!(!filtered[0].sql.contains("<->"));
        around.categories = None;
        around.sort = SearchSort::Rating;
        assert_eq!(statements(&around).len(), 1, "another order: one pass");
    }

    #[test]
    fn every_word_must_match_one_of_its_spellings() {
        let mut terms = terms("mohamed plombiere");
        terms[1].corrections = vec!["plombier".to_owned()];
        let mut spec = spec();
        spec.terms = terms.clone();
        assert!(!page_and_facets(&spec).sql.contains("category_id = ANY"));
        spec.terms[1].categories = vec![7, 8];
        let sql = page_and_facets(&spec).sql;
        assert!(
            sql.contains(
                "(search_vector @@ to_tsquery('simple', $2) OR category_id = ANY($3::smallint[]))"
            ),
            "{sql}"
        );
        assert_eq!(
            text_query(&terms),
            "(mohamed:* | mhmd) & (plombiere:* | blmbr | plombier)"
        );
        assert_eq!(
            text_query(&self::terms("dr")),
            "(dr)",
            "short words match whole"
        );
    }
}
