//! Reads the rows of an uploaded `.xlsx` (or a `.zip` of them, as Export writes) without
//! trusting it: the file is only ever unzipped through a cap on the bytes it inflates to (a zip
//! bomb stops there), the XML is streamed (never a whole sheet in memory), formulas are never
//! evaluated (a cell's cached value is taken as its text), columns are matched by their header,
//! and more rows than the cap stop the reading. Each problem is one `SheetError` whose words
//! say what to do.

use quick_xml::events::{BytesStart, Event};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Cursor, Read, Seek};

/// The largest file accepted.
pub const MAX_FILE_BYTES: usize = app::domain::import::MAX_IMPORT_BYTES;
/// Rows (after the header) in all files of one upload together.
pub const MAX_ROWS: usize = app::domain::import::MAX_IMPORT_ROWS;
/// Bytes the whole upload may inflate to (every zip member read, nested ones included).
pub const MAX_UNZIPPED: u64 = 512 * 1024 * 1024;
/// The longest cell text kept (longer text is refused, not cut).
pub const MAX_CELL_CHARS: usize = 32_767;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SheetError {
    #[error(
        "This file is not a spreadsheet: upload the .xlsx (or the .zip of .xlsx files) that Export produced."
    )]
    NotASpreadsheet,
    #[error("The file has a header row but no channel rows: there is nothing to import.")]
    NoRows,
    #[error("The file is larger than 20 MiB.")]
    TooLarge,
    #[error(
        "The file unpacks to more than {} MiB, more than an export of 100,000 channels can: it was not read.",
        MAX_UNZIPPED / 1024 / 1024
    )]
    Inflated,
    #[error(
        "{file} unpacks to more than 20 MiB, more than a file of an export can: it was not read."
    )]
    MemberTooLarge { file: String },
    #[error("The file has more than {} channel rows: import at most {} at a time.", group(*.max), group(*.max))]
    TooManyRows { max: usize },
    #[error(
        "{file}The sheet has no header row: its first row must name the columns, as in an export."
    )]
    NoHeader { file: String },
    #[error("{file}The column{} {} {} missing: keep the header row as Export wrote it (columns may be in any order).", if .missing.len() == 1 { "" } else { "s" }, .missing.join(", "), if .missing.len() == 1 { "is" } else { "are" })]
    MissingColumns { file: String, missing: Vec<String> },
    #[error("{file}The column '{name}' appears twice (columns {first} and {second}): keep one.")]
    DuplicateColumn {
        file: String,
        name: String,
        first: String,
        second: String,
    },
    #[error("{file}Cell {cell} has more than 32,767 characters.")]
    CellTooLong { file: String, cell: String },
    #[error(
        "{file}The spreadsheet is damaged ({what}): save it again in Excel or LibreOffice as .xlsx."
    )]
    Damaged { file: String, what: String },
}

fn group(n: usize) -> String {
    crate::exports::group(n as u64)
}

/// One data row: where it is (file inside a zip, row number as the sheet shows it) and its
/// cells in the order of the `known` columns (empty when the column is absent or the cell
/// empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetRow {
    pub file: Option<String>,
    pub row: u32,
    pub cells: Vec<String>,
}

/// The sheet column letters of each known column, per file (for messages).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    /// `known[i]` is in sheet column `letters[i]` (`None`: the sheet has no such column).
    pub letters: Vec<Option<String>>,
}

/// `0` → `A`, `26` → `AA`.
pub fn column_letters(mut index: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// `B12` → column index 1.
fn column_of(reference: &[u8]) -> Option<usize> {
    let mut n: usize = 0;
    let mut any = false;
    for b in reference {
        if b.is_ascii_alphabetic() {
            n = n
                .checked_mul(26)?
                .checked_add((b.to_ascii_uppercase() - b'A' + 1) as usize)?;
            any = true;
        } else {
            break;
        }
    }
    (any && n <= 16_384).then(|| n - 1)
}

/// A reader that fails once more than the shared budget has come out of it.
struct Capped<'a, R> {
    inner: R,
    left: &'a mut u64,
}

impl<R: Read> Read for Capped<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > *self.left {
            *self.left = 0;
            return Err(std::io::Error::other(INFLATED));
        }
        *self.left -= n as u64;
        Ok(n)
    }
}

const INFLATED: &str = "inflated past the cap";

fn io_error(file: Option<&str>, e: &std::io::Error) -> SheetError {
    if e.to_string() == INFLATED {
        SheetError::Inflated
    } else {
        SheetError::Damaged {
            file: prefix(file),
            what: "a part cannot be unpacked".into(),
        }
    }
}

fn xml_error(file: Option<&str>, e: quick_xml::Error) -> SheetError {
    match e {
        quick_xml::Error::Io(io) => io_error(file, &io),
        _ => SheetError::Damaged {
            file: prefix(file),
            what: "its XML is not well-formed".into(),
        },
    }
}

/// Adds a text node to `text`, or answers `too_long` when that would pass what any cell may
/// hold (a bound in bytes, checked as it grows; the limit in characters is checked per cell).
fn append(
    text: &mut String,
    node: &quick_xml::events::BytesText,
    file: Option<&str>,
    too_long: impl FnOnce() -> SheetError,
) -> Result<(), SheetError> {
    let piece = node.unescape().map_err(|e| xml_error(file, e))?;
    if text.len() + piece.len() > MAX_CELL_CHARS * 4 {
        return Err(too_long());
    }
    text.push_str(&piece);
    Ok(())
}

/// What a message says before its text: the file inside a zip, if any.
fn prefix(file: Option<&str>) -> String {
    file.map(|f| format!("{f}: ")).unwrap_or_default()
}

/// The bounds of one reading (the constants above, smaller in tests).
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    pub unzipped: u64,
    pub rows: usize,
}

impl Default for Caps {
    fn default() -> Self {
        Self {
            unzipped: MAX_UNZIPPED,
            rows: MAX_ROWS,
        }
    }
}

/// Reads every row of `bytes` (an `.xlsx`, or a `.zip` whose `.xlsx` members are read in name
/// order) and hands each to `visit`, with the columns matched by header against `known`;
/// `required` are the columns that must be there. `visit` returning an error stops the reading.
pub fn read<E>(
    bytes: &[u8],
    known: &[&str],
    required: &[&str],
    visit: impl FnMut(&Layout, SheetRow) -> Result<(), E>,
) -> Result<Result<(), E>, SheetError> {
    read_capped(bytes, Caps::default(), known, required, visit)
}

pub fn read_capped<E>(
    bytes: &[u8],
    caps: Caps,
    known: &[&str],
    required: &[&str],
    mut visit: impl FnMut(&Layout, SheetRow) -> Result<(), E>,
) -> Result<Result<(), E>, SheetError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(SheetError::TooLarge);
    }
    if !bytes.starts_with(b"PK\x03\x04") {
        return Err(SheetError::NotASpreadsheet);
    }
    let mut budget = caps.unzipped;
    // a shared string is stored once and may be named by every cell: its copies are counted
    // against a budget of their own, so a small file cannot fill memory with them
    let mut copies = caps.unzipped;
    let row_cap = caps.rows;
    let mut rows = 0usize;
    let mut archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| SheetError::NotASpreadsheet)?;
    if archive.index_for_name("xl/workbook.xml").is_some() {
        return read_book(
            &mut archive,
            None,
            known,
            required,
            (&mut budget, &mut copies, &mut rows, row_cap),
            &mut visit,
        );
    }
    let mut members: Vec<String> = archive
        .file_names()
        .filter(|n| n.to_ascii_lowercase().ends_with(".xlsx") && !n.contains("__MACOSX"))
        .map(str::to_owned)
        .collect();
    if members.is_empty() {
        return Err(SheetError::NotASpreadsheet);
    }
    members.sort();
    for name in members {
        let mut inner = Vec::new();
        {
            let member = archive
                .by_name(&name)
                .map_err(|_| SheetError::NotASpreadsheet)?;
            // one file of an export is far smaller than a whole upload may be: a member that
            // inflates to more is not held in memory
            Capped {
                inner: member,
                left: &mut budget,
            }
            .take(MAX_FILE_BYTES as u64 + 1)
            .read_to_end(&mut inner)
            .map_err(|e| io_error(Some(&name), &e))?;
        }
        if inner.len() > MAX_FILE_BYTES {
            return Err(SheetError::MemberTooLarge { file: name });
        }
        if !inner.starts_with(b"PK\x03\x04") {
            return Err(SheetError::NotASpreadsheet);
        }
        let mut book = zip::ZipArchive::new(Cursor::new(inner.as_slice()))
            .map_err(|_| SheetError::NotASpreadsheet)?;
        if book.index_for_name("xl/workbook.xml").is_none() {
            return Err(SheetError::NotASpreadsheet);
        }
        match read_book(
            &mut book,
            Some(&name),
            known,
            required,
            (&mut budget, &mut copies, &mut rows, row_cap),
            &mut visit,
        )? {
            Ok(()) => {}
            Err(e) => return Ok(Err(e)),
        }
    }
    Ok(Ok(()))
}

/// Reads a member through the budget, streaming.
fn member<'a, R: Read + Seek>(
    book: &'a mut zip::ZipArchive<R>,
    name: &str,
    budget: &'a mut u64,
) -> Option<BufReader<Capped<'a, zip::read::ZipFile<'a, R>>>> {
    let file = book.by_name(name).ok()?;
    Some(BufReader::new(Capped {
        inner: file,
        left: budget,
    }))
}

fn attr(e: &BytesStart, key: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == key)
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

/// The path of the workbook's first sheet.
fn first_sheet<R: Read + Seek>(
    book: &mut zip::ZipArchive<R>,
    file: Option<&str>,
    budget: &mut u64,
) -> Result<String, SheetError> {
    let damaged = |what: &str| SheetError::Damaged {
        file: prefix(file),
        what: what.to_owned(),
    };
    let mut rid = None;
    {
        let reader =
            member(book, "xl/workbook.xml", budget).ok_or_else(|| damaged("no workbook"))?;
        let mut xml = quick_xml::Reader::from_reader(reader);
        let mut buf = Vec::new();
        loop {
            match xml
                .read_event_into(&mut buf)
                .map_err(|e| xml_error(file, e))?
            {
                Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == b"sheet" => {
                    rid = attr(&e, b"id");
                    break;
                }
                Event::Eof => break,
                _ => {}
            }
            buf.clear();
        }
    }
    let rid = rid.ok_or_else(|| damaged("the workbook has no sheet"))?;
    let reader = member(book, "xl/_rels/workbook.xml.rels", budget)
        .ok_or_else(|| damaged("no workbook relations"))?;
    let mut xml = quick_xml::Reader::from_reader(reader);
    let mut buf = Vec::new();
    loop {
        match xml
            .read_event_into(&mut buf)
            .map_err(|e| xml_error(file, e))?
        {
            Event::Start(e) | Event::Empty(e)
                if e.local_name().as_ref() == b"Relationship"
                    && attr(&e, b"Id").as_deref() == Some(rid.as_str()) =>
            {
                let target =
                    attr(&e, b"Target").ok_or_else(|| damaged("a sheet without target"))?;
                let path = match target.strip_prefix('/') {
                    Some(absolute) => absolute.to_owned(),
                    None => format!("xl/{target}"),
                };
                return Ok(path);
            }
            Event::Eof => return Err(damaged("the first sheet is missing")),
            _ => {}
        }
        buf.clear();
    }
}

/// The shared strings table (each `<si>`'s text, rich text runs joined).
fn shared_strings<R: Read + Seek>(
    book: &mut zip::ZipArchive<R>,
    file: Option<&str>,
    budget: &mut u64,
) -> Result<Vec<String>, SheetError> {
    let Some(reader) = member(book, "xl/sharedStrings.xml", budget) else {
        return Ok(Vec::new());
    };
    let mut xml = quick_xml::Reader::from_reader(reader);
    let mut buf = Vec::new();
    let mut out = Vec::new();
    let mut current = String::new();
    let mut in_si = false;
    let mut in_t = false;
    // phonetic runs (`<rPh>`) are not part of the text
    let mut in_phonetic = false;
    loop {
        match xml
            .read_event_into(&mut buf)
            .map_err(|e| xml_error(file, e))?
        {
            Event::Start(e) => match e.local_name().as_ref() {
                b"si" => {
                    in_si = true;
                    current.clear();
                }
                b"t" if in_si && !in_phonetic => in_t = true,
                b"rPh" => in_phonetic = true,
                _ => {}
            },
            Event::Empty(e) if e.local_name().as_ref() == b"si" => out.push(String::new()),
            Event::Text(t) if in_t => {
                append(&mut current, &t, file, || SheetError::CellTooLong {
                    file: prefix(file),
                    cell: "in the shared strings".into(),
                })?;
            }
            Event::End(e) => match e.local_name().as_ref() {
                b"t" => in_t = false,
                b"rPh" => in_phonetic = false,
                b"si" => {
                    in_si = false;
                    out.push(std::mem::take(&mut current));
                }
                _ => {}
            },
            Event::Eof => return Ok(out),
            _ => {}
        }
        buf.clear();
    }
}

/// `(inflate budget left, shared-string copy budget left, rows so far, row cap)`
type Counters<'a> = (&'a mut u64, &'a mut u64, &'a mut usize, usize);

fn read_book<R: Read + Seek, E>(
    book: &mut zip::ZipArchive<R>,
    file: Option<&str>,
    known: &[&str],
    required: &[&str],
    (budget, copies, rows, row_cap): Counters<'_>,
    visit: &mut impl FnMut(&Layout, SheetRow) -> Result<(), E>,
) -> Result<Result<(), E>, SheetError> {
    let sheet = first_sheet(book, file, budget)?;
    let strings = shared_strings(book, file, budget)?;
    let reader = member(book, &sheet, budget).ok_or_else(|| SheetError::Damaged {
        file: prefix(file),
        what: "the first sheet is missing".into(),
    })?;
    let mut cells = RowReader::new(reader, &strings, file, copies);
    // the header: the first row with anything in it
    let header = loop {
        match cells.next_row()? {
            None => {
                return Err(SheetError::NoHeader { file: prefix(file) });
            }
            Some((_, values)) if values.iter().all(|(_, v)| v.trim().is_empty()) => continue,
            Some((_, values)) => break values,
        }
    };
    let wanted: HashMap<String, usize> = known
        .iter()
        .enumerate()
        .map(|(i, k)| (k.to_lowercase(), i))
        .collect();
    // where each known column is in the sheet
    let mut at: Vec<Option<usize>> = vec![None; known.len()];
    for (col, title) in &header {
        let col = *col;
        let key = title.trim().to_lowercase();
        if let Some(&k) = wanted.get(&key) {
            if let Some(first) = at[k] {
                return Err(SheetError::DuplicateColumn {
                    file: prefix(file),
                    name: known[k].to_owned(),
                    first: column_letters(first),
                    second: column_letters(col),
                });
            }
            at[k] = Some(col);
        }
    }
    let missing: Vec<String> = required
        .iter()
        .filter(|r| {
            wanted
                .get(&r.to_lowercase())
                .is_none_or(|&k| at[k].is_none())
        })
        .map(|r| format!("'{r}'"))
        .collect();
    if !missing.is_empty() {
        return Err(SheetError::MissingColumns {
            file: prefix(file),
            missing,
        });
    }
    let layout = Layout {
        letters: at.iter().map(|c| c.map(column_letters)).collect(),
    };
    while let Some((row, values)) = cells.next_row()? {
        if values.iter().all(|(_, v)| v.trim().is_empty()) {
            continue;
        }
        *rows += 1;
        if *rows > row_cap {
            return Err(SheetError::TooManyRows { max: row_cap });
        }
        let mut values = values;
        let cells = at
            .iter()
            .map(|c| {
                c.and_then(|c| values.iter_mut().find(|(col, _)| *col == c))
                    .map(|(_, v)| std::mem::take(v))
                    .unwrap_or_default()
            })
            .collect();
        if let Err(e) = visit(
            &layout,
            SheetRow {
                file: file.map(str::to_owned),
                row,
                cells,
            },
        ) {
            return Ok(Err(e));
        }
    }
    Ok(Ok(()))
}

/// A cell over `MAX_CELL_CHARS`, named by its reference (`B3`).
fn too_long(file: Option<&str>, row: &Option<RawRow>, col: Option<usize>) -> SheetError {
    SheetError::CellTooLong {
        file: prefix(file),
        cell: format!(
            "{}{}",
            col.map(column_letters).unwrap_or_default(),
            row.as_ref().map(|(r, _)| *r).unwrap_or_default()
        ),
    }
}

/// A row as read: its number and its non-empty cells as (column, text), in sheet order
/// (sparse: a cell far to the right costs what its XML costs, not a cell per column before it).
type RawRow = (u32, Vec<(usize, String)>);

/// Streams a sheet's rows.
struct RowReader<'s, B: BufRead> {
    xml: quick_xml::Reader<B>,
    buf: Vec<u8>,
    strings: &'s [String],
    file: Option<&'s str>,
    next_row_number: u32,
    /// Bytes of shared strings that may still be copied into cells.
    copies: &'s mut u64,
}

impl<'s, B: BufRead> RowReader<'s, B> {
    fn new(reader: B, strings: &'s [String], file: Option<&'s str>, copies: &'s mut u64) -> Self {
        Self {
            xml: quick_xml::Reader::from_reader(reader),
            buf: Vec::new(),
            strings,
            file,
            next_row_number: 1,
            copies,
        }
    }

    fn next_row(&mut self) -> Result<Option<RawRow>, SheetError> {
        let mut row: Option<RawRow> = None;
        // the column of the cell being read, its type and its text so far
        let mut cell: Option<usize> = None;
        let mut kind = String::new();
        let mut text = String::new();
        let mut in_value = false;
        let mut in_inline = false;
        let mut in_formula = false;
        loop {
            self.buf.clear();
            let event = self
                .xml
                .read_event_into(&mut self.buf)
                .map_err(|e| xml_error(self.file, e))?;
            let empty = matches!(event, Event::Empty(_));
            let file = self.file;
            match event {
                Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == b"row" => {
                    let number = attr(&e, b"r")
                        .and_then(|r| r.parse::<u32>().ok())
                        .unwrap_or(self.next_row_number);
                    self.next_row_number = number.saturating_add(1);
                    if empty {
                        return Ok(Some((number, Vec::new())));
                    }
                    row = Some((number, Vec::new()));
                }
                Event::Start(e) if e.local_name().as_ref() == b"c" => {
                    let col = attr(&e, b"r")
                        .and_then(|r| column_of(r.as_bytes()))
                        .unwrap_or_else(|| row.as_ref().map_or(0, |(_, v)| v.len()));
                    kind = attr(&e, b"t").unwrap_or_default();
                    text.clear();
                    cell = Some(col);
                }
                Event::Start(e) => match e.local_name().as_ref() {
                    b"v" => in_value = true,
                    b"is" => in_inline = true,
                    // a formula's own text is never read: its cached value (`<v>`) is
                    b"f" => in_formula = true,
                    _ => {}
                },
                Event::Text(t) if cell.is_some() && !in_formula && (in_value || in_inline) => {
                    append(&mut text, &t, file, || too_long(file, &row, cell))?;
                }
                Event::End(e) => match e.local_name().as_ref() {
                    b"v" => in_value = false,
                    b"is" => in_inline = false,
                    b"f" => in_formula = false,
                    b"c" => {
                        if let (Some((_, values)), Some(col)) = (row.as_mut(), cell.take()) {
                            let value = match kind.as_str() {
                                "s" => {
                                    let shared = text
                                        .trim()
                                        .parse::<usize>()
                                        .ok()
                                        .and_then(|i| self.strings.get(i))
                                        .map_or("", String::as_str);
                                    let cost = shared.len() as u64;
                                    if cost > *self.copies {
                                        return Err(SheetError::Inflated);
                                    }
                                    *self.copies -= cost;
                                    shared.to_owned()
                                }
                                "b" => if text.trim() == "1" { "TRUE" } else { "FALSE" }.into(),
                                // an error value (#REF!, #DIV/0!) reads as itself
                                _ => std::mem::take(&mut text),
                            };
                            if value.chars().count() > MAX_CELL_CHARS {
                                return Err(too_long(file, &row, Some(col)));
                            }
                            if !value.is_empty() {
                                // a column named twice in a row: the first is read
                                values.push((col, value));
                            }
                        }
                        text.clear();
                    }
                    b"row" => return Ok(row),
                    _ => {}
                },
                Event::Eof => return Ok(row),
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_xlsxwriter::{Formula, Workbook};
    use std::io::Write;

    const KNOWN: [&str; 3] = ["Channel Name", "Channel Type", "Skill Queue"];
    const REQUIRED: [&str; 2] = ["Channel Name", "Channel Type"];

    /// A workbook whose first sheet holds `rows` (the first is the header).
    fn book(rows: &[&[&str]]) -> Vec<u8> {
        let mut wb = Workbook::new();
        let sheet = wb.add_worksheet();
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                if !v.is_empty() {
                    sheet.write_string(r as u32, c as u16, *v).unwrap();
                }
            }
        }
        wb.save_to_buffer().unwrap()
    }

    fn all(bytes: &[u8], caps: Caps) -> Result<Vec<SheetRow>, SheetError> {
        let mut out = Vec::new();
        read_capped(bytes, caps, &KNOWN, &REQUIRED, |_, row| {
            out.push(row);
            Ok::<(), ()>(())
        })?
        .unwrap();
        Ok(out)
    }

    #[test]
    fn reads_an_export_with_its_row_numbers() {
        let rows = vec![
            vec!["wa_1".to_string(), "WhatsApp".into(), "infobip".into()],
            vec![
                "wa_2 & <co>".to_string(),
                "WhatsApp".into(),
                "cloud-api".into(),
            ],
        ];
        let bytes = crate::exports::writer::xlsx(&rows).unwrap();
        let known = crate::exports::writer::COLUMNS;
        let mut got = Vec::new();
        read(&bytes, &known, &["Channel Name"], |layout, row| {
            assert_eq!(layout.letters[0].as_deref(), Some("A"));
            got.push(row);
            Ok::<(), ()>(())
        })
        .unwrap()
        .unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].row, 2);
        assert_eq!(got[1].cells[0], "wa_2 & <co>");
        assert_eq!(got[1].cells[2], "cloud-api");
        assert_eq!(got[1].cells[3], "", "a column without a value reads empty");
        assert_eq!(got[0].file, None);
    }

    #[test]
    fn columns_are_matched_by_header_in_any_order() {
        let bytes = book(&[
            &["Notes", "skill queue", "Channel Type", "Channel Name"],
            &["x", "Care", "WhatsApp", "wa_1"],
            &[],
            &["", "", "WhatsApp", "wa_2"],
        ]);
        let rows = all(&bytes, Caps::default()).unwrap();
        assert_eq!(rows.len(), 2, "empty rows are skipped");
        assert_eq!(rows[0].cells, ["wa_1", "WhatsApp", "Care"]);
        assert_eq!(rows[1].cells, ["wa_2", "WhatsApp", ""]);
        assert_eq!(rows[1].row, 4);
    }

    #[test]
    fn a_missing_or_doubled_column_is_one_clear_error() {
        let e = all(
            &book(&[&["Channel Name", "Skill Queue"], &["wa", "Care"]]),
            Caps::default(),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "The column 'Channel Type' is missing: keep the header row as Export wrote it (columns may be in any order)."
        );
        let e = all(&book(&[&["Skill Queue"], &["Care"]]), Caps::default()).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("The columns 'Channel Name', 'Channel Type' are missing"),
            "{e}"
        );
        let e = all(
            &book(&[
                &["Channel Name", "Channel Type", "channel name"],
                &["a", "b", "c"],
            ]),
            Caps::default(),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "The column 'Channel Name' appears twice (columns A and C): keep one."
        );
        assert!(matches!(
            all(&book(&[]), Caps::default()),
            Err(SheetError::NoHeader { .. })
        ));
    }

    #[test]
    fn formulas_are_taken_as_their_cached_text_never_evaluated() {
        let mut wb = Workbook::new();
        let sheet = wb.add_worksheet();
        sheet.write_string(0, 0, "Channel Name").unwrap();
        sheet.write_string(0, 1, "Channel Type").unwrap();
        sheet
            .write_formula(
                1,
                0,
                Formula::new("=HYPERLINK(\"http://evil\",\"wa_1\")").set_result("wa_1"),
            )
            .unwrap();
        // a formula without a cached value reads empty, never as its text
        sheet.write_formula(1, 1, Formula::new("=1+1")).unwrap();
        sheet.write_number(2, 0, 42.5).unwrap();
        sheet.write_boolean(2, 1, true).unwrap();
        let rows = all(&wb.save_to_buffer().unwrap(), Caps::default()).unwrap();
        assert_eq!(rows[0].cells[0], "wa_1");
        assert!(!rows[0].cells[1].contains("1+1"), "{:?}", rows[0].cells);
        assert_eq!(rows[1].cells[..2], ["42.5", "TRUE"]);
    }

    #[test]
    fn more_rows_than_the_cap_stop_the_reading() {
        let bytes = book(&[
            &["Channel Name", "Channel Type"],
            &["a", "x"],
            &["b", "x"],
            &["c", "x"],
            &["d", "x"],
        ]);
        let caps = Caps {
            rows: 3,
            ..Caps::default()
        };
        assert_eq!(all(&bytes, caps), Err(SheetError::TooManyRows { max: 3 }));
        assert_eq!(all(&bytes, Caps { rows: 4, ..caps }).unwrap().len(), 4);
        assert_eq!(
            SheetError::TooManyRows { max: MAX_ROWS }.to_string(),
            "The file has more than 100,000 channel rows: import at most 100,000 at a time."
        );
    }

    fn zip_of(members: &[(&str, &[u8], zip::CompressionMethod)]) -> Vec<u8> {
        let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, bytes, method) in members {
            z.start_file(
                *name,
                zip::write::SimpleFileOptions::default().compression_method(*method),
            )
            .unwrap();
            z.write_all(bytes).unwrap();
        }
        z.finish().unwrap().into_inner()
    }

    #[test]
    fn a_zip_of_exports_is_read_file_by_file_in_name_order() {
        let one = book(&[&["Channel Name", "Channel Type"], &["a", "x"]]);
        let two = book(&[&["Channel Type", "Channel Name"], &["y", "b"]]);
        let bytes = zip_of(&[
            ("channels-002.xlsx", &two, zip::CompressionMethod::Stored),
            ("channels-001.xlsx", &one, zip::CompressionMethod::Deflated),
        ]);
        let rows = all(&bytes, Caps::default()).unwrap();
        assert_eq!(rows[0].file.as_deref(), Some("channels-001.xlsx"));
        assert_eq!(rows[0].cells[0], "a");
        assert_eq!(rows[1].cells[..2], ["b", "y"]);
        // a member without its header names the file
        let bad = book(&[&["Channel Name"], &["c"]]);
        let e = all(
            &zip_of(&[("channels-003.xlsx", &bad, zip::CompressionMethod::Stored)]),
            Caps::default(),
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("channels-003.xlsx: The column 'Channel Type'"),
            "{e}"
        );
    }

    #[test]
    fn what_is_not_a_spreadsheet_is_refused() {
        for bytes in [
            b"Channel Name,Channel Type\na,b\n".to_vec(),
            Vec::new(),
            b"PK\x03\x04 not really a zip".to_vec(),
            zip_of(&[("notes.txt", b"hello", zip::CompressionMethod::Deflated)]),
            zip_of(&[("fake.xlsx", b"hello", zip::CompressionMethod::Deflated)]),
        ] {
            assert_eq!(
                all(&bytes, Caps::default()),
                Err(SheetError::NotASpreadsheet)
            );
        }
        assert_eq!(
            all(&vec![0u8; MAX_FILE_BYTES + 1], Caps::default()),
            Err(SheetError::TooLarge)
        );
    }

    /// `bytes` (an xlsx) with its first sheet's XML changed by `change`.
    fn with_sheet(bytes: &[u8], change: impl Fn(&mut Vec<u8>)) -> Vec<u8> {
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let mut parts: Vec<(String, Vec<u8>)> = Vec::new();
        for i in 0..archive.len() {
            let mut f = archive.by_index(i).unwrap();
            let mut b = Vec::new();
            f.read_to_end(&mut b).unwrap();
            if f.name() == "xl/worksheets/sheet1.xml" {
                change(&mut b);
            }
            parts.push((f.name().to_owned(), b));
        }
        let members: Vec<(&str, &[u8], zip::CompressionMethod)> = parts
            .iter()
            .map(|(n, b)| (n.as_str(), b.as_slice(), zip::CompressionMethod::Deflated))
            .collect();
        zip_of(&members)
    }

    #[test]
    fn a_cell_longer_than_a_spreadsheet_allows_is_refused_by_its_reference() {
        let wb = book(&[&["Channel Name", "Channel Type"], &["a", "x"]]);
        let cell = |n: usize| {
            with_sheet(&wb, move |xml| {
                let text = String::from_utf8(xml.clone()).unwrap();
                let inline = format!(
                    r#"<row r="3"><c r="B3" t="inlineStr"><is><t>{}</t></is></c></row></sheetData>"#,
                    "é".repeat(n)
                );
                *xml = text.replacen("</sheetData>", &inline, 1).into_bytes();
            })
        };
        let rows = all(&cell(MAX_CELL_CHARS), Caps::default()).unwrap();
        assert_eq!(rows[1].cells[1].chars().count(), MAX_CELL_CHARS);
        let e = all(&cell(MAX_CELL_CHARS + 1), Caps::default()).unwrap_err();
        assert_eq!(e.to_string(), "Cell B3 has more than 32,767 characters.");
        // broken XML inside a zip member names the member
        let broken = with_sheet(&wb, |xml| xml.truncate(xml.len() / 2));
        let nested = zip_of(&[("channels-001.xlsx", &broken, zip::CompressionMethod::Stored)]);
        let e = all(&nested, Caps::default()).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("channels-001.xlsx: The spreadsheet is damaged"),
            "{e}"
        );
    }

    #[test]
    fn a_zip_bomb_stops_at_the_inflate_cap() {
        // 8 MiB of zeros deflates to a few KiB; the cap here is 1 MiB
        let zeros = vec![0u8; 8 * 1024 * 1024];
        let mut wb = book(&[&["Channel Name", "Channel Type"], &["a", "x"]]);
        let caps = Caps {
            unzipped: 1024 * 1024,
            rows: 10,
        };
        assert_eq!(all(&wb, caps).unwrap().len(), 1, "a real file fits the cap");
        // a nested bomb, and a bomb as the sheet itself
        let nested = zip_of(&[(
            "channels-001.xlsx",
            &zeros,
            zip::CompressionMethod::Deflated,
        )]);
        assert!(nested.len() < 64 * 1024);
        assert_eq!(all(&nested, caps), Err(SheetError::Inflated));
        wb = with_sheet(&wb, |xml| {
            let at = xml.len() - "</worksheet>".len();
            xml.splice(at..at, std::iter::repeat_n(b' ', 8 * 1024 * 1024));
        });
        assert!(wb.len() < 256 * 1024);
        assert_eq!(all(&wb, caps), Err(SheetError::Inflated));
        // a member bigger than any file of an export is not held in memory at all
        let big = zip_of(&[(
            "channels-001.xlsx",
            &vec![0u8; MAX_FILE_BYTES + 1],
            zip::CompressionMethod::Deflated,
        )]);
        assert_eq!(
            all(&big, Caps::default()),
            Err(SheetError::MemberTooLarge {
                file: "channels-001.xlsx".into()
            })
        );
    }

    #[test]
    fn copies_of_one_shared_string_count_against_the_cap() {
        // one 10,000-character string, stored once, named by 300 cells: 3 MB of copies
        let long = "x".repeat(10_000);
        let mut rows: Vec<Vec<&str>> = vec![vec!["Channel Name", "Channel Type", "Skill Queue"]];
        for _ in 0..100 {
            rows.push(vec![long.as_str(); 3]);
        }
        let refs: Vec<&[&str]> = rows.iter().map(Vec::as_slice).collect();
        let wb = book(&refs);
        assert!(wb.len() < 64 * 1024, "{}", wb.len());
        let caps = Caps {
            unzipped: 1024 * 1024,
            rows: 1_000,
        };
        assert_eq!(all(&wb, caps), Err(SheetError::Inflated));
        let roomy = Caps {
            unzipped: 8 * 1024 * 1024,
            rows: 1_000,
        };
        assert_eq!(all(&wb, roomy).unwrap().len(), 100);
    }

    #[test]
    fn a_cell_far_to_the_right_costs_what_its_xml_costs() {
        let wb = with_sheet(
            &book(&[&["Channel Name", "Channel Type"], &["a", "x"]]),
            |xml| {
                let text = String::from_utf8(xml.clone()).unwrap();
                let far = text.replacen(
                    "</row></sheetData>",
                    r#"<c r="XFD2" t="inlineStr"><is><t>far</t></is></c></row></sheetData>"#,
                    1,
                );
                assert_ne!(far, text, "the cell was added");
                *xml = far.into_bytes();
            },
        );
        let rows = all(&wb, Caps::default()).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].cells[..2], ["a".to_string(), "x".to_string()]);
    }

    #[test]
    fn column_letters_and_references() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(27), "AB");
        assert_eq!(column_of(b"AB12"), Some(27));
        assert_eq!(column_of(b"12"), None);
        assert_eq!(column_of(b"ZZZZZZZZZZZZZZ1"), None);
        assert_eq!(group(100_000), "100,000");
    }
}
