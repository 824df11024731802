//! How figures and text are written in every report (compare, site, charts, labels, run
//! summary): numbers to 4 significant digits, percentages, p-values, Markdown cells.

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

/// Escapes text for a Markdown table cell (pipes, HTML, line breaks, emphasis characters).
pub fn md_cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
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
    }
}
