//! Reads the rows of an uploaded `.xlsx` (or a `.zip` of them, as Export writes) without
//! trusting it, in memory proportional to what it keeps, never to what the file declares or
//! repeats:
//!
//! - the file is only ever unzipped through a cap on the bytes it inflates to (a zip bomb stops
//!   there), and a member of a zip that is bigger than any file of an export is not read;
//! - the XML is streamed through a reader that refuses any one piece of it (a text node, a
//!   tag) over `MAX_XML_EVENT` while reading it, not after;
//! - the shared strings are kept in one text buffer with an offset each, at most
//!   `MAX_SHARED_STRINGS` of them and `MAX_SHARED_BYTES` together;
//! - of each row only the cells of the known columns are kept (at most one each); a value right
//!   of the header's last column is refused; a shared string is copied into a kept cell only,
//!   and those copies count against the inflate cap too;
//! - formulas are never evaluated (a cell's cached value is taken as its text), columns are
//!   matched by their header, and more rows than the cap stop the reading.
//!
//! Each problem is one `SheetError` whose words say what to do. The server runs this reader
//! in a child process with limits of its own (`super::reader`).

use quick_xml::events::{BytesStart, Event};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Cursor, Read, Seek};

/// The largest file accepted.
pub const MAX_FILE_BYTES: usize = app::domain::import::MAX_IMPORT_BYTES;
/// Rows (after the header) in all files of one upload together.
pub const MAX_ROWS: usize = app::domain::import::MAX_IMPORT_ROWS;
/// Bytes the whole upload may inflate to (every zip member read, nested ones included), and,
/// separately, the bytes of shared strings copied into cells.
pub const MAX_UNZIPPED: u64 = 512 * 1024 * 1024;
/// The longest cell text kept (longer text is refused, not cut).
pub const MAX_CELL_CHARS: usize = 32_767;
/// The most bytes one piece of XML (a text node, a tag with its attributes) may have: a cell
/// at its longest, every character escaped, fits well inside.
pub const MAX_XML_EVENT: usize = 1024 * 1024;
/// Shared strings of one workbook: an export of 100,000 channels has at most 2.4 million cells.
pub const MAX_SHARED_STRINGS: usize = 2_500_000;
/// Bytes of text of one workbook's shared strings together.
pub const MAX_SHARED_BYTES: usize = 32 * 1024 * 1024;
/// The longest name of a file inside an uploaded zip.
pub const MAX_MEMBER_NAME: usize = 255;
/// The most files a zip (the upload, or an `.xlsx` inside it) may say it holds: an export's
/// zip holds at most 50 workbooks, a workbook a dozen parts. (The zip reader keeps a few
/// hundred bytes per file it lists, so this bounds its memory too.)
pub const MAX_ZIP_ENTRIES: u64 = 1_000;
/// The last column a spreadsheet has (XFD), zero-based.
const LAST_COLUMN: usize = 16_383;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
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
    #[error(
        "A file inside the zip has a name longer than {MAX_MEMBER_NAME} characters: rename it and zip the files again."
    )]
    MemberName,
    #[error(
        "{file}The zip holds more than {} files, far more than an export has: it was not read.",
        group(MAX_ZIP_ENTRIES as usize)
    )]
    TooManyFiles { file: String },
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
        "{file}Cell {cell} is right of the header row's last column ({last}): give its column a header, or clear it."
    )]
    WideRow {
        file: String,
        cell: String,
        last: String,
    },
    #[error(
        "{file}The spreadsheet holds more than {} different texts, more than an export of 100,000 channels can: it was not read.",
        group(MAX_SHARED_STRINGS)
    )]
    TooManyTexts { file: String },
    #[error(
        "{file}The spreadsheet's texts add up to more than {} MiB: import its rows in smaller files (a .zip of .xlsx files, as Export writes, is read one file at a time).",
        MAX_SHARED_BYTES / 1024 / 1024
    )]
    TextsTooLarge { file: String },
    #[error(
        "{file}The spreadsheet holds a piece of XML over 1 MiB, more than any cell can hold: it was not read. Save it again in Excel or LibreOffice as .xlsx."
    )]
    XmlTooLarge { file: String },
    #[error(
        "{file}The spreadsheet is damaged ({what}): save it again in Excel or LibreOffice as .xlsx."
    )]
    Damaged { file: String, what: String },
    #[error(
        "The file needs more memory or time to read than any export does: it was not read. Save it again in Excel or LibreOffice as .xlsx, or import it in smaller files."
    )]
    TooCostly,
}

fn group(n: usize) -> String {
    crate::exports::group(n as u64)
}

/// One data row: where it is (file inside a zip, row number as the sheet shows it) and its
/// cells in the order of the `known` columns (empty when the column is absent or the cell
/// empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SheetRow {
    pub file: Option<String>,
    pub row: u32,
    pub cells: Vec<String>,
}

/// The sheet column letters of each known column, per file (for messages).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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
    (any && n <= LAST_COLUMN + 1).then(|| n - 1)
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
const EVENT_TOO_LARGE: &str = "one XML event past its cap";

/// The XML parser's input: fails as soon as more than `cap` bytes have been taken since the
/// last `next_event` (one event's worth), so the parser never buffers more than that (plus one
/// read) for a text node or a tag.
struct EventBound<B> {
    inner: B,
    taken: usize,
    cap: usize,
}

impl<B> EventBound<B> {
    fn new(inner: B, cap: usize) -> Self {
        Self {
            inner,
            taken: 0,
            cap,
        }
    }

    fn next_event(&mut self) {
        self.taken = 0;
    }
}

impl<B: BufRead> Read for EventBound<B> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = {
            let available = self.fill_buf()?;
            let n = available.len().min(buf.len());
            buf[..n].copy_from_slice(&available[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<B: BufRead> BufRead for EventBound<B> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.taken > self.cap {
            return Err(std::io::Error::other(EVENT_TOO_LARGE));
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        self.taken = self.taken.saturating_add(amt);
        self.inner.consume(amt);
    }
}

fn io_error(file: Option<&str>, e: &std::io::Error) -> SheetError {
    match e.to_string().as_str() {
        INFLATED => SheetError::Inflated,
        EVENT_TOO_LARGE => SheetError::XmlTooLarge { file: prefix(file) },
        _ => SheetError::Damaged {
            file: prefix(file),
            what: "a part cannot be unpacked".into(),
        },
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

/// The longest text (in bytes) a cell may have as it is read: the limit in characters is
/// checked per cell, this bound as the text grows.
const MAX_CELL_BYTES: usize = MAX_CELL_CHARS * 4;

/// Adds a text node to `text`, or answers `too_long` when that would pass what any cell may
/// hold (a bound in bytes, checked as it grows; the limit in characters is checked per cell).
fn append(
    text: &mut String,
    node: &quick_xml::events::BytesText,
    file: Option<&str>,
    too_long: impl FnOnce() -> SheetError,
) -> Result<(), SheetError> {
    let piece = node.unescape().map_err(|e| xml_error(file, e))?;
    if text.len() + piece.len() > MAX_CELL_BYTES {
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
    pub shared_strings: usize,
    pub shared_bytes: usize,
    pub xml_event: usize,
}

impl Default for Caps {
    fn default() -> Self {
        Self {
            unzipped: MAX_UNZIPPED,
            rows: MAX_ROWS,
            shared_strings: MAX_SHARED_STRINGS,
            shared_bytes: MAX_SHARED_BYTES,
            xml_event: MAX_XML_EVENT,
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

/// The most files `zip` says it holds, by any end-of-central-directory record in its last
/// 64 KiB (and the ZIP64 record each may point to): what a zip reader would go by, counted
/// before one is asked to list them.
fn entries_claimed(zip: &[u8]) -> u64 {
    const EOCD: [u8; 4] = [0x50, 0x4b, 0x05, 0x06];
    const LOCATOR: [u8; 4] = [0x50, 0x4b, 0x06, 0x07];
    const EOCD64: [u8; 4] = [0x50, 0x4b, 0x06, 0x06];
    let u16_at = |at: usize| -> u64 {
        zip.get(at..at + 2)
            .map_or(0, |b| u64::from(u16::from_le_bytes([b[0], b[1]])))
    };
    let u64_at = |at: usize| -> u64 {
        zip.get(at..at + 8).map_or(0, |b| {
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            u64::from_le_bytes(a)
        })
    };
    let tail = zip.len().saturating_sub(65_535 + 22);
    let mut most = 0u64;
    for at in (tail..zip.len().saturating_sub(3)).rev() {
        if zip[at..at + 4] != EOCD {
            continue;
        }
        // entries on this disk, entries in all
        most = most.max(u16_at(at + 8)).max(u16_at(at + 10));
        if at >= 20 && zip[at - 20..at - 16] == LOCATOR {
            let record = usize::try_from(u64_at(at - 20 + 8)).unwrap_or(usize::MAX);
            if zip.get(record..record.saturating_add(4)) == Some(&EOCD64[..]) {
                most = most.max(u64_at(record + 24)).max(u64_at(record + 32));
            }
        }
    }
    most
}

/// A zip archive of `bytes`, once it says it holds no more files than any upload needs.
fn open_zip<'b>(
    bytes: &'b [u8],
    file: Option<&str>,
) -> Result<zip::ZipArchive<Cursor<&'b [u8]>>, SheetError> {
    if entries_claimed(bytes) > MAX_ZIP_ENTRIES {
        return Err(SheetError::TooManyFiles { file: prefix(file) });
    }
    zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| SheetError::NotASpreadsheet)
}

/// What one reading has spent so far, against its `Caps`.
struct Budget {
    caps: Caps,
    /// Bytes that may still be inflated.
    inflate: u64,
    /// Bytes of shared strings that may still be copied into cells.
    copies: u64,
    rows: usize,
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
    let mut budget = Budget {
        caps,
        inflate: caps.unzipped,
        // a shared string is stored once and may be named by every cell: its copies are
        // counted against a budget of their own, so a small file cannot make endless work
        copies: caps.unzipped,
        rows: 0,
    };
    let mut archive = open_zip(bytes, None)?;
    if archive.index_for_name("xl/workbook.xml").is_some() {
        return read_book(&mut archive, None, known, required, &mut budget, &mut visit);
    }
    let mut members: Vec<String> = archive
        .file_names()
        .filter(|n| n.to_ascii_lowercase().ends_with(".xlsx") && !n.contains("__MACOSX"))
        .map(str::to_owned)
        .collect();
    if members.is_empty() {
        return Err(SheetError::NotASpreadsheet);
    }
    if members.iter().any(|n| n.len() > MAX_MEMBER_NAME) {
        return Err(SheetError::MemberName);
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
                left: &mut budget.inflate,
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
        let mut book = open_zip(inner.as_slice(), Some(&name))?;
        if book.index_for_name("xl/workbook.xml").is_none() {
            return Err(SheetError::NotASpreadsheet);
        }
        match read_book(
            &mut book,
            Some(&name),
            known,
            required,
            &mut budget,
            &mut visit,
        )? {
            Ok(()) => {}
            Err(e) => return Ok(Err(e)),
        }
    }
    Ok(Ok(()))
}

/// A part of a workbook as the XML parser reads it: inflated through the budget, streamed,
/// each XML event bounded.
type Part<'a, R> = EventBound<BufReader<Capped<'a, zip::read::ZipFile<'a, R>>>>;

/// Reads a member through the budget, streaming.
fn member<'a, R: Read + Seek>(
    book: &'a mut zip::ZipArchive<R>,
    name: &str,
    budget: &'a mut u64,
    event_cap: usize,
) -> Option<Part<'a, R>> {
    let file = book.by_name(name).ok()?;
    Some(EventBound::new(
        BufReader::new(Capped {
            inner: file,
            left: budget,
        }),
        event_cap,
    ))
}

/// The next event of `xml`, whose input is bounded per event.
fn next_event<'b, B: BufRead>(
    xml: &mut quick_xml::Reader<EventBound<B>>,
    buf: &'b mut Vec<u8>,
    file: Option<&str>,
) -> Result<Event<'b>, SheetError> {
    buf.clear();
    xml.get_mut().next_event();
    xml.read_event_into(buf).map_err(|e| xml_error(file, e))
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
    budget: &mut Budget,
) -> Result<String, SheetError> {
    let damaged = |what: &str| SheetError::Damaged {
        file: prefix(file),
        what: what.to_owned(),
    };
    let event_cap = budget.caps.xml_event;
    let mut rid = None;
    {
        let reader = member(book, "xl/workbook.xml", &mut budget.inflate, event_cap)
            .ok_or_else(|| damaged("no workbook"))?;
        let mut xml = quick_xml::Reader::from_reader(reader);
        let mut buf = Vec::new();
        loop {
            match next_event(&mut xml, &mut buf, file)? {
                Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == b"sheet" => {
                    rid = attr(&e, b"id");
                    break;
                }
                Event::Eof => break,
                _ => {}
            }
        }
    }
    let rid = rid.ok_or_else(|| damaged("the workbook has no sheet"))?;
    let reader = member(
        book,
        "xl/_rels/workbook.xml.rels",
        &mut budget.inflate,
        event_cap,
    )
    .ok_or_else(|| damaged("no workbook relations"))?;
    let mut xml = quick_xml::Reader::from_reader(reader);
    let mut buf = Vec::new();
    loop {
        match next_event(&mut xml, &mut buf, file)? {
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
    }
}

/// A workbook's shared strings: their text one after another in one buffer, and where each
/// ends (4 bytes a string, whatever its length; an empty one costs only that).
#[derive(Debug, Default)]
pub struct SharedStrings {
    text: String,
    ends: Vec<u32>,
}

impl SharedStrings {
    pub fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)? as usize;
        let start = match i {
            0 => 0,
            _ => self.ends[i - 1] as usize,
        };
        self.text.get(start..end)
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

/// The shared strings table (each `<si>`'s text, rich text runs joined), within the caps.
fn shared_strings<R: Read + Seek>(
    book: &mut zip::ZipArchive<R>,
    file: Option<&str>,
    budget: &mut Budget,
) -> Result<SharedStrings, SheetError> {
    let caps = budget.caps;
    let Some(reader) = member(
        book,
        "xl/sharedStrings.xml",
        &mut budget.inflate,
        caps.xml_event,
    ) else {
        return Ok(SharedStrings::default());
    };
    let mut xml = quick_xml::Reader::from_reader(reader);
    let mut buf = Vec::new();
    let mut out = SharedStrings::default();
    // the text of the `<si>` being read starts here in `out.text`
    let mut start = 0usize;
    let mut in_si = false;
    let mut in_t = false;
    // phonetic runs (`<rPh>`) are not part of the text
    let mut in_phonetic = false;
    let end_one = |out: &mut SharedStrings| -> Result<(), SheetError> {
        if out.ends.len() >= caps.shared_strings {
            return Err(SheetError::TooManyTexts { file: prefix(file) });
        }
        out.ends.push(out.text.len() as u32);
        Ok(())
    };
    loop {
        match next_event(&mut xml, &mut buf, file)? {
            Event::Start(e) => match e.local_name().as_ref() {
                b"si" => {
                    in_si = true;
                    start = out.text.len();
                }
                b"t" if in_si && !in_phonetic => in_t = true,
                b"rPh" => in_phonetic = true,
                _ => {}
            },
            Event::Empty(e) if e.local_name().as_ref() == b"si" => end_one(&mut out)?,
            Event::Text(t) if in_t => {
                let piece = t.unescape().map_err(|e| xml_error(file, e))?;
                if out.text.len() - start + piece.len() > MAX_CELL_BYTES {
                    return Err(SheetError::CellTooLong {
                        file: prefix(file),
                        cell: "in the shared strings".into(),
                    });
                }
                if out.text.len() + piece.len() > caps.shared_bytes {
                    return Err(SheetError::TextsTooLarge { file: prefix(file) });
                }
                out.text.push_str(&piece);
            }
            Event::End(e) => match e.local_name().as_ref() {
                b"t" => in_t = false,
                b"rPh" => in_phonetic = false,
                b"si" if in_si => {
                    in_si = false;
                    end_one(&mut out)?;
                }
                _ => {}
            },
            Event::Eof => return Ok(out),
            _ => {}
        }
    }
}

fn read_book<R: Read + Seek, E>(
    book: &mut zip::ZipArchive<R>,
    file: Option<&str>,
    known: &[&str],
    required: &[&str],
    budget: &mut Budget,
    visit: &mut impl FnMut(&Layout, SheetRow) -> Result<(), E>,
) -> Result<Result<(), E>, SheetError> {
    let sheet = first_sheet(book, file, budget)?;
    let strings = shared_strings(book, file, budget)?;
    let row_cap = budget.caps.rows;
    let event_cap = budget.caps.xml_event;
    let reader = member(book, &sheet, &mut budget.inflate, event_cap).ok_or_else(|| {
        SheetError::Damaged {
            file: prefix(file),
            what: "the first sheet is missing".into(),
        }
    })?;
    let mut cells = RowReader::new(reader, &strings, file, &mut budget.copies);
    let wanted: HashMap<String, usize> = known
        .iter()
        .enumerate()
        .map(|(i, k)| (k.to_lowercase(), i))
        .collect();
    // the header: the first row with anything in it; of it, the cells naming a known column
    let header = loop {
        match cells.next_row(&Keep::Header(&wanted))? {
            None => {
                return Err(SheetError::NoHeader { file: prefix(file) });
            }
            Some(row) if row.width == 0 => continue,
            Some(row) => break row,
        }
    };
    // where each known column is in the sheet
    let mut at: Vec<Option<usize>> = vec![None; known.len()];
    for (col, title) in &header.cells {
        let col = *col;
        if let Some(&k) = wanted.get(&title.trim().to_lowercase()) {
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
    let keep = Keep::Columns {
        at: &at,
        width: header.width,
    };
    while let Some(row) = cells.next_row(&keep)? {
        if row.width == 0 {
            continue;
        }
        budget.rows += 1;
        if budget.rows > row_cap {
            return Err(SheetError::TooManyRows { max: row_cap });
        }
        let mut values = row.cells;
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
                row: row.number,
                cells,
            },
        ) {
            return Ok(Err(e));
        }
    }
    Ok(Ok(()))
}

/// A cell's reference (`B3`) for messages.
fn cell_ref(col: Option<usize>, row: Option<u32>) -> String {
    format!(
        "{}{}",
        col.map(column_letters).unwrap_or_default(),
        row.unwrap_or_default()
    )
}

/// Which cells of a row are kept.
enum Keep<'k> {
    /// The header row: the cells whose text names a known column (lower case, trimmed).
    Header(&'k HashMap<String, usize>),
    /// A data row: the cells of the known columns (`at`); a value at or right of `width`
    /// (the header's width) is refused.
    Columns {
        at: &'k [Option<usize>],
        width: usize,
    },
}

/// A row as read: its number, its kept cells as (column, text) in sheet order (at most one per
/// column: a column named twice keeps the first), and its width (one past its last column
/// with a value; 0 for a row without any).
struct RawRow {
    number: u32,
    cells: Vec<(usize, String)>,
    width: usize,
}

/// Streams a sheet's rows.
struct RowReader<'s, B: BufRead> {
    xml: quick_xml::Reader<EventBound<B>>,
    buf: Vec<u8>,
    strings: &'s SharedStrings,
    file: Option<&'s str>,
    next_row_number: u32,
    /// Bytes of shared strings that may still be copied into cells.
    copies: &'s mut u64,
}

impl<'s, B: BufRead> RowReader<'s, B> {
    fn new(
        reader: EventBound<B>,
        strings: &'s SharedStrings,
        file: Option<&'s str>,
        copies: &'s mut u64,
    ) -> Self {
        Self {
            xml: quick_xml::Reader::from_reader(reader),
            buf: Vec::new(),
            strings,
            file,
            next_row_number: 1,
            copies,
        }
    }

    fn next_row(&mut self, keep: &Keep<'_>) -> Result<Option<RawRow>, SheetError> {
        let mut row: Option<RawRow> = None;
        // the column of the cell being read (and of the one before), its type and its text
        let mut cell: Option<usize> = None;
        let mut last_col: Option<usize> = None;
        let mut kind = String::new();
        let mut text = String::new();
        let mut in_value = false;
        let mut in_inline = false;
        let mut in_formula = false;
        loop {
            let file = self.file;
            let event = next_event(&mut self.xml, &mut self.buf, file)?;
            let empty = matches!(event, Event::Empty(_));
            match event {
                Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == b"row" => {
                    let number = attr(&e, b"r")
                        .and_then(|r| r.parse::<u32>().ok())
                        .unwrap_or(self.next_row_number);
                    self.next_row_number = number.saturating_add(1);
                    let fresh = RawRow {
                        number,
                        cells: Vec::new(),
                        width: 0,
                    };
                    if empty {
                        return Ok(Some(fresh));
                    }
                    row = Some(fresh);
                    last_col = None;
                }
                Event::Start(e) if e.local_name().as_ref() == b"c" => {
                    // a cell without a reference is the one after the cell before it
                    let col = match attr(&e, b"r") {
                        Some(r) => column_of(r.as_bytes()),
                        None => Some(last_col.map_or(0, |c| c + 1)),
                    }
                    .filter(|c| *c <= LAST_COLUMN)
                    .ok_or_else(|| SheetError::Damaged {
                        file: prefix(file),
                        what: "a cell is outside the sheet's columns".into(),
                    })?;
                    last_col = Some(col);
                    kind = attr(&e, b"t").unwrap_or_default();
                    text.clear();
                    cell = Some(col);
                }
                Event::Empty(e) if e.local_name().as_ref() == b"c" => {
                    // an empty cell (formatting only) still takes its place
                    let col = match attr(&e, b"r") {
                        Some(r) => column_of(r.as_bytes()),
                        None => Some(last_col.map_or(0, |c| c + 1)),
                    };
                    last_col = col.filter(|c| *c <= LAST_COLUMN).or(last_col);
                }
                Event::Start(e) => match e.local_name().as_ref() {
                    b"v" => in_value = true,
                    b"is" => in_inline = true,
                    // a formula's own text is never read: its cached value (`<v>`) is
                    b"f" => in_formula = true,
                    _ => {}
                },
                Event::Text(t) if cell.is_some() && !in_formula && (in_value || in_inline) => {
                    let number = row.as_ref().map(|r| r.number);
                    append(&mut text, &t, file, || SheetError::CellTooLong {
                        file: prefix(file),
                        cell: cell_ref(cell, number),
                    })?;
                }
                Event::End(e) => match e.local_name().as_ref() {
                    b"v" => in_value = false,
                    b"is" => in_inline = false,
                    b"f" => in_formula = false,
                    b"c" => {
                        if let (Some(r), Some(col)) = (row.as_mut(), cell.take()) {
                            self.end_cell(r, col, &kind, &mut text, keep)?;
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

    /// A cell's text is complete: keeps it when `keep` says so, minds the row's width.
    fn end_cell(
        &mut self,
        row: &mut RawRow,
        col: usize,
        kind: &str,
        text: &mut String,
        keep: &Keep<'_>,
    ) -> Result<(), SheetError> {
        let file = self.file;
        let strings: &'s SharedStrings = self.strings;
        // the value, borrowed: a shared string is not copied unless the cell is kept
        let value: &str = match kind {
            "s" => text
                .trim()
                .parse::<usize>()
                .ok()
                .and_then(|i| strings.get(i))
                .unwrap_or(""),
            "b" => {
                if text.trim() == "1" {
                    "TRUE"
                } else {
                    "FALSE"
                }
            }
            // an error value (#REF!, #DIV/0!) reads as itself
            _ => text.as_str(),
        };
        if value.trim().is_empty() {
            return Ok(());
        }
        let kept = match keep {
            Keep::Header(names) => {
                value.len() <= 256 && names.contains_key(&value.trim().to_lowercase())
            }
            Keep::Columns { at, width } => {
                if col >= *width {
                    return Err(SheetError::WideRow {
                        file: prefix(file),
                        cell: cell_ref(Some(col), Some(row.number)),
                        last: width.checked_sub(1).map(column_letters).unwrap_or_default(),
                    });
                }
                at.contains(&Some(col))
            }
        };
        row.width = row.width.max(col + 1);
        // a column named twice in a row: the first is read
        if !kept || row.cells.iter().any(|(c, _)| *c == col) {
            return Ok(());
        }
        // (a text of at most MAX_CELL_CHARS bytes has no more characters: not counted)
        if value.len() > MAX_CELL_CHARS && value.chars().count() > MAX_CELL_CHARS {
            return Err(SheetError::CellTooLong {
                file: prefix(file),
                cell: cell_ref(Some(col), Some(row.number)),
            });
        }
        let owned = match kind {
            "s" => {
                let cost = value.len() as u64;
                if cost > *self.copies {
                    return Err(SheetError::Inflated);
                }
                *self.copies -= cost;
                value.to_owned()
            }
            "b" => value.to_owned(),
            _ => std::mem::take(text),
        };
        row.cells.push((col, owned));
        Ok(())
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
            ..Caps::default()
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
            ..Caps::default()
        };
        assert_eq!(all(&wb, caps), Err(SheetError::Inflated));
        let roomy = Caps {
            unzipped: 8 * 1024 * 1024,
            rows: 1_000,
            ..Caps::default()
        };
        assert_eq!(all(&wb, roomy).unwrap().len(), 100);
    }

    #[test]
    fn a_value_right_of_the_header_is_refused_by_its_reference() {
        let far = |cell: &'static str| {
            with_sheet(
                &book(&[&["Channel Name", "Channel Type"], &["a", "x"]]),
                move |xml| {
                    let text = String::from_utf8(xml.clone()).unwrap();
                    let changed = text.replacen(
                        "</row></sheetData>",
                        &format!("{cell}</row></sheetData>"),
                        1,
                    );
                    assert_ne!(changed, text, "the cell was added");
                    *xml = changed.into_bytes();
                },
            )
        };
        let e = all(
            &far(r#"<c r="XFD2" t="inlineStr"><is><t>far</t></is></c>"#),
            Caps::default(),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "Cell XFD2 is right of the header row's last column (B): give its column a header, or clear it."
        );
        // empty or blank cells there are no value: the row reads as it is
        for cell in [
            r#"<c r="XFD2" s="1"/>"#,
            r#"<c r="Z2" t="inlineStr"><is><t>  </t></is></c>"#,
        ] {
            let rows = all(&far(cell), Caps::default()).unwrap();
            assert_eq!(rows[0].cells[..2], ["a".to_string(), "x".to_string()]);
        }
        // a cell without a reference is the one after the cell before it
        let e = all(
            &far(r#"<c t="inlineStr"><is><t>c</t></is></c>"#),
            Caps::default(),
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("Cell C2 is right"), "{e}");
    }

    /// `book(rows)` with `xl/sharedStrings.xml` replaced by `xml` (its strings named by index).
    fn with_shared_strings(rows: &[&[&str]], xml: &[u8]) -> Vec<u8> {
        let bytes = book(rows);
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes.as_slice())).unwrap();
        let mut parts: Vec<(String, Vec<u8>)> = Vec::new();
        for i in 0..archive.len() {
            let mut f = archive.by_index(i).unwrap();
            let mut b = Vec::new();
            f.read_to_end(&mut b).unwrap();
            if f.name() == "xl/sharedStrings.xml" {
                b = xml.to_vec();
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
    fn shared_strings_are_bounded_in_count_and_bytes() {
        let rows: &[&[&str]] = &[&["Channel Name", "Channel Type"], &["a", "x"]];
        let caps = Caps {
            shared_strings: 1_000,
            shared_bytes: 64 * 1024,
            ..Caps::default()
        };
        let head = "<sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">\
                    <si><t>Channel Name</t></si><si><t>Channel Type</t></si><si><t>a</t></si><si><t>x</t></si>";
        // many empty strings: each costs its count, and the count is capped
        let many = format!("{head}{}</sst>", "<si/>".repeat(1_000));
        let e = all(&with_shared_strings(rows, many.as_bytes()), caps).unwrap_err();
        assert_eq!(
            e.to_string(),
            "The spreadsheet holds more than 2,500,000 different texts, more than an export of 100,000 channels can: it was not read."
        );
        let fits = format!("{head}{}</sst>", "<si/>".repeat(996));
        assert_eq!(
            all(&with_shared_strings(rows, fits.as_bytes()), caps)
                .unwrap()
                .len(),
            1
        );
        // their text together is capped
        let long = format!(
            "{head}{}</sst>",
            format!("<si><t>{}</t></si>", "y".repeat(30_000)).repeat(3)
        );
        let e = all(&with_shared_strings(rows, long.as_bytes()), caps).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("The spreadsheet's texts add up to more than 32 MiB"),
            "{e}"
        );
        // the real constants
        let s = SharedStrings {
            text: "abc".into(),
            ends: vec![1, 1, 3],
        };
        assert_eq!(
            (s.get(0), s.get(1), s.get(2), s.get(3)),
            (Some("a"), Some(""), Some("bc"), None)
        );
        const { assert!(MAX_SHARED_STRINGS >= 100_000 * app::domain::import::COLUMNS.len() + 100) };
    }

    #[test]
    fn one_piece_of_xml_is_bounded_while_it_is_read() {
        let wb = book(&[&["Channel Name", "Channel Type"], &["a", "x"]]);
        let caps = Caps {
            xml_event: 64 * 1024,
            ..Caps::default()
        };
        // whitespace between two rows, a text node, a tag's attributes: each one event
        for piece in [
            " ".repeat(100_000),
            format!("<!-- {} -->", "z".repeat(100_000)),
            format!("<x a=\"{}\"/>", "z".repeat(100_000)),
        ] {
            let big = with_sheet(&wb, |xml| {
                let text = String::from_utf8(xml.clone()).unwrap();
                *xml = text
                    .replacen("<row ", &format!("{piece}<row "), 1)
                    .into_bytes();
            });
            assert_eq!(
                all(&big, caps).unwrap_err().to_string(),
                "The spreadsheet holds a piece of XML over 1 MiB, more than any cell can hold: it was not read. Save it again in Excel or LibreOffice as .xlsx."
            );
        }
        assert_eq!(all(&wb, caps).unwrap().len(), 1);
    }

    #[test]
    fn a_zip_that_lists_more_files_than_an_export_has_is_not_listed() {
        let many: Vec<(String, Vec<u8>)> = (0..=MAX_ZIP_ENTRIES)
            .map(|i| (format!("{i}.txt"), Vec::new()))
            .collect();
        let members: Vec<(&str, &[u8], zip::CompressionMethod)> = many
            .iter()
            .map(|(n, b)| (n.as_str(), b.as_slice(), zip::CompressionMethod::Stored))
            .collect();
        let bytes = zip_of(&members);
        assert_eq!(entries_claimed(&bytes), MAX_ZIP_ENTRIES + 1);
        assert_eq!(
            all(&bytes, Caps::default()).unwrap_err().to_string(),
            "The zip holds more than 1,000 files, far more than an export has: it was not read."
        );
        // inside a zip, the workbook is named
        let nested = zip_of(&[(
            "channels-001.xlsx",
            &bytes,
            zip::CompressionMethod::Deflated,
        )]);
        assert!(
            all(&nested, Caps::default())
                .unwrap_err()
                .to_string()
                .starts_with("channels-001.xlsx: The zip holds more than 1,000 files"),
        );
        let one = book(&[&["Channel Name", "Channel Type"], &["a", "x"]]);
        assert!(entries_claimed(&one) < 20);
        // a ZIP64 directory says so in its own record
        let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
        z.start_file(
            "a.xlsx",
            zip::write::SimpleFileOptions::default().large_file(true),
        )
        .unwrap();
        z.write_all(&one).unwrap();
        let bytes = z.finish().unwrap().into_inner();
        assert_eq!(entries_claimed(&bytes), 1);
    }

    #[test]
    fn a_long_member_name_is_refused() {
        let one = book(&[&["Channel Name", "Channel Type"], &["a", "x"]]);
        let name = format!("{}.xlsx", "n".repeat(MAX_MEMBER_NAME));
        let e = all(
            &zip_of(&[(name.as_str(), &one, zip::CompressionMethod::Stored)]),
            Caps::default(),
        )
        .unwrap_err();
        assert_eq!(e, SheetError::MemberName);
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
