//! Builders for [`Output`]: what a view shows or an action answers.
//!
//! `Output::text(..)`, `Output::table(columns)`, `Output::key_values(pairs)` and
//! `Output::series(title, labels)` start one; `.row(..)`, `.actions(..)`, `.line(..)`
//! add to the block started last; `.and(other)` appends another output's blocks.

use super::{Block, KeyValue, Line, Output, Row, Series, Table};

impl Output {
    /// Nothing yet.
    pub fn new() -> Self {
        Self { blocks: Vec::new(), next_page: None }
    }

    /// One paragraph of text.
    pub fn text(text: impl Into<String>) -> Self {
        Self::new().with(Block::Text(text.into()))
    }

    /// A table with these column titles and no rows yet.
    pub fn table<S: Into<String>>(columns: impl IntoIterator<Item = S>) -> Self {
        let columns = columns.into_iter().map(Into::into).collect();
        Self::new().with(Block::Table(Table { columns, rows: Vec::new(), actions: Vec::new() }))
    }

    /// Keys and their values.
    pub fn key_values<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        let pairs = pairs.into_iter().map(|(k, v)| KeyValue { key: k.into(), value: v.into() }).collect();
        Self::new().with(Block::KeyValues(pairs))
    }

    /// A chart titled `title` over `labels`, with no lines yet.
    pub fn series<S: Into<String>>(title: impl Into<String>, labels: impl IntoIterator<Item = S>) -> Self {
        let labels = labels.into_iter().map(Into::into).collect();
        Self::new().with(Block::Series(Series { title: title.into(), labels, lines: Vec::new() }))
    }

    /// Append a block.
    pub fn with(mut self, block: Block) -> Self {
        self.blocks.push(block);
        self
    }

    /// Append `other`'s blocks (and take its cursor, if it has one).
    pub fn and(mut self, other: Output) -> Self {
        self.blocks.extend(other.blocks);
        if other.next_page.is_some() {
            self.next_page = other.next_page;
        }
        self
    }

    fn last_table(&mut self) -> Option<&mut Table> {
        self.blocks.iter_mut().rev().find_map(|b| if let Block::Table(t) = b { Some(t) } else { None })
    }

    /// Add a selectable row (its `id` fills `ids` parameters) to the last table.
    ///
    /// # Panics
    /// If there is no table.
    pub fn row<S: Into<String>>(self, id: impl Into<String>, cells: impl IntoIterator<Item = S>) -> Self {
        self.push_row(Some(id.into()), cells)
    }

    /// Add a row that cannot be selected to the last table.
    ///
    /// # Panics
    /// If there is no table.
    pub fn plain_row<S: Into<String>>(self, cells: impl IntoIterator<Item = S>) -> Self {
        self.push_row(None, cells)
    }

    fn push_row<S: Into<String>>(mut self, id: Option<String>, cells: impl IntoIterator<Item = S>) -> Self {
        let cells = cells.into_iter().map(Into::into).collect();
        let Some(table) = self.last_table() else { panic!("Output::row without a table") };
        table.rows.push(Row { id, cells });
        self
    }

    /// The actions (of this plugin, each with an `ids` parameter) that take a selection
    /// of the last table's rows.
    ///
    /// # Panics
    /// If there is no table.
    pub fn actions<S: Into<String>>(mut self, actions: impl IntoIterator<Item = S>) -> Self {
        let Some(table) = self.last_table() else { panic!("Output::actions without a table") };
        table.actions = actions.into_iter().map(Into::into).collect();
        self
    }

    /// Add a line (one value per label) to the last series.
    ///
    /// # Panics
    /// If there is no series.
    pub fn line(mut self, name: impl Into<String>, values: impl IntoIterator<Item = i64>) -> Self {
        let series = self.blocks.iter_mut().rev().find_map(|b| if let Block::Series(s) = b { Some(s) } else { None });
        let Some(series) = series else { panic!("Output::line without a series") };
        series.lines.push(Line { name: name.into(), values: values.into_iter().collect() });
        self
    }

    /// Set the cursor of the next page (the host calls the view again with it).
    pub fn next_page(mut self, cursor: impl Into<String>) -> Self {
        self.next_page = Some(cursor.into());
        self
    }

    /// The rows of the first table (empty without one), e.g. in tests.
    pub fn rows(&self) -> &[Row] {
        self.blocks.iter().find_map(|b| if let Block::Table(t) = b { Some(&t.rows[..]) } else { None }).unwrap_or(&[])
    }

    /// The value of `key` in the first key/value block that has it.
    pub fn value(&self, key: &str) -> Option<&str> {
        self.blocks.iter().find_map(|b| match b {
            Block::KeyValues(kv) => kv.iter().find(|p| p.key == key).map(|p| p.value.as_str()),
            _ => None,
        })
    }

    /// The paragraphs of text, in order.
    pub fn texts(&self) -> Vec<&str> {
        self.blocks.iter().filter_map(|b| if let Block::Text(t) = b { Some(t.as_str()) } else { None }).collect()
    }
}

impl Default for Output {
    fn default() -> Self {
        Self::new()
    }
}
