//! What a person types into `wharf chat`, line by line: chat's own commands, button
//! numbers, plain messages, and messages of several lines between `… <<<` and `>>>`.

use tokio::io::{AsyncBufRead, AsyncBufReadExt, Lines};

/// The line that ends a message of several lines.
pub(super) const BLOCK_END: &str = ">>>";
/// What a line ends with to start a message of several lines.
pub(super) const BLOCK_START: &str = "<<<";

/// One thing typed.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Input {
    /// `/quit`.
    Quit,
    /// `/as ID` (`None`: the id was not a positive number).
    As(Option<i64>),
    /// `/admin`.
    Admin,
    /// `/upload` and what followed it.
    Upload(String),
    /// `/chain` and what followed it.
    Chain(String),
    /// A number: a button, or text if no button has it.
    Number(usize),
    /// A message to send as it is.
    Text(String),
    /// The input ended inside a message of several lines, after this many lines.
    Unclosed(usize),
}

/// Reads [`Input`]s. Cancel-safe: a read cancelled half-way through a message of
/// several lines keeps the lines read so far.
pub(super) struct Reader<R> {
    lines: Lines<R>,
    /// The message of several lines being read, if any.
    block: Option<Vec<String>>,
}

impl<R: AsyncBufRead + Unpin> Reader<R> {
    pub(super) fn new(input: R) -> Self {
        Self { lines: input.lines(), block: None }
    }

    /// Whether a message of several lines is being typed.
    pub(super) fn in_block(&self) -> bool {
        self.block.is_some()
    }

    /// The next thing typed; `None` at the end of the input.
    pub(super) async fn next(&mut self) -> std::io::Result<Option<Input>> {
        loop {
            // The only await: everything after it runs to completion, so cancelling
            // this future loses nothing.
            let Some(line) = self.lines.next_line().await? else {
                return Ok(self.block.take().map(|b| Input::Unclosed(b.len())));
            };
            if let Some(block) = &mut self.block {
                if line.trim() == BLOCK_END {
                    let text = std::mem::take(block).join("\n");
                    self.block = None;
                    if !text.trim().is_empty() {
                        return Ok(Some(Input::Text(text)));
                    }
                } else {
                    block.push(line);
                }
                continue;
            }
            let line = line.trim();
            if let Some(head) = line.strip_suffix(BLOCK_START) {
                let head = head.trim_end();
                self.block = Some(if head.is_empty() { Vec::new() } else { vec![head.to_owned()] });
                continue;
            }
            if let Some(input) = parse(line) {
                return Ok(Some(input));
            }
        }
    }
}

/// One line typed outside a message of several lines (`None`: an empty line).
fn parse(line: &str) -> Option<Input> {
    if line.is_empty() {
        return None;
    }
    if let Some(text) = line.strip_prefix('\\') {
        return Some(Input::Text(text.to_owned()));
    }
    let (word, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    Some(match word {
        "/quit" if rest.is_empty() => Input::Quit,
        "/admin" if rest.is_empty() => Input::Admin,
        "/as" => Input::As(rest.trim().parse().ok().filter(|id: &i64| *id > 0)),
        "/upload" => Input::Upload(rest.to_owned()),
        "/chain" => Input::Chain(rest.trim().to_owned()),
        _ => match line.parse() {
            Ok(n) => Input::Number(n),
            Err(_) => Input::Text(line.to_owned()),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::{Input, Reader};

    async fn read_all(text: &str) -> Vec<Input> {
        let mut reader = Reader::new(text.as_bytes());
        let mut out = Vec::new();
        while let Some(i) = reader.next().await.unwrap() {
            out.push(i);
        }
        out
    }

    #[tokio::test]
    async fn lines_are_commands_numbers_or_text() {
        let got =
            read_all("  /as 7 \n/as -5\n/as x\n\n/admin\n/upload a.txt cap\n3\n\\3\n\\/quit\nhello there\n/quit\n")
                .await;
        assert_eq!(
            got,
            [
                Input::As(Some(7)),
                Input::As(None),
                Input::As(None),
                Input::Admin,
                Input::Upload("a.txt cap".into()),
                Input::Number(3),
                Input::Text("3".into()),
                Input::Text("/quit".into()),
                Input::Text("hello there".into()),
                Input::Quit,
            ]
        );
    }

    #[tokio::test]
    async fn a_block_is_one_message_of_several_lines() {
        let got =
            read_all("/import <<<\nWarsaw | a\n\n  # kept as typed  \n>>>\n<<<\none\ntwo\n >>> \n<<<\n>>>\nafter\n")
                .await;
        assert_eq!(
            got,
            [
                Input::Text("/import\nWarsaw | a\n\n  # kept as typed  ".into()),
                Input::Text("one\ntwo".into()),
                Input::Text("after".into()),
            ]
        );
        assert_eq!(read_all("/import <<<\na\nb\n").await, [Input::Unclosed(3)]);
    }
}
