//! How figures and text are written in every report (compare, site, charts, labels, run
//! summary): numbers to 4 significant digits, percentages, p-values, Markdown cells, and the
//! two guards for text that comes from a result file: [`sanitize`] (control and bidi
//! characters) and [`csv_text`] (spreadsheet formulas).

use std::borrow::Cow;

/// What [`sanitize`] puts in place of each character it removes: U+FFFD, so a doctored id
/// stays visibly different from the genuine one (`gpt\u{202E}4` shows as `gpt�4`, never as
/// `gpt4`) and nothing is silently merged.
pub const REPLACEMENT: char = '\u{FFFD}';

/// Whether `c` is never written as is into a report: C0 and C1 control characters and DEL
/// (Unicode category Cc: ESC sequences, NUL, backspace, tab, line breaks), the bidi
/// embeddings, overrides, isolates and marks (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F,
/// U+061C) and the Unicode line and paragraph separators (U+2028, U+2029).
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{061C}'
                | '\u{2028}'
                | '\u{2029}'
        )
}

fn replace_where(s: &str, unsafe_char: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !s.chars().any(&unsafe_char) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| if unsafe_char(c) { REPLACEMENT } else { c })
            .collect(),
    )
}

/// Text from a result file (model id, arch, dtype, CPU name, source names, notes, paths,
/// reasons) made safe to render anywhere — HTML, SVG, PNG text, CSV, Markdown, a terminal:
/// every [`is_unsafe_char`] becomes [`REPLACEMENT`]. So no terminal escape sequence, no
/// character XML forbids and no bidi reordering ever reaches an output. Borrowed when
/// nothing had to change.
pub fn sanitize(s: &str) -> Cow<'_, str> {
    replace_where(s, is_unsafe_char)
}

/// [`sanitize`] for a whole markup document (an SVG file): keeps the line breaks and tabs
/// between elements, replaces every other unsafe character.
pub fn sanitize_markup(s: &str) -> Cow<'_, str> {
    replace_where(s, |c| !matches!(c, '\n' | '\r' | '\t') && is_unsafe_char(c))
}

/// A *text* cell of a CSV export: [`sanitize`]d, then, when it starts with `=`, `+`, `-`,
/// `@`, a tab or a carriage return, prefixed with `'` so a spreadsheet shows it as text
/// instead of running it as a formula (OWASP's CSV-injection rule). Numeric columns are
/// written without it, so a negative number stays a number. Every CSV exporter uses this.
pub fn csv_text(s: &str) -> String {
    let clean = sanitize(s);
    if clean.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{clean}")
    } else {
        clean.into_owned()
    }
}

/// A number with 4 significant digits, no exponent for everyday magnitudes.
pub fn num(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    if x == 0.0 {
        return "0".into();
    }
    let digits = (4 - 1 - x.abs().log10().floor() as i32).clamp(0, 12) as usize;
    let s = format!("{x:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// `10000` → `10,000`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A change in percent with its sign: `+12.3%`, `−4.0%`.
pub fn pct(change: f64) -> String {
    if change >= 0.0 {
        format!("+{:.1}%", change)
    } else {
        format!("−{:.1}%", -change)
    }
}

/// A p-value to 4 decimals, `< 0.0001` below that.
pub fn p_value(p: f64) -> String {
    if p < 0.0001 {
        "< 0.0001".into()
    } else {
        format!("{p:.4}")
    }
}

/// Escapes text for a Markdown table cell (pipes, HTML, line breaks, emphasis characters),
/// after [`sanitize`] (line breaks become spaces first).
pub fn md_cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let c = match c {
            '\n' | '\r' => ' ',
            c if is_unsafe_char(c) => REPLACEMENT,
            c => c,
        };
        match c {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_four_significant_digits() {
        assert_eq!(num(0.154361111), "0.1544");
        assert_eq!(num(1234.5678), "1235");
        assert_eq!(num(5.0), "5");
        assert_eq!(num(0.0), "0");
        assert_eq!(num(-2.5), "-2.5");
    }

    #[test]
    fn thousands_pct_and_p_values() {
        assert_eq!(thousands(10_000), "10,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(pct(12.34), "+12.3%");
        assert_eq!(pct(-4.0), "−4.0%");
        assert_eq!(p_value(0.00001), "< 0.0001");
        assert_eq!(p_value(0.05), "0.0500");
    }

    #[test]
    fn markdown_cells_cannot_break_the_table_or_inject_html() {
        assert_eq!(md_cell("a|b<script>*x*\n"), "a\\|b&lt;script&gt;\\*x\\* ");
        assert_eq!(md_cell("a\u{1b}[31m\u{202E}b"), "a\u{FFFD}\\[31m\u{FFFD}b");
    }

    #[test]
    fn sanitize_replaces_control_and_bidi_characters() {
        let hostile = "m\u{1b}[31m\u{0}x\u{8}\u{202E}y\u{2066}\u{200F}\u{61C}\u{85}\u{7f}\n\t";
        let clean = sanitize(hostile);
        assert!(!clean.chars().any(is_unsafe_char), "{clean:?}");
        assert_eq!(clean, "m\u{FFFD}[31m\u{FFFD}x\u{FFFD}\u{FFFD}y\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}");
        assert!(matches!(
            sanitize("all-minilm-l6-v2 é 日本"),
            Cow::Borrowed(_)
        ));
        assert_eq!(sanitize_markup("<a>\n\u{1b}</a>"), "<a>\n\u{FFFD}</a>");
    }

    #[test]
    fn csv_text_neutralises_formulas_and_only_them() {
        for (input, want) in [
            (
                "=HYPERLINK(\"http://x\",\"y\")",
                "'=HYPERLINK(\"http://x\",\"y\")",
            ),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
            ("\t=1", "\u{FFFD}=1"),
            ("all-minilm-l6-v2", "all-minilm-l6-v2"),
            ("Intel(R) Xeon(R) = fast", "Intel(R) Xeon(R) = fast"),
            ("", ""),
        ] {
            assert_eq!(csv_text(input), want, "{input:?}");
        }
    }
}
