//! The raw export on PostgreSQL: a window's rows by `COPY (…) TO STDOUT` in the text format,
//! decoded field by field and written into the line by the shared formatter.

use futures_util::TryStreamExt;
use sqlx::PgPool;
use sqlx::postgres::PgPoolCopyExt;

use crate::Result;
use crate::export::{Fields, Liner};

/// A row of `COPY`'s text format: fields split at tabs, `\N` for NULL, backslash escapes
/// undone.
struct CopyRow<'a> {
    fields: Vec<Option<std::borrow::Cow<'a, str>>>,
}

impl Fields for CopyRow<'_> {
    fn int(&self, i: usize) -> Option<i64> {
        self.fields.get(i)?.as_deref()?.parse().ok()
    }
    fn text(&self, i: usize) -> Option<&str> {
        self.fields.get(i)?.as_deref()
    }
}

fn unescape(f: &str) -> std::borrow::Cow<'_, str> {
    if !f.contains('\\') {
        return f.into();
    }
    let mut out = String::with_capacity(f.len());
    let mut chars = f.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('v') => out.push('\u{b}'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out.into()
}

fn row(line: &str) -> CopyRow<'_> {
    CopyRow { fields: line.split('\t').map(|f| if f == "\\N" { None } else { Some(unescape(f)) }).collect() }
}

/// A `COPY (…) TO STDOUT` being read: its rows as lines, a batch at a time.
pub(crate) struct CopyLines {
    stream: futures_util::stream::BoxStream<'static, sqlx::Result<bytes::Bytes>>,
    /// The start of a row whose end is in a later message.
    carry: Vec<u8>,
}

impl CopyLines {
    pub(crate) async fn open(pool: &PgPool, sql: &str) -> Result<CopyLines> {
        let copy = format!("COPY ({sql}) TO STDOUT");
        Ok(CopyLines { stream: pool.copy_out_raw(&copy).await?, carry: Vec::new() })
    }

    /// Lines of the rows that arrive until about `max` bytes are written; `None` at the end.
    pub(crate) async fn next(&mut self, liner: &Liner, max: usize) -> Result<Option<String>> {
        let mut out = String::new();
        while out.len() < max {
            let Some(data) = self.stream.try_next().await? else {
                return Ok(if out.is_empty() { None } else { Some(out) });
            };
            let mut rest: &[u8] = &data;
            while let Some(end) = rest.iter().position(|&b| b == b'\n') {
                if self.carry.is_empty() {
                    line(&rest[..end], liner, &mut out)?;
                } else {
                    self.carry.extend_from_slice(&rest[..end]);
                    let whole = std::mem::take(&mut self.carry);
                    line(&whole, liner, &mut out)?;
                }
                rest = &rest[end + 1..];
            }
            self.carry.extend_from_slice(rest);
        }
        Ok(Some(out))
    }
}

fn line(bytes: &[u8], liner: &Liner, out: &mut String) -> Result<()> {
    let text = std::str::from_utf8(bytes).map_err(|e| crate::StoreError::Sqlite(format!("COPY: {e}")))?;
    liner.line(&row(text), out);
    Ok(())
}

/// Runs `COPY (sql) TO STDOUT` and appends a line per row to `out`; returns the lines.
pub(crate) async fn lines(pool: &PgPool, sql: &str, liner: &Liner, out: &mut String) -> Result<i64> {
    let mut copy = CopyLines::open(pool, sql).await?;
    let mut n = 0;
    while let Some(chunk) = copy.next(liner, usize::MAX).await? {
        n += chunk.matches('\n').count() as i64;
        out.push_str(&chunk);
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::{Fields, row};

    #[test]
    fn copy_text_rows_decode() {
        let r = row("12\t\\N\ta\\tb\\nc\\\\d\\re\t-7\t");
        assert_eq!(r.int(0), Some(12));
        assert_eq!(r.text(1), None);
        assert_eq!(r.text(2), Some("a\tb\nc\\d\re"));
        assert_eq!(r.int(3), Some(-7));
        assert_eq!(r.text(4), Some(""));
        assert_eq!(r.text(5), None);
    }
}
