//! Making trace strings inert: names come from the profiled program and may
//! hold markup, control characters or table-breaking pipes.

/// Escape text for HTML element content and quoted attribute values.
/// Control characters are shown as `\u{..}` so they stay visible.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Escape text for a Markdown table cell or inline text: markup characters
/// are backslash-escaped, `|` cannot split a cell, newlines and control
/// characters cannot end a row, and `<` cannot open raw HTML.
pub fn markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '~' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Text for a terminal: control characters (escape sequences) made visible.
pub fn terminal(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { '?' } else { c }).collect()
}

/// Shorten `s` to at most `max` characters, marking the cut with `…`.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_inert() {
        assert_eq!(
            html("<script>alert(\"x\")</script>&'"),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"
        );
        assert_eq!(html("a\u{1b}[0m\nb"), "a\\u{1b}[0m\\u{a}b");
    }

    #[test]
    fn markdown_cannot_break_a_table() {
        let s = markdown("a|b\nc<img src=x>`*_");
        assert!(!s.contains('\n'));
        assert!(!s.contains('<'));
        assert_eq!(s.matches('|').count(), s.matches("\\|").count());
    }

    #[test]
    fn truncation() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }
}
