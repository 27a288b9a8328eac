//! Words that belong to a category (its French and Arabic names, keywords and slug, and its
//! ancestors') or to a wilaya (its names). They are the same for every profile there, so they are
//! not stored in each profile's search vector: each query word is matched against them once, in
//! memory, and becomes a condition on the profile's category or wilaya, which a B-tree index
//! serves. (Stored per profile they made up two thirds of every vector, and `avocat` was a
//! posting list of every lawyer.) Pure: no I/O.

use super::search::{MIN_PREFIX_CHARS, Term};

/// Shortest word that names categories and wilayas as a prefix of their words; shorter ones name
/// them only whole. Three letters are more often a name or its short form than the start of a
/// trade: `ali` would have named every grocer (alimentation) and `med` (Mohamed) every doctor
/// (médecin), where in a profile's own text they match as prefixes ([`MIN_PREFIX_CHARS`]) only
/// the words that start with them.
const MIN_TOPIC_PREFIX_CHARS: usize = MIN_PREFIX_CHARS + 1;
use super::store::CategoryRow;
use super::text::{fold, skeletons};
use crate::api::Wilaya;

/// Whose words a lexeme is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Owner {
    /// A category, by id.
    Category(i16),
    /// A wilaya, by index in [`Topics::wilayas`].
    Wilaya(usize),
}

/// The words of every category and wilaya, folded, with the skeletons of the categories' words
/// (how `sebbek` finds `سباك`). One sorted list, so a query word is one binary search, not one per
/// category.
#[derive(Debug)]
pub(crate) struct Topics {
    lexemes: Vec<(String, Owner)>,
    wilayas: Vec<String>,
}

impl Topics {
    /// Folds the reference data once.
    pub(crate) fn new(categories: &[CategoryRow], wilayas: &[Wilaya]) -> Self {
        let mut lexemes = Vec::new();
        let mut add = |folded: &str, owner: Owner, with_skeletons: bool| {
            let skeletons = if with_skeletons {
                skeletons(folded)
            } else {
                String::new()
            };
            for lexeme in folded.split(' ').chain(skeletons.split(' ')) {
                if !lexeme.is_empty() {
                    lexemes.push((lexeme.to_owned(), owner));
                }
            }
        };
        for category in categories {
            add(
                &category_text(categories, category.id),
                Owner::Category(category.id),
                true,
            );
        }
        for (i, wilaya) in wilayas.iter().enumerate() {
            // Names only: both spellings are there already, and three consonants of a trade
            // would name a wilaya (`boucher` and Béchar are both `bcr`).
            add(&wilaya_text(wilaya), Owner::Wilaya(i), false);
        }
        lexemes.sort_unstable();
        lexemes.dedup();
        Self {
            lexemes,
            wilayas: wilayas.iter().map(|wilaya| wilaya.code.clone()).collect(),
        }
    }

    /// The categories and wilayas whose words `term` matches, as it would match them in a
    /// vector: its word as a prefix (whole when short), its skeleton or one of its corrections
    /// exactly. A word the dictionary holds names categories by its spelling only, not by its
    /// skeleton: skeletons are how a Darija spelling finds its trade (`sebbek`: `سباك`), and a
    /// known word has its own meaning (the surname `mansouri` and `menuisier` are both `mnsr`).
    pub(crate) fn matching(&self, term: &Term) -> (Vec<i16>, Vec<String>) {
        let mut owners: Vec<Owner> = Vec::new();
        let prefix = term.word.chars().count() >= MIN_TOPIC_PREFIX_CHARS;
        owners.extend(self.starting_with(&term.word, prefix));
        let skeleton = term.skeleton.iter().filter(|_| !term.known);
        for exact in skeleton.chain(&term.corrections) {
            owners.extend(self.starting_with(exact, false));
        }
        owners.sort_unstable();
        owners.dedup();
        let mut categories = Vec::new();
        let mut wilayas = Vec::new();
        for owner in owners {
            match owner {
                Owner::Category(id) => categories.push(id),
                Owner::Wilaya(i) => wilayas.extend(self.wilayas.get(i).cloned()),
            }
        }
        (categories, wilayas)
    }

    /// Owners of the lexemes equal to `word`, or starting with it when `prefix`.
    fn starting_with<'a>(
        &'a self,
        word: &'a str,
        prefix: bool,
    ) -> impl Iterator<Item = Owner> + 'a {
        let start = self
            .lexemes
            .partition_point(|(lexeme, _)| lexeme.as_str() < word);
        self.lexemes[start..]
            .iter()
            .take_while(move |(lexeme, _)| {
                if prefix {
                    lexeme.starts_with(word)
                } else {
                    lexeme == word
                }
            })
            .map(|(_, owner)| *owner)
    }
}

/// A category's text, folded: its names, keywords and slug, and its ancestors'. A root's
/// keywords apply to all its children (`avocat` for all of law), which the seed data keeps true.
pub(crate) fn category_text(categories: &[CategoryRow], id: i16) -> String {
    let mut parts: Vec<&str> = Vec::new();
    let mut current = categories.iter().find(|category| category.id == id);
    while let Some(category) = current {
        parts.extend([
            category.name_fr.as_str(),
            category.name_ar.as_str(),
            category.keywords.as_str(),
            category.slug.as_str(),
        ]);
        current = category
            .parent_id
            .and_then(|parent| categories.iter().find(|c| c.id == parent));
    }
    fold(&parts.join(" "))
}

/// A wilaya's names, folded.
pub(crate) fn wilaya_text(wilaya: &Wilaya) -> String {
    fold(&format!("{} {}", wilaya.name_fr, wilaya.name_ar))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::search::terms;

    fn category(
        id: i16,
        parent_id: Option<i16>,
        slug: &str,
        fr: &str,
        keywords: &str,
    ) -> CategoryRow {
        CategoryRow {
            id,
            parent_id,
            slug: slug.to_owned(),
            name_fr: fr.to_owned(),
            name_ar: String::new(),
            keywords: keywords.to_owned(),
        }
    }

    #[test]
    fn words_match_categories_with_their_ancestors_and_wilayas_by_name() {
        let categories = [
            category(1, None, "sante", "Santé", "tbib toubib"),
            category(2, Some(1), "dentiste", "Dentiste", "طبيب أسنان snan"),
            category(3, None, "artisans", "Artisans", ""),
            category(4, Some(3), "plombier", "Plombier", "سباك sebbak"),
        ];
        let wilayas = [
            Wilaya {
                code: "31".to_owned(),
                name_fr: "Oran".to_owned(),
                name_ar: "وهران".to_owned(),
            },
            Wilaya {
                code: "08".to_owned(),
                name_fr: "Béchar".to_owned(),
                name_ar: "بشار".to_owned(),
            },
        ];
        let topics = Topics::new(&categories, &wilayas);
        let matching = |query: &str| topics.matching(&terms(query)[0]);
        assert_eq!(matching("santé").0, [1, 2], "a root finds its children");
        assert_eq!(matching("dent").0, [2], "a prefix");
        assert_eq!(matching("سباك").0, [4]);
        assert_eq!(matching("oran").1, ["31"]);
        assert_eq!(matching("وهران").1, ["31"]);
        assert_eq!(matching("plomb"), (vec![4], vec![]));
        assert_eq!(matching("xyz"), (vec![], vec![]));
        assert_eq!(matching("bechar").1, ["08"]);
        assert!(matching("boucher").1.is_empty(), "no wilaya by skeleton");
        // `sbk`, the skeleton of `sebbek`, is also the skeleton of `sebbak` and `سباك`.
        assert_eq!(matching("sebbek").0, [4], "by skeleton");
        // Were `sebbek` a word of the dictionary (a surname, say), it would mean itself.
        let mut known = terms("sebbek").remove(0);
        known.known = true;
        assert!(
            topics.matching(&known).0.is_empty(),
            "a known word: no skeleton"
        );
        assert_eq!(
            matching("sebbak").0,
            [4],
            "its keyword still matches by spelling"
        );
        let mut misspelt = terms("plonbier").remove(0);
        assert!(topics.matching(&misspelt).0.is_empty());
        misspelt.corrections = vec!["plombier".to_owned()];
        assert_eq!(topics.matching(&misspelt).0, [4], "by correction");
    }
}
