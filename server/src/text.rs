//! Input rules shared by every context, stated so the OpenAPI description can say exactly
//! the same (`\S` patterns, `format: uuid`): what one accepts, the other accepts.

use uuid::Uuid;

/// True when `text` has nothing but whitespace. Whitespace is what the regular expressions
/// of the API's tooling (`\s`, Python's and most others') count as such: Unicode's
/// White_Space plus the information separators U+001C..U+001F.
pub fn is_blank(text: &str) -> bool {
    text.chars()
        .all(|c| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c))
}

/// A UUID only in its canonical hyphenated form (what `format: uuid` means), never the
/// braced, URN or bare-hex forms a lenient parser would also take.
pub fn parse_uuid(raw: &str) -> Option<Uuid> {
    let bytes = raw.as_bytes();
    let hyphens_in_place = bytes.len() == 36
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| matches!(i, 8 | 13 | 18 | 23) == (*b == b'-'));
    if !hyphens_in_place {
        return None;
    }
    Uuid::parse_str(raw).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_is_whitespace_of_any_kind_and_nothing_else() {
        for blank in ["", " ", "\t\n", "\u{a0}\u{3000}", "\u{1c}\u{1f}"] {
            assert!(is_blank(blank), "{blank:?}");
        }
        for text in ["a", " a ", "\u{0}", "\u{200b}"] {
            assert!(!is_blank(text), "{text:?}");
        }
    }

    #[test]
    fn only_the_hyphenated_form_is_a_uuid() {
        let id = Uuid::now_v7();
        assert_eq!(parse_uuid(&id.to_string()), Some(id));
        assert_eq!(parse_uuid(&id.to_string().to_uppercase()), Some(id));
        for other in [
            id.simple().to_string(),
            id.braced().to_string(),
            id.urn().to_string(),
            String::new(),
            "g".repeat(36),
            format!("{}-", &id.to_string()[..35]),
        ] {
            assert_eq!(parse_uuid(&other), None, "{other}");
        }
    }
}
