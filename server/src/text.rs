//! Input rules shared by every context, stated so the OpenAPI description can say exactly
//! the same (not-blank patterns, `format: uuid`): what one accepts, the other accepts.

use uuid::Uuid;

/// True when `text` has nothing but whitespace.
///
/// Regex dialects disagree on `\s`: Python's adds the information separators U+001C..U+001F,
/// ECMAScript's (what JSON Schema patterns are) adds U+FEFF and drops U+0085. So the OpenAPI
/// patterns never say `\s` or `\S`; they list the characters, and this is the same list:
/// Unicode's White_Space plus both dialects' additions. A text is blank for us exactly when
/// every tool reading the description would call it blank.
pub fn is_blank(text: &str) -> bool {
    text.chars().all(is_whitespace)
}

/// One character of the whitespace set above.
pub fn is_whitespace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c) || c == '\u{feff}'
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
        for blank in [
            "",
            " ",
            "\t\n",
            "\u{a0}\u{3000}",
            "\u{1c}\u{1f}",
            "\u{85}",
            "\u{feff}",
        ] {
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

    /// Every pattern in the served description that speaks of blankness lists the same
    /// characters as `is_whitespace`, checked over all of Unicode with a regex engine; none
    /// says `\s`, whose meaning depends on who reads it.
    #[test]
    fn the_openapi_patterns_call_blank_what_the_server_does() {
        use utoipa::OpenApi;
        let doc = serde_json::to_value(crate::http::openapi::ApiDoc::openapi()).unwrap();
        let mut patterns = Vec::new();
        collect_patterns(&doc, &mut patterns);
        assert!(!patterns.is_empty());
        let mut not_blank = 0;
        for pattern in &patterns {
            assert!(
                !pattern.contains(r"\s") && !pattern.contains(r"\S"),
                "{pattern} says \\s, which tools read differently"
            );
            if !pattern.contains(r"\u3000") {
                continue;
            }
            not_blank += 1;
            let regex = regex::Regex::new(pattern).unwrap();
            // Titles also refuse brackets (the Jira id has its own field).
            let refuses_brackets = pattern.contains(r"[^\[\]");
            for c in (0..=0x10FFFF).filter_map(char::from_u32) {
                let bracket = c == '[' || c == ']';
                assert_eq!(
                    regex.is_match(&c.to_string()),
                    !(is_whitespace(c) || refuses_brackets && bracket),
                    "{pattern} and is_whitespace disagree on U+{:04X}",
                    c as u32
                );
            }
        }
        assert_eq!(
            not_blank, 4,
            "full names (2), dead-letter reasons and task titles"
        );
    }

    fn collect_patterns(value: &serde_json::Value, into: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, value) in map {
                    match (key.as_str(), value) {
                        ("pattern", serde_json::Value::String(p)) => into.push(p.clone()),
                        _ => collect_patterns(value, into),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| collect_patterns(v, into)),
            _ => {}
        }
    }
}
