//! The chat's input and output for a script. `wharf chat` handles each line to
//! completion before it reads the next one, so the output written between two reads is
//! the answer to the line read first: the input marks the output's length each time the
//! chat starts reading a line.

use std::io::Write;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use tokio::io::{AsyncBufRead, AsyncRead, ReadBuf};

#[derive(Default)]
struct Shared {
    out: Vec<u8>,
    /// Output length when the chat started reading input line `i`, and at the end.
    marks: Vec<usize>,
}

/// What the chat printed, split by input line.
#[derive(Clone, Default)]
pub(super) struct Output(Arc<Mutex<Shared>>);

impl Output {
    fn mark(&self) {
        let mut s = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let at = s.out.len();
        s.marks.push(at);
    }

    /// The trimmed, non-empty lines printed in answer to each input line.
    pub(super) fn answers(&self) -> Vec<Vec<String>> {
        let s = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        s.marks
            .windows(2)
            .map(|w| {
                String::from_utf8_lossy(&s.out[w[0]..w[1]])
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .collect()
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).out.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The script's input lines, one `\n`-terminated line at a time.
pub(super) struct Feed {
    lines: Vec<Vec<u8>>,
    next: usize,
    pos: usize,
    /// Lines whose start was marked (`next` when the last mark was made, plus one).
    marked: usize,
    output: Output,
}

impl Feed {
    pub(super) fn new(inputs: &[String]) -> (Self, Output) {
        let output = Output::default();
        let lines = inputs.iter().map(|l| format!("{l}\n").into_bytes()).collect();
        (Self { lines, next: 0, pos: 0, marked: 0, output: output.clone() }, output)
    }
}

impl AsyncBufRead for Feed {
    fn poll_fill_buf(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<&[u8]>> {
        let this = self.get_mut();
        // The chat starts reading line `next` (or the end): its previous line is done.
        if this.pos == 0 && this.marked == this.next {
            this.output.mark();
            this.marked += 1;
        }
        Poll::Ready(Ok(this.lines.get(this.next).map_or(&[][..], |l| &l[this.pos..])))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let this = self.get_mut();
        this.pos += amt;
        if this.lines.get(this.next).is_some_and(|l| this.pos >= l.len()) {
            this.next += 1;
            this.pos = 0;
        }
    }
}

impl AsyncRead for Feed {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let mut this = self;
        let n = match this.as_mut().poll_fill_buf(cx) {
            Poll::Ready(Ok(chunk)) => {
                let n = chunk.len().min(buf.remaining());
                buf.put_slice(&chunk[..n]);
                n
            }
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        };
        this.consume(n);
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncBufReadExt;

    use super::*;

    #[tokio::test]
    async fn output_is_split_at_each_read() {
        let (feed, mut out) = Feed::new(&["a".into(), "b".into()]);
        out.write_all(b"header\n").unwrap();
        let mut lines = feed.lines();
        assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("a"));
        out.write_all(b"answer a\n  second  \n").unwrap();
        assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("b"));
        assert_eq!(lines.next_line().await.unwrap(), None);
        assert_eq!(lines.next_line().await.unwrap(), None);
        assert_eq!(out.answers(), vec![vec!["answer a".to_owned(), "second".to_owned()], vec![]]);
    }
}
