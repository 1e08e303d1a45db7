//! Charts as inline SVG (no script, no external file): lines over labels, with the
//! axis maximum and a legend. Every text is escaped here, since the templates insert
//! the result as it is.

use std::fmt::Write as _;

const W: f64 = 640.0;
const H: f64 = 180.0;
const PAD: f64 = 28.0;
const COLOURS: [&str; 6] = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2"];

/// Escape text for SVG/HTML.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A line chart of `lines` (name, one value per label) over `labels`.
pub(crate) fn chart(title: &str, labels: &[String], lines: &[(String, Vec<i64>)]) -> String {
    let max = lines.iter().flat_map(|(_, v)| v.iter().copied()).max().unwrap_or(0).max(1);
    let min = lines.iter().flat_map(|(_, v)| v.iter().copied()).min().unwrap_or(0).min(0);
    let span = (max - min).max(1) as f64;
    let n = labels.len().max(lines.iter().map(|(_, v)| v.len()).max().unwrap_or(0));
    let x = |i: usize| PAD + if n > 1 { (W - 2.0 * PAD) * i as f64 / (n - 1) as f64 } else { (W - 2.0 * PAD) / 2.0 };
    let y = |v: i64| H - PAD - (H - 2.0 * PAD) * (v - min) as f64 / span;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<figure class="chart"><figcaption>{}</figcaption><svg viewBox="0 0 {W} {H}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">"#,
        escape(title),
        escape(title)
    );
    let _ = write!(
        s,
        r##"<line x1="{PAD}" y1="{b}" x2="{r}" y2="{b}" stroke="#999"/><text x="2" y="{t}" font-size="10">{max}</text><text x="2" y="{b}" font-size="10">{min}</text>"##,
        b = H - PAD,
        r = W - PAD,
        t = PAD,
    );
    if n == 0 {
        let _ = write!(s, r#"<text x="{}" y="{}" font-size="12">no data yet</text>"#, W / 2.0 - 30.0, H / 2.0);
    }
    let step = (n / 8).max(1);
    for (i, l) in labels.iter().enumerate().filter(|(i, _)| i % step == 0) {
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{}" font-size="10" text-anchor="middle">{}</text>"#,
            x(i),
            H - 8.0,
            escape(l)
        );
    }
    for (k, (name, values)) in lines.iter().enumerate() {
        let colour = COLOURS[k % COLOURS.len()];
        let points: Vec<String> = values.iter().enumerate().map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v))).collect();
        if points.len() == 1 {
            let _ = write!(s, r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{colour}"/>"#, x(0), y(values[0]));
        } else if !points.is_empty() {
            let _ = write!(
                s,
                r#"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"/>"#,
                points.join(" ")
            );
        }
        let _ = write!(
            s,
            r#"<rect x="{lx}" y="4" width="10" height="10" fill="{colour}"/><text x="{tx}" y="13" font-size="11">{}</text>"#,
            escape(name),
            lx = PAD + 120.0 * k as f64,
            tx = PAD + 14.0 + 120.0 * k as f64,
        );
    }
    s.push_str("</svg></figure>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_escapes_its_texts() {
        let c = chart("<b>", &["a&b".into()], &[("<script>".into(), vec![1])]);
        assert!(c.contains("&lt;b&gt;") && c.contains("a&amp;b") && c.contains("&lt;script&gt;"));
        assert!(!c.contains("<script>"));
    }
}
