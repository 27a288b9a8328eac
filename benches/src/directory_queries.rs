//! The mix of directory searches the benchmark sends: what people type (French, Arabic,
//! transliterated Latin, misspelt and half-typed words, names) with and without filters, maps
//! around a point, deeper pages and plain browsing. Each search belongs to a class, so a slow
//! class shows up on its own.

use contacto_core::api::{SearchQuery, SearchSort};
use rand::Rng;
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand::seq::IndexedRandom;

use crate::directory_seed::data::{
    CATEGORIES, MEN_ARABIC, MEN_LATIN, SHOP_NAMES_ARABIC, SHOP_NAMES_LATIN, SURNAMES_ARABIC,
    SURNAMES_LATIN, WILAYAS, WOMEN_LATIN,
};

/// A kind of search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueryClass {
    /// French trade words: `plombier`, `médecin généraliste`.
    TextFr,
    /// Arabic trade words: `سباك`, `طبيب أطفال`.
    TextAr,
    /// Darija and names in Latin letters: `tbib`, `mohamed haddad`.
    Translit,
    /// Misspelt words: `electricen`, `plonbier`.
    Typo,
    /// Words cut short, as typed in a search box: `plomb`, `pharm`.
    Partial,
    /// A person's or a business's name: `Karim Benali`, `Boulangerie Essalam`, `بن علي`.
    Name,
    /// A trade word with a wilaya, sometimes a commune and best-rated first.
    TextFiltered,
    /// A category and a wilaya, no text, newest or best-rated first.
    CategoryWilaya,
    /// A category with rating, verification, open-now or language filters.
    Filters,
    /// Around a point, nearest first, sometimes with a category or a word.
    Geo,
    /// Pages 2 to 5 of a text or category search.
    DeepPage,
    /// No filter at all: newest or best-rated professionals of the country.
    Browse,
}

impl QueryClass {
    /// Every class, in report order.
    pub const ALL: [QueryClass; 12] = [
        QueryClass::TextFr,
        QueryClass::TextAr,
        QueryClass::Translit,
        QueryClass::Typo,
        QueryClass::Partial,
        QueryClass::Name,
        QueryClass::TextFiltered,
        QueryClass::CategoryWilaya,
        QueryClass::Filters,
        QueryClass::Geo,
        QueryClass::DeepPage,
        QueryClass::Browse,
    ];

    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            QueryClass::TextFr => "text_fr",
            QueryClass::TextAr => "text_ar",
            QueryClass::Translit => "translit",
            QueryClass::Typo => "typo",
            QueryClass::Partial => "partial",
            QueryClass::Name => "name",
            QueryClass::TextFiltered => "text+filters",
            QueryClass::CategoryWilaya => "category+wilaya",
            QueryClass::Filters => "filters",
            QueryClass::Geo => "geo",
            QueryClass::DeepPage => "page_2_5",
            QueryClass::Browse => "browse",
        }
    }

    /// Its share of the mix, in percent.
    pub fn weight(self) -> u32 {
        match self {
            QueryClass::TextFr => 14,
            QueryClass::TextAr => 10,
            QueryClass::Translit => 8,
            QueryClass::Typo => 8,
            QueryClass::Partial => 6,
            QueryClass::Name => 8,
            QueryClass::TextFiltered => 12,
            QueryClass::CategoryWilaya => 10,
            QueryClass::Filters => 8,
            QueryClass::Geo => 8,
            QueryClass::DeepPage => 5,
            QueryClass::Browse => 3,
        }
    }

    /// Its index in [`QueryClass::ALL`].
    pub fn index(self) -> usize {
        QueryClass::ALL
            .iter()
            .position(|class| *class == self)
            .unwrap_or_default()
    }
}

const FRENCH: &[&str] = &[
    "plombier",
    "électricien",
    "médecin généraliste",
    "avocat",
    "pédiatre",
    "dentiste",
    "pharmacie",
    "boulangerie",
    "boucherie",
    "mécanicien",
    "garage",
    "coiffeur",
    "salon de coiffure",
    "menuiserie aluminium",
    "climatisation",
    "cours de maths",
    "auto-école",
    "notaire",
    "agence immobilière",
    "vétérinaire",
    "photographe mariage",
    "traiteur",
    "comptable",
    "débouchage canalisation",
    "réparation machine à laver",
    "location voiture",
    "analyses de sang",
    "kinésithérapeute",
    "ophtalmologue",
    "gynécologue",
    "cardiologue",
    "pharmacie de garde",
    "salle des fêtes",
    "carrelage",
    "peintre",
    "serrurier",
    "vidange",
    "préparation bac",
    "cours d'anglais",
    "épicerie",
];

const ARABIC: &[&str] = &[
    "سباك",
    "طبيب",
    "طبيب أطفال",
    "محامي",
    "كهربائي",
    "مخبزة",
    "صيدلية",
    "حلاق",
    "نجار",
    "ميكانيك",
    "جزار",
    "موثق",
    "طبيب أسنان",
    "عيادة",
    "مدرسة السياقة",
    "كراء السيارات",
    "وكالة عقارية",
    "تصليح",
    "حلويات",
    "طبيب عام",
    "أمراض القلب",
    "مخبر التحاليل",
    "قاعة الحفلات",
    "دروس",
    "تبريد وتكييف",
    "خضر وفواكه",
];

const TRANSLIT: &[&str] = &[
    "tbib",
    "doktor",
    "mohami",
    "sebbak",
    "plombi",
    "nejjar",
    "mikanik",
    "hajjam",
    "kwafira",
    "simsar",
    "snan",
    "bitari",
    "trisyan",
    "hanout",
    "khodra",
    "gassab",
    "koucha",
    "permi",
    "tomobil",
    "vulca",
    "lavaj",
    "mohamed",
    "karim",
    "fatima",
    "mohamed benali",
    "karim haddad",
    "amina bouzid",
    "youcef mansouri",
    "rachid brahimi",
];

const TYPOS: &[&str] = &[
    "plombié",
    "plonbier",
    "electricen",
    "elektricien",
    "medcin",
    "boulangrie",
    "pharmacy",
    "avoca",
    "dentist",
    "menusier",
    "coifeur",
    "mecanisien",
    "veterinair",
    "notair",
    "climatisasion",
    "pediatr",
    "jynecologue",
    "carlage",
    "serurier",
    "comptabl",
];

const PARTIAL: &[&str] = &[
    "plomb", "électr", "boulan", "pharm", "coif", "menuis", "méca", "dent", "avoc", "kiné",
    "vétér", "notai", "clim", "carro", "ophta",
];

/// Categories people filter by, roots included (their subcategories count).
const ROOTS: &[&str] = &[
    "sante",
    "artisans-services",
    "automobile",
    "droit",
    "beaute",
    "commerce",
];

/// Draws searches in the benchmark's proportions.
#[derive(Debug, Clone)]
pub struct Mix {
    classes: WeightedIndex<u32>,
    wilayas: WeightedIndex<u32>,
    categories: WeightedIndex<u32>,
}

impl Default for Mix {
    fn default() -> Self {
        Self::new()
    }
}

impl Mix {
    /// The mix of [`QueryClass::weight`].
    pub fn new() -> Self {
        let weights = |w: Vec<u32>| {
            WeightedIndex::new(w).unwrap_or_else(|_| unreachable!("positive weights"))
        };
        Self {
            classes: weights(QueryClass::ALL.iter().map(|c| c.weight()).collect()),
            wilayas: weights(WILAYAS.iter().map(|w| w.weight).collect()),
            categories: weights(CATEGORIES.iter().map(|c| c.weight).collect()),
        }
    }

    /// One search.
    pub fn draw(&self, rng: &mut impl Rng) -> (QueryClass, SearchQuery) {
        let class = QueryClass::ALL[self.classes.sample(rng)];
        (class, self.query(class, rng))
    }

    /// A search of `class`.
    pub fn query(&self, class: QueryClass, rng: &mut impl Rng) -> SearchQuery {
        let text = |words: &[&str], rng: &mut dyn rand::RngCore| SearchQuery {
            q: Some(pick(words, rng).to_owned()),
            ..SearchQuery::default()
        };
        match class {
            QueryClass::TextFr => text(FRENCH, rng),
            QueryClass::TextAr => text(ARABIC, rng),
            QueryClass::Translit => text(TRANSLIT, rng),
            QueryClass::Typo => text(TYPOS, rng),
            QueryClass::Partial => text(PARTIAL, rng),
            QueryClass::Name => SearchQuery {
                q: Some(name(rng)),
                ..SearchQuery::default()
            },
            QueryClass::TextFiltered => {
                let (wilaya, commune) = self.place(rng);
                let words = if rng.random_bool(0.7) { FRENCH } else { ARABIC };
                SearchQuery {
                    q: Some(pick(words, rng).to_owned()),
                    wilaya: Some(wilaya.to_owned()),
                    commune: rng.random_bool(0.3).then(|| commune.to_owned()),
                    sort: rng.random_bool(0.2).then_some(SearchSort::Rating),
                    ..SearchQuery::default()
                }
            }
            QueryClass::CategoryWilaya => SearchQuery {
                category: Some(self.category(rng)),
                wilaya: Some(self.place(rng).0.to_owned()),
                sort: rng.random_bool(0.5).then_some(SearchSort::Rating),
                ..SearchQuery::default()
            },
            QueryClass::Filters => {
                let mut query = SearchQuery {
                    category: Some(self.category(rng)),
                    wilaya: rng.random_bool(0.6).then(|| self.place(rng).0.to_owned()),
                    ..SearchQuery::default()
                };
                match rng.random_range(0..4) {
                    0 => query.min_rating = Some(*[3.5, 4.0, 4.5].choose(rng).unwrap_or(&4.0)),
                    1 => query.verified = Some(true),
                    2 => query.open_now = Some(true),
                    _ => query.language = Some(pick(&["fr", "en", "kab"], rng).to_owned()),
                }
                if rng.random_bool(0.3) {
                    query.sort = Some(SearchSort::Rating);
                }
                query
            }
            QueryClass::Geo => {
                let wilaya = &WILAYAS[self.wilayas.sample(rng)];
                let (north_km, east_km) =
                    (rng.random_range(-8.0..8.0), rng.random_range(-8.0..8.0));
                let lat = wilaya.capital.0 + north_km / 111.2;
                let lng =
                    wilaya.capital.1 + east_km / (111.2 * wilaya.capital.0.to_radians().cos());
                SearchQuery {
                    lat: Some(lat),
                    lng: Some(lng),
                    radius_km: Some(*[2.0, 5.0, 10.0, 25.0].choose(rng).unwrap_or(&10.0)),
                    sort: Some(SearchSort::Distance),
                    category: rng.random_bool(0.4).then(|| self.category(rng)),
                    q: rng.random_bool(0.2).then(|| pick(FRENCH, rng).to_owned()),
                    ..SearchQuery::default()
                }
            }
            QueryClass::DeepPage => {
                let base = match rng.random_range(0..3) {
                    0 => QueryClass::TextFr,
                    1 => QueryClass::CategoryWilaya,
                    _ => QueryClass::TextAr,
                };
                SearchQuery {
                    page: Some(rng.random_range(2..=5)),
                    ..self.query(base, rng)
                }
            }
            QueryClass::Browse => SearchQuery {
                sort: [None, Some(SearchSort::Rating), Some(SearchSort::Newest)]
                    .choose(rng)
                    .copied()
                    .flatten(),
                ..SearchQuery::default()
            },
        }
    }

    /// A wilaya (weighted by size) and one of its communes.
    fn place(&self, rng: &mut impl Rng) -> (&'static str, &'static str) {
        let wilaya = &WILAYAS[self.wilayas.sample(rng)];
        (wilaya.code, pick(wilaya.communes, rng))
    }

    /// A leaf category (weighted by how common it is), or a root one time in five.
    fn category(&self, rng: &mut impl Rng) -> String {
        if rng.random_bool(0.2) {
            pick(ROOTS, rng).to_owned()
        } else {
            CATEGORIES[self.categories.sample(rng)].slug.to_owned()
        }
    }
}

/// A search as its query string would read: `q="plombier" wilaya=16 sort=-rating`.
pub fn describe(query: &SearchQuery) -> String {
    let text = |name: &str, value: &Option<String>| value.as_ref().map(|v| format!("{name}={v:?}"));
    let shown = |name: &str, value: Option<String>| value.map(|v| format!("{name}={v}"));
    [
        text("q", &query.q),
        shown("category", query.category.clone()),
        shown("wilaya", query.wilaya.clone()),
        text("commune", &query.commune),
        shown("min_rating", query.min_rating.map(|v| v.to_string())),
        shown("verified", query.verified.map(|v| v.to_string())),
        shown("open_now", query.open_now.map(|v| v.to_string())),
        shown("language", query.language.clone()),
        shown("lat", query.lat.map(|v| format!("{v:.4}"))),
        shown("lng", query.lng.map(|v| format!("{v:.4}"))),
        shown("radius_km", query.radius_km.map(|v| v.to_string())),
        shown("sort", query.sort.map(|v| v.as_str().to_owned())),
        shown("page", query.page.map(|v| v.to_string())),
        shown("limit", query.limit.map(|v| v.to_string())),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ")
}

fn pick<'a, R: Rng + ?Sized>(items: &[&'a str], rng: &mut R) -> &'a str {
    items.choose(rng).copied().unwrap_or_default()
}

/// A name people search for: a person in either script, a surname, or a business.
fn name(rng: &mut impl Rng) -> String {
    match rng.random_range(0..6) {
        0 => format!("{} {}", pick(MEN_LATIN, rng), pick(SURNAMES_LATIN, rng)),
        1 => format!("{} {}", pick(WOMEN_LATIN, rng), pick(SURNAMES_LATIN, rng)),
        2 => pick(SURNAMES_LATIN, rng).to_owned(),
        3 => format!("{} {}", pick(MEN_ARABIC, rng), pick(SURNAMES_ARABIC, rng)),
        4 => {
            let category = CATEGORIES.choose(rng).map_or("Garage", |c| c.shop_fr);
            format!("{category} {}", pick(SHOP_NAMES_LATIN, rng))
        }
        _ => pick(SHOP_NAMES_ARABIC, rng).to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    #[test]
    fn every_class_is_drawn_and_its_queries_are_plausible() {
        let mix = Mix::new();
        let mut rng = StdRng::seed_from_u64(1);
        let mut seen = [0_usize; QueryClass::ALL.len()];
        for _ in 0..5_000 {
            let (class, query) = mix.draw(&mut rng);
            seen[class.index()] += 1;
            if class == QueryClass::Geo {
                assert!(query.lat.is_some() && query.sort == Some(SearchSort::Distance));
            }
            if class == QueryClass::DeepPage {
                assert!((2..=5).contains(&query.page.unwrap()));
            }
            if class == QueryClass::Browse {
                assert!(query.q.is_none() && query.category.is_none() && query.wilaya.is_none());
            }
        }
        assert!(seen.iter().all(|&n| n > 0), "{seen:?}");
        let query = SearchQuery {
            q: Some("plombier".into()),
            wilaya: Some("16".into()),
            sort: Some(SearchSort::Rating),
            page: Some(2),
            ..SearchQuery::default()
        };
        assert_eq!(
            describe(&query),
            r#"q="plombier" wilaya=16 sort=-rating page=2"#
        );
        assert_eq!(QueryClass::ALL.iter().map(|c| c.weight()).sum::<u32>(), 100);
    }
}
