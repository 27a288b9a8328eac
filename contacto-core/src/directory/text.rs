//! Search text, folded the same way when it is indexed and when it is asked for: accents, case,
//! Arabic letter variants and diacritics do not matter, and Arabic and Latin spellings of a name
//! meet through a consonant skeleton. Pure functions, no I/O.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Folds text for matching: compatibility decomposition with combining marks removed (French
/// accents, Arabic tashkeel and the hamza carried by alef, waw and yeh), lower case, the Arabic
/// variants people type interchangeably unified (alef wasla to alef, taa marbuta to heh, alef
/// maqsura to yeh), tatweel removed, Arabic-Indic digits to ASCII, and everything that is not a
/// letter or digit turned into single spaces.
pub(crate) fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = true;
    for c in text.nfkd() {
        if is_combining_mark(c) {
            continue;
        }
        let mapped: &[char] = match c {
            'ٱ' => &['ا'],
            'ة' => &['ه'],
            'ى' => &['ي'],
            'ـ' => &[],
            'œ' | 'Œ' => &['o', 'e'],
            'æ' | 'Æ' => &['a', 'e'],
            'ß' => &['s', 's'],
            '٠'..='٩' => {
                let digit = u32::from(c) - u32::from('٠');
                out.push(char::from_digit(digit, 10).unwrap_or('0'));
                space = false;
                continue;
            }
            c if c.is_alphanumeric() => {
                for lower in c.to_lowercase() {
                    out.push(lower);
                }
                space = false;
                continue;
            }
            _ => {
                if !space {
                    out.push(' ');
                    space = true;
                }
                continue;
            }
        };
        if !mapped.is_empty() {
            out.extend(mapped);
            space = false;
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// The consonant skeleton of one folded word, shared by its Arabic and Latin spellings: `محمد`
/// and `mohamed` both give `mhmd`, `سباك` and `sebbak` give `sbk`. Vowels (and the letters Arabic
/// writes for them) are dropped, sounds spelt differently are merged (`ch`/`sh`/`ش` → `c`,
/// `kh`/`خ` → `x`, `dj`/`j`/`ج` → `j`, `q`/`k`/`ك`/`ق` → `k`), and doubled consonants collapse.
/// `None` when fewer than three consonants remain: too short to mean anything.
pub(crate) fn skeleton(word: &str) -> Option<String> {
    let chars: Vec<char> = word.chars().collect();
    let mut out = String::new();
    let mut push = |c: char| {
        if !out.ends_with(c) {
            out.push(c);
        }
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let last = i + 1 == chars.len();
        let (sound, width) = match (c, next) {
            ('c' | 's', Some('h')) => (Some('c'), 2),
            ('k', Some('h')) => (Some('x'), 2),
            ('g', Some('h')) => (Some('g'), 2),
            ('t', Some('h')) => (Some('t'), 2),
            ('d', Some('h')) => (Some('d'), 2),
            ('d', Some('j')) => (Some('j'), 2),
            ('c', Some('e' | 'i' | 'y')) => (Some('s'), 1),
            ('c' | 'q' | 'k', _) => (Some('k'), 1),
            ('p', _) => (Some('b'), 1),
            ('v', _) => (Some('f'), 1),
            ('x', _) => {
                push('k');
                (Some('s'), 1)
            }
            ('a' | 'e' | 'i' | 'o' | 'u' | 'y' | 'w', _) => (None, 1),
            ('b' | 'd' | 'f' | 'g' | 'h' | 'j' | 'l' | 'm' | 'n' | 'r' | 's' | 't' | 'z', _) => {
                (Some(c), 1)
            }
            // Arabic, after folding.
            ('ب' | 'پ', _) => (Some('b'), 1),
            ('ت' | 'ث' | 'ط', _) => (Some('t'), 1),
            ('ج', _) => (Some('j'), 1),
            ('ح', _) => (Some('h'), 1),
            // A final heh is usually a folded taa marbuta, a vowel (`فاطمة`, `fatma`).
            ('ه', _) if last => (None, 1),
            ('ه', _) => (Some('h'), 1),
            ('خ', _) => (Some('x'), 1),
            ('د' | 'ذ' | 'ض' | 'ظ', _) => (Some('d'), 1),
            ('ر', _) => (Some('r'), 1),
            ('ز', _) => (Some('z'), 1),
            ('س' | 'ص', _) => (Some('s'), 1),
            ('ش', _) => (Some('c'), 1),
            ('غ' | 'گ' | 'ڨ', _) => (Some('g'), 1),
            ('ف' | 'ڤ', _) => (Some('f'), 1),
            ('ق' | 'ك', _) => (Some('k'), 1),
            ('ل', _) => (Some('l'), 1),
            ('م', _) => (Some('m'), 1),
            ('ن', _) => (Some('n'), 1),
            // Alef, waw, yeh, ain and hamza: vowels or sounds Latin spellings leave out.
            _ => (None, 1),
        };
        if let Some(sound) = sound {
            push(sound);
        }
        i += width;
    }
    (out.chars().count() >= 3).then_some(out)
}

/// The skeletons of every word of a folded text, space separated, without repeats.
pub(crate) fn skeletons(folded: &str) -> String {
    let mut seen: Vec<String> = Vec::new();
    for word in folded.split(' ') {
        if let Some(skeleton) = skeleton(word)
            && !seen.contains(&skeleton)
        {
            seen.push(skeleton);
        }
    }
    seen.join(" ")
}

/// Transliterates Arabic letters to Latin ones for slugs: a rough, readable rendering, not a
/// standard romanisation.
fn latin(c: char) -> &'static str {
    match c {
        'ا' | 'أ' | 'إ' | 'آ' | 'ى' => "a",
        'ب' => "b",
        'ت' | 'ط' => "t",
        'ث' => "th",
        'ج' => "dj",
        'ح' | 'ه' => "h",
        'خ' => "kh",
        'د' | 'ض' => "d",
        'ذ' | 'ظ' => "dh",
        'ر' => "r",
        'ز' => "z",
        'س' | 'ص' => "s",
        'ش' => "ch",
        'ع' => "a",
        'غ' => "gh",
        'ف' | 'ڤ' => "f",
        'ق' | 'ڨ' => "k",
        'ك' => "k",
        'ل' => "l",
        'م' => "m",
        'ن' => "n",
        'و' => "ou",
        'ي' => "i",
        // Tamazight in Tifinagh, as Kabyle is written in Latin letters (ⵖ: ɣ, ⵛ: c, ⵞ: č).
        'ⴰ' => "a",
        'ⴱ' => "b",
        'ⴳ' => "g",
        'ⴴ' | 'ⵖ' => "gh",
        'ⴵ' | 'ⴶ' => "dj",
        'ⴷ' | 'ⴹ' => "d",
        'ⴸ' => "dh",
        'ⴻ' => "e",
        'ⴼ' => "f",
        'ⴽ' => "k",
        'ⵀ' | 'ⵃ' => "h",
        'ⵄ' => "a",
        'ⵅ' => "kh",
        'ⵇ' => "q",
        'ⵉ' => "i",
        'ⵊ' => "j",
        'ⵍ' => "l",
        'ⵎ' => "m",
        'ⵏ' => "n",
        'ⵒ' => "p",
        'ⵓ' => "u",
        'ⵔ' | 'ⵕ' => "r",
        'ⵙ' | 'ⵚ' => "s",
        'ⵛ' => "ch",
        'ⵜ' | 'ⵟ' => "t",
        'ⵝ' => "th",
        'ⵞ' => "tch",
        'ⵠ' => "v",
        'ⵡ' => "w",
        'ⵢ' => "y",
        'ⵣ' | 'ⵥ' => "z",
        // Kabyle's Latin letters that have no decomposition (ḍ, č, ǧ... lose their marks when
        // folded): ɛ is the ayin (ع above), ɣ the ghayn.
        'ɛ' => "a",
        'ɣ' => "gh",
        _ => "",
    }
}

/// A URL slug from a name: folded, Arabic and Tifinagh transliterated, ASCII letters and digits
/// joined by hyphens, at most 60 characters. `None` when nothing usable remains.
pub(crate) fn slugify(name: &str) -> Option<String> {
    /// Long enough to stay recognisable, short enough for a URL.
    const MAX_SLUG_CHARS: usize = 60;
    let mut slug = String::new();
    for word in fold(name).split(' ') {
        let mut part = String::new();
        for c in word.chars() {
            if c.is_ascii_alphanumeric() {
                part.push(c);
            } else {
                part.push_str(latin(c));
            }
        }
        if part.is_empty() {
            continue;
        }
        if slug.len() + part.len() + 1 > MAX_SLUG_CHARS {
            break;
        }
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str(&part);
    }
    (!slug.is_empty()).then_some(slug)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_ignores_accents_case_and_arabic_variants() {
        let cases = [
            ("Électricien", "electricien"),
            ("PLOMBIER-Chauffagiste", "plombier chauffagiste"),
            ("  cœur  d'Alger ", "coeur d alger"),
            ("أحمد", "احمد"),
            ("إسلام", "اسلام"),
            ("آمنة", "امنه"),
            ("مُحَمَّد", "محمد"),
            ("مـحـمـد", "محمد"),
            ("مستشفى", "مستشفي"),
            ("٠٥٥١", "0551"),
            ("Bab-Ezzouar", "bab ezzouar"),
        ];
        for (input, folded) in cases {
            assert_eq!(fold(input), folded, "{input}");
        }
    }

    #[test]
    fn arabic_and_latin_spellings_share_a_skeleton() {
        let pairs = [
            ("محمد", "mohamed"),
            ("كريم", "karim"),
            ("سباك", "sebbak"),
            ("مختار", "mokhtar"),
            ("خالد", "khaled"),
            ("جمال", "djamel"),
            ("شريف", "cherif"),
            ("فاطمة", "fatma"),
        ];
        for (arabic, latin) in pairs {
            assert_eq!(
                skeleton(&fold(arabic)),
                skeleton(latin),
                "{arabic} and {latin}"
            );
            assert!(skeleton(latin).is_some(), "{latin}");
        }
        assert_eq!(skeleton("ali"), None, "too short to mean anything");
    }

    #[test]
    fn slugs_are_ascii_and_readable() {
        assert_eq!(slugify("Karim Benali").as_deref(), Some("karim-benali"));
        assert_eq!(
            slugify("Cabinet Dr. Émilie Lefèvre").as_deref(),
            Some("cabinet-dr-emilie-lefevre")
        );
        assert_eq!(slugify("محمد").as_deref(), Some("mhmd"));
        // Tamazight, in Tifinagh and in Kabyle's Latin letters (ɛ, ɣ have no decomposition).
        assert_eq!(
            slugify("ⵎⵓⵍⵓⴷ ⴰⵜ ⵎⵄⵎⵎⴻⵕ").as_deref(),
            Some("mulud-at-mammer")
        );
        assert_eq!(
            slugify("Mouloud At Mɛemmer").as_deref(),
            Some("mouloud-at-maemmer")
        );
        assert_eq!(slugify("Ɣerdaya").as_deref(), Some("gherdaya"));
        assert_eq!(slugify("!!!"), None);
        let long = slugify(&"abcdefghij ".repeat(20)).unwrap();
        assert!(long.len() <= 60, "{long}");
    }
}
