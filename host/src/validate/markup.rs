//! Telegram's two markup languages, checked the way the Bot API parses them, so that a
//! message a plugin queues is not refused later ("can't parse entities") and
//! dead-lettered where nobody sees it. Each checker returns the visible text (markup
//! removed, entities decoded) so the caller can refuse a message that shows nothing.
//!
//! HTML: the tags of <https://core.telegram.org/bots/api#html-style> with their
//! attributes, the entities `&lt; &gt; &amp; &quot;` and numeric ones, balanced and
//! properly nested. MarkdownV2: <https://core.telegram.org/bots/api#markdownv2-style>.

/// Check Telegram HTML; `Ok(visible text)` or what is wrong.
pub fn html(text: &str) -> Result<String, String> {
    let mut visible = String::with_capacity(text.len());
    let mut open: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        match c {
            '<' => {
                let end =
                    rest.find('>').ok_or_else(|| "HTML: a '<' is not part of a tag; write it as &lt;".to_owned())?;
                tag(&rest[1..end], &mut open)?;
                rest = &rest[end + 1..];
            }
            '&' => {
                let (decoded, len) = entity(rest)?;
                visible.push(decoded);
                rest = &rest[len..];
            }
            _ => {
                visible.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    if let Some(t) = open.last() {
        return Err(format!("HTML: <{t}> is never closed"));
    }
    Ok(visible)
}

/// Tags whose content may hold any other entity.
const FORMATTING: &[&str] = &["b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler"];

fn tag(inner: &str, open: &mut Vec<String>) -> Result<(), String> {
    if let Some(name) = inner.strip_prefix('/') {
        let name = name.trim().to_ascii_lowercase();
        return match open.pop() {
            Some(top) if top == name => Ok(()),
            Some(top) => Err(format!("HTML: </{name}> closes <{top}>; tags must be properly nested")),
            None => Err(format!("HTML: </{name}> closes nothing")),
        };
    }
    let (name, attrs) = inner.split_once(|c: char| c.is_ascii_whitespace()).unwrap_or((inner, ""));
    let name = name.to_ascii_lowercase();
    if name.is_empty() || name.ends_with('/') || attrs.trim_end().ends_with('/') {
        return Err(format!("HTML: <{}> is not a supported tag", inner.trim()));
    }
    let attrs = attributes(attrs).map_err(|e| format!("HTML: <{name}>: {e}"))?;
    let parent = open.last().map(String::as_str);
    if matches!(parent, Some("code")) || (matches!(parent, Some("pre")) && name != "code") {
        return Err(format!("HTML: <{name}> cannot be inside <{}>", parent.unwrap_or_default()));
    }
    let only = |allowed: &[&str]| -> Result<(), String> {
        match attrs.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
            Some((k, _)) => Err(format!("HTML: <{name}> does not take the attribute {k:?}")),
            None => Ok(()),
        }
    };
    let attr = |key: &str| attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    match name.as_str() {
        "span" => {
            only(&["class"])?;
            if attr("class") != Some("tg-spoiler") {
                return Err("HTML: <span> is supported only as <span class=\"tg-spoiler\">".into());
            }
        }
        n if FORMATTING.contains(&n) => only(&[])?,
        "a" => {
            only(&["href"])?;
            if attr("href").is_none_or(|h| h.trim().is_empty()) {
                return Err("HTML: <a> needs a non-empty href".into());
            }
            if open.iter().any(|t| t == "a") {
                return Err("HTML: a link cannot be inside another link".into());
            }
        }
        "tg-emoji" => {
            only(&["emoji-id"])?;
            if !attr("emoji-id").is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())) {
                return Err("HTML: <tg-emoji> needs a numeric emoji-id".into());
            }
        }
        "code" => {
            only(&["class"])?;
            match attr("class") {
                None => {}
                Some(c) if parent == Some("pre") && c.len() > "language-".len() && c.starts_with("language-") => {}
                Some(c) => {
                    return Err(format!(
                        "HTML: <code class={c:?}>: a language (class=\"language-…\") is allowed only on a <code> directly inside <pre>"
                    ));
                }
            }
        }
        "pre" => only(&[])?,
        "blockquote" => {
            only(&["expandable"])?;
            if open.iter().any(|t| t == "blockquote") {
                return Err("HTML: <blockquote> cannot be inside another <blockquote>".into());
            }
        }
        _ => return Err(format!("HTML: <{name}> is not a tag Telegram supports")),
    }
    open.push(name);
    Ok(())
}

/// `key="value"`, `key='value'` or a bare `key`, separated by whitespace.
fn attributes(mut s: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    loop {
        s = s.trim_start();
        if s.is_empty() {
            return Ok(out);
        }
        let key_end = s.find(|c: char| c == '=' || c.is_ascii_whitespace()).unwrap_or(s.len());
        let key = s[..key_end].to_ascii_lowercase();
        s = s[key_end..].trim_start();
        let Some(after) = s.strip_prefix('=') else {
            out.push((key, String::new()));
            continue;
        };
        let after = after.trim_start();
        let quote = after.chars().next().filter(|q| *q == '"' || *q == '\'');
        let (raw, rest) = match quote {
            Some(q) => {
                let end = after[1..].find(q).ok_or_else(|| format!("the value of {key:?} is not closed"))?;
                (&after[1..=end], &after[end + 2..])
            }
            None => {
                let end = after.find(|c: char| c.is_ascii_whitespace()).unwrap_or(after.len());
                (&after[..end], &after[end..])
            }
        };
        let mut value = String::new();
        let mut r = raw;
        while let Some(c) = r.chars().next() {
            if c == '&' {
                let (d, len) = entity(r)?;
                value.push(d);
                r = &r[len..];
            } else {
                value.push(c);
                r = &r[c.len_utf8()..];
            }
        }
        out.push((key, value));
        s = rest;
    }
}

/// Decode the entity at the start of `s` (which starts with '&'): the character and the
/// entity's length in bytes.
fn entity(s: &str) -> Result<(char, usize), String> {
    let bad = || {
        let shown: String = s.chars().take(12).collect();
        format!(
            "HTML: {shown:?} is not an entity Telegram knows (&lt; &gt; &amp; &quot; or numeric); write a lone '&' as &amp;"
        )
    };
    let end = s.find(';').filter(|e| *e <= 12).ok_or_else(bad)?;
    let body = &s[1..end];
    let c = match body {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "quot" => '"',
        _ => {
            let code = match body.strip_prefix('#') {
                Some(hex) if hex.starts_with(['x', 'X']) => u32::from_str_radix(&hex[1..], 16).ok(),
                Some(dec) => dec.parse::<u32>().ok(),
                None => None,
            };
            code.and_then(char::from_u32).filter(|c| *c != '\0').ok_or_else(bad)?
        }
    };
    Ok((c, end + 1))
}

/// Characters MarkdownV2 reserves: they must be escaped with '\' outside entities.
const RESERVED: &str = "_*[]()~`>#+-=|{}.!";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Md {
    Bold,
    Italic,
    Underline,
    Strike,
    Spoiler,
    Link,
}

impl Md {
    fn marker(self) -> &'static str {
        match self {
            Self::Bold => "*",
            Self::Italic => "_",
            Self::Underline => "__",
            Self::Strike => "~",
            Self::Spoiler => "||",
            Self::Link => "[",
        }
    }
}

/// Check Telegram MarkdownV2; `Ok(visible text)` or what is wrong.
pub fn markdown_v2(text: &str) -> Result<String, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut visible = String::with_capacity(text.len());
    let mut open: Vec<Md> = Vec::new();
    let mut expandable = false;
    let mut i = 0;
    let at_line_start = |i: usize| i == 0 || chars[i - 1] == '\n';
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            '\\' => {
                let escaped = next.filter(|n| (1..=126).contains(&u32::from(*n))).ok_or_else(|| {
                    format!("MarkdownV2: the '\\' at character {} must be followed by an ASCII character", i + 1)
                })?;
                visible.push(escaped);
                i += 2;
            }
            '`' => {
                let fence = next == Some('`') && chars.get(i + 2) == Some(&'`');
                let (len, what) = if fence { (3, "```") } else { (1, "`") };
                let body = code_span(&chars[i + len..], len)
                    .ok_or_else(|| format!("MarkdownV2: the {what} at character {} is never closed", i + 1))?;
                visible.extend(&chars[i + len..i + len + body]);
                i += len + body + len;
            }
            '*' if at_line_start(i) && next == Some('*') && chars.get(i + 2) == Some(&'>') => {
                expandable = true;
                i += 3;
            }
            '>' if at_line_start(i) => i += 1,
            '|' if next == Some('|')
                && expandable
                && !open.contains(&Md::Spoiler)
                && chars.get(i + 2).is_none_or(|c| *c == '\n') =>
            {
                expandable = false;
                i += 2;
            }
            '*' | '_' | '~' | '|' | '[' => {
                let (kind, len) = match (c, next) {
                    ('*', _) => (Md::Bold, 1),
                    ('_', Some('_')) => (Md::Underline, 2),
                    ('_', _) => (Md::Italic, 1),
                    ('~', _) => (Md::Strike, 1),
                    ('|', Some('|')) => (Md::Spoiler, 2),
                    ('[', _) => (Md::Link, 1),
                    _ => return Err(reserved(c, i)),
                };
                if kind == Md::Link || !open.contains(&kind) {
                    open.push(kind);
                } else if open.last() != Some(&kind) {
                    let inner = open.last().map_or("", |k| k.marker());
                    return Err(format!(
                        "MarkdownV2: the {} at character {} closes an entity while {inner} inside it is still open",
                        kind.marker(),
                        i + 1
                    ));
                } else {
                    open.pop();
                }
                i += len;
            }
            '!' if next == Some('[') => {
                open.push(Md::Link);
                i += 2;
            }
            ']' if open.last() == Some(&Md::Link) => {
                open.pop();
                if next != Some('(') {
                    return Err(format!("MarkdownV2: the link text ending at character {} needs a (URL)", i + 1));
                }
                let url = link_target(&chars[i + 2..])
                    .ok_or_else(|| format!("MarkdownV2: the (URL) at character {} is never closed", i + 2))?;
                i += 2 + url + 1;
            }
            c if RESERVED.contains(c) => return Err(reserved(c, i)),
            c => {
                visible.push(c);
                i += 1;
            }
        }
    }
    if let Some(k) = open.last() {
        return Err(format!("MarkdownV2: an entity opened with {} is never closed", k.marker()));
    }
    Ok(visible)
}

fn reserved(c: char, i: usize) -> String {
    format!("MarkdownV2: '{c}' at character {} is reserved; escape it as '\\{c}'", i + 1)
}

/// Length of a code span's body up to its closing fence of `fence` backticks
/// (inside, '`' and '\' are escaped with '\').
fn code_span(s: &[char], fence: usize) -> Option<usize> {
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            '\\' => i += 2,
            '`' if s[i..].iter().take(fence).filter(|c| **c == '`').count() == fence => return Some(i),
            '`' if fence == 1 => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// Length of a link's URL up to its closing ')' (inside, ')' and '\' are escaped).
fn link_target(s: &[char]) -> Option<usize> {
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            '\\' => i += 2,
            ')' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_cases() {
        let good = [
            ("plain", "plain"),
            ("<b>bold</b> <strong>s</strong> <i>i</i><em>e</em><u>u</u><ins>n</ins>", "bold s ieun"),
            ("<s>a</s><strike>b</strike><del>c</del>", "abc"),
            ("<span class=\"tg-spoiler\">x</span><tg-spoiler>y</tg-spoiler>", "xy"),
            ("<a href=\"https://example.com/?a=1&amp;b=2\">link <b>bold</b></a>", "link bold"),
            ("<tg-emoji emoji-id=\"5368324170671202286\">👍</tg-emoji>", "👍"),
            ("<pre><code class=\"language-rust\">fn x() {}</code></pre>", "fn x() {}"),
            ("<pre>1 &lt; 2</pre> <code>x</code>", "1 < 2 x"),
            ("<blockquote>q</blockquote><blockquote expandable>e</blockquote>", "qe"),
            ("&lt;&gt;&amp;&quot;&#33;&#x41;", "<>&\"!A"),
            ("<B>Upper</B>", "Upper"),
            ("a > b", "a > b"),
        ];
        for (text, visible) in good {
            assert_eq!(html(text).as_deref(), Ok(visible), "{text}");
        }
        let bad = [
            ("<b>unclosed", "never closed"),
            ("<b><i>x</b></i>", "properly nested"),
            ("x</b>", "closes nothing"),
            ("<div>x</div>", "not a tag Telegram supports"),
            ("<script>x</script>", "not a tag Telegram supports"),
            ("<span>x</span>", "tg-spoiler"),
            ("<a>x</a>", "href"),
            ("<a href=\"\">x</a>", "href"),
            ("<a href='x'><a href='y'>z</a></a>", "inside another link"),
            ("<b onclick=\"x\">x</b>", "attribute"),
            ("<code class=\"language-rust\">x</code>", "directly inside <pre>"),
            ("<code><b>x</b></code>", "cannot be inside <code>"),
            ("<pre><i>x</i></pre>", "cannot be inside <pre>"),
            ("<blockquote><blockquote>x</blockquote></blockquote>", "inside another"),
            ("<tg-emoji emoji-id=\"abc\">x</tg-emoji>", "numeric"),
            ("1 < 2", "&lt;"),
            ("fish & chips", "&amp;"),
            ("&nbsp;", "not an entity"),
            ("&#0;", "not an entity"),
            ("<br/>", "not a supported tag"),
            ("<a href=\"x>y</a>", "not closed"),
        ];
        for (text, why) in bad {
            let e = html(text).expect_err(text);
            assert!(e.contains(why), "{text}: {e}");
        }
    }

    #[test]
    fn markdown_v2_cases() {
        let good = [
            ("plain text", "plain text"),
            ("*bold* _italic_ __underline__ ~strike~ ||spoiler||", "bold italic underline strike spoiler"),
            ("*bold _italic bold ~strike~ __under__ ||sp||_ bold*", "bold italic bold strike under sp bold"),
            ("[link](https://example.com/a\\)b)", "link"),
            ("![👍](tg://emoji?id=5368324170671202286)", "👍"),
            ("`code with \\` and *stars*`", "code with \\` and *stars*"),
            ("```rust\nfn x() {}\n```", "rust\nfn x() {}\n"),
            ("1\\.5 \\- 2\\! \\(a\\) \\#tag \\+ \\= \\| \\{ \\} \\>", "1.5 - 2! (a) #tag + = | { } >"),
            (">quoted line\n>another", "quoted line\nanother"),
            ("**>expandable\n>quote||", "expandable\nquote"),
        ];
        for (text, visible) in good {
            assert_eq!(markdown_v2(text).as_deref(), Ok(visible), "{text}");
        }
        let bad = [
            ("1.5", "'.' at character 2 is reserved"),
            ("a-b", "'-'"),
            ("hello!", "'!'"),
            ("(x)", "'('"),
            ("*bold", "never closed"),
            ("_italic", "never closed"),
            ("*a _b* c_", "still open"),
            ("`code", "never closed"),
            ("```\ncode", "never closed"),
            ("[text]", "(URL)"),
            ("[text](https://x", "never closed"),
            ("trailing \\", "followed by an ASCII character"),
            ("x > y", "'>'"),
            ("a | b", "'|'"),
        ];
        for (text, why) in bad {
            let e = markdown_v2(text).expect_err(text);
            assert!(e.contains(why), "{text}: {e}");
        }
    }
}
