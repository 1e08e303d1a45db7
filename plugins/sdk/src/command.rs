//! Command arguments: `/give 42 "two words"` → `["42", "two words"]`.

/// Split arguments on whitespace; double quotes group words, `\"` is a literal quote.
pub fn split_args(args: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_quotes = false;
    let mut has_token = false;
    let mut chars = args.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
                has_token = true;
            }
            '"' => {
                in_quotes = !in_quotes;
                has_token = true;
            }
            c if c.is_whitespace() && !in_quotes => {
                if has_token {
                    out.push(std::mem::take(&mut cur));
                    has_token = false;
                }
            }
            c => {
                cur.push(c);
                has_token = true;
            }
        }
    }
    if has_token {
        out.push(cur);
    }
    out
}

/// Parse argument `index` as `T`, with an error that says which argument was wrong.
pub fn arg<T>(args: &[String], index: usize, name: &str) -> Result<T, crate::Error>
where
    T: std::str::FromStr,
{
    let raw = args.get(index).ok_or_else(|| crate::Error::InvalidInput(format!("missing argument <{name}>")))?;
    raw.parse().map_err(|_| crate::Error::InvalidInput(format!("<{name}> must be a valid value, got {raw:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_quotes_and_spaces() {
        assert_eq!(split_args(r#" 42  "two words" say\"hi "" "#), ["42", "two words", "say\"hi", ""]);
        assert!(split_args("   ").is_empty());
    }

    #[test]
    fn arg_reports_name() {
        let args = split_args("x");
        let err = arg::<i64>(&args, 0, "amount").unwrap_err();
        assert_eq!(err.to_string(), "invalid input: <amount> must be a valid value, got \"x\"");
        assert!(arg::<i64>(&args, 1, "n").unwrap_err().to_string().contains("missing argument <n>"));
    }
}
