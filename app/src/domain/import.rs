//! The export's columns, and how one row of an edited export becomes a channel draft: the
//! Basic Configuration and Robot Configuration cells are laid over the stored channel's draft
//! (provider credentials are not in the file and never change), names of OUs and skill queues
//! are resolved in the tenant, and every cell that cannot be read is one error naming its
//! column. The result is then checked by `ChannelDraft::validate`, like a saved form.

use super::channel::{ChannelDraft, ValidChannel, ValidationContext};
use super::worktime::SegmentInput;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The columns an export writes, in order: Channel Type and Business Solution Provider, then
/// everything of Basic Configuration and Robot Configuration. No password, key, secret or token.
pub const COLUMNS: [&str; 24] = [
    "Channel Name",
    "Channel Type",
    "Business Solution Provider",
    "OU Configuration",
    "Skill Queue",
    "Keyword for Transfer to Agent",
    "Agent Work Time (Workday)",
    "Agent Work Time (Non-workday)",
    "Non-Working Time Notification",
    "Last Agent Mode",
    "Last Agent Mode Period (days)",
    "Session End Due to No Customer Reply",
    "No Customer Reply Timeout (minutes)",
    "Session End Message",
    "Session Transfer Due to No Agent Reply",
    "No Agent Reply Timeout (seconds)",
    "Transfer Target Skill Queue",
    "Session Transfer",
    "Offline Messages",
    "Offline Message Prompt",
    "Offline Routing Time Limit (minutes)",
    "Connecting to the Intelligent Robot",
    "Chatbot Access Code",
    "Access Robot Assistant",
];

/// Without these an import cannot match a row to a channel and check it belongs there.
pub const REQUIRED: [&str; 3] = ["Channel Name", "Channel Type", "Business Solution Provider"];

/// How the export names a channel's provider: `other (basic)` / `other (oauth)` for `other`.
pub fn provider_label(provider: &str, verification_method: &str) -> String {
    if provider == "other" && !verification_method.is_empty() {
        format!("other ({verification_method})")
    } else {
        provider.to_owned()
    }
}

/// The largest upload (the reader refuses more too).
pub const MAX_IMPORT_BYTES: usize = 20 * 1024 * 1024;
/// The most channel rows one import reads.
pub const MAX_IMPORT_ROWS: usize = 100_000;

/// Preview rows per page.
pub const PREVIEW_PAGE: u64 = 50;

/// Where an import is: a dry run reads and checks every row (`Checking` → `Checked`); Apply
/// saves the changes in one transaction (`Applying` → `Applied`). A file that cannot be read,
/// or an Apply refused because channels moved since the dry run, ends in `Failed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ImportStatus {
    Checking,
    Checked,
    Applying,
    Applied,
    Failed,
}

impl ImportStatus {
    pub const ALL: [ImportStatus; 5] = [
        Self::Checking,
        Self::Checked,
        Self::Applying,
        Self::Applied,
        Self::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Checking => "checking",
            Self::Checked => "checked",
            Self::Applying => "applying",
            Self::Applied => "applied",
            Self::Failed => "failed",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Checking => "Checking",
            Self::Checked => "Checked",
            Self::Applying => "Applying",
            Self::Applied => "Applied",
            Self::Failed => "Failed",
        }
    }

    /// The worker still has something to do.
    pub fn is_running(self) -> bool {
        matches!(self, Self::Checking | Self::Applying)
    }
}

/// What the dry run found for one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RowOutcome {
    Unchanged,
    Changed,
    Error,
    Unknown,
}

impl RowOutcome {
    pub const ALL: [RowOutcome; 4] = [Self::Changed, Self::Error, Self::Unknown, Self::Unchanged];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unchanged => "unchanged",
            Self::Changed => "changed",
            Self::Error => "error",
            Self::Unknown => "unknown",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Unchanged => "Unchanged",
            Self::Changed => "Changed",
            Self::Error => "Error",
            Self::Unknown => "Unknown channel",
        }
    }
}

/// How many rows of a dry run came out each way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowCounts {
    pub unchanged: i64,
    pub changed: i64,
    pub errors: i64,
    pub unknown: i64,
}

impl RowCounts {
    pub fn add(&mut self, outcome: RowOutcome) {
        match outcome {
            RowOutcome::Unchanged => self.unchanged += 1,
            RowOutcome::Changed => self.changed += 1,
            RowOutcome::Error => self.errors += 1,
            RowOutcome::Unknown => self.unknown += 1,
        }
    }

    pub fn of(&self, outcome: RowOutcome) -> i64 {
        match outcome {
            RowOutcome::Unchanged => self.unchanged,
            RowOutcome::Changed => self.changed,
            RowOutcome::Error => self.errors,
            RowOutcome::Unknown => self.unknown,
        }
    }
}

/// Whether Apply may run now; otherwise why not. Apply is all or nothing: a row in error or
/// naming no channel (a mistyped name would otherwise be skipped silently) stops it.
pub fn can_apply(status: ImportStatus, counts: &RowCounts) -> Result<(), String> {
    match status {
        ImportStatus::Checking => {
            return Err("The dry run is still checking the file: wait for it to finish.".into());
        }
        ImportStatus::Applying => return Err("This import is being applied.".into()),
        ImportStatus::Applied => return Err("This import has been applied already.".into()),
        ImportStatus::Failed => {
            return Err("This import failed: upload the file again.".into());
        }
        ImportStatus::Checked => {}
    }
    let blocking = counts.errors + counts.unknown;
    if blocking > 0 {
        return Err(format!(
            "{blocking} row{} cannot be imported (errors or unknown channels): correct the file and import it again. Nothing was changed.",
            if blocking == 1 { "" } else { "s" }
        ));
    }
    if counts.changed == 0 {
        return Err("No row changes a channel: there is nothing to apply.".into());
    }
    Ok(())
}

/// One cell the dry run refused, named as in the sheet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    /// The column's header (`Channel Name`), or the field of the channel when the sheet has
    /// no column for it (a stored value that no longer passes the rules).
    pub column: String,
    /// `D7`, when the sheet has the column.
    pub cell: Option<String>,
    pub message: String,
}

/// A cell that cannot be read, by the column's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellError {
    pub column: &'static str,
    pub message: String,
}

/// The tenant's OUs and skill queues by name in lower case.
#[derive(Debug, Clone, Default)]
pub struct NameIds {
    pub ous: HashMap<String, i64>,
    pub queues: HashMap<String, i64>,
}

/// A typed value as a message repeats it: at most 80 characters (a cell may hold 32,767).
pub fn shown(v: &str) -> String {
    let v = v.trim();
    if v.chars().count() <= 80 {
        v.to_owned()
    } else {
        format!("{}…", v.chars().take(80).collect::<String>())
    }
}

/// `YES` / `NO` as written by the export; `TRUE` / `FALSE` and `1` / `0` as a spreadsheet may
/// turn them into.
fn yes_no(v: &str) -> Result<bool, String> {
    match v.trim().to_ascii_uppercase().as_str() {
        "YES" | "TRUE" | "1" => Ok(true),
        "NO" | "FALSE" | "0" => Ok(false),
        other => Err(format!("Write YES or NO, not '{}'.", shown(other))),
    }
}

/// A whole number as a spreadsheet may hand it back (`30`, `30.0`); anything else is kept as
/// typed, for the channel rules to refuse in their words.
fn number(v: &str) -> String {
    let v = v.trim();
    v.strip_suffix(".0").unwrap_or(v).to_owned()
}

/// `09:00–18:00, 19:00–21:00` (an en dash or a hyphen), as the export writes work time.
pub fn parse_work_time(v: &str) -> Result<Vec<SegmentInput>, String> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(Vec::new());
    }
    v.split(',')
        .map(|seg| {
            let seg = seg.trim();
            seg.split_once(['–', '-'])
                .map(|(a, b)| SegmentInput::new(a.trim(), b.trim()))
                .ok_or_else(|| {
                    format!("'{}' is not a time range: write it as 09:00–18:00, ranges separated by commas.", shown(seg))
                })
        })
        .collect()
}

/// Where in a draft a YES/NO column goes.
type Switch = fn(&mut ChannelDraft) -> &mut bool;
/// Where in a draft a text column goes.
type Text = fn(&mut ChannelDraft) -> &mut String;

/// Lays the row's cells over `draft`. `cells[i]` is the value of `COLUMNS[i]`, `None` when
/// the sheet has no such column (the stored value stays).
pub fn overlay(
    draft: &mut ChannelDraft,
    cells: &[Option<&str>],
    names: &NameIds,
) -> Vec<CellError> {
    let mut errors = Vec::new();
    let cell = |i: usize| cells.get(i).copied().flatten();
    let mut fail = |i: usize, message: String| {
        errors.push(CellError {
            column: COLUMNS[i],
            message,
        })
    };
    if let Some(t) = cell(1)
        && !t.trim().eq_ignore_ascii_case("whatsapp")
    {
        fail(
            1,
            format!("The Channel Type is WhatsApp, not '{}'.", shown(t)),
        );
    }
    if let Some(p) = cell(2) {
        let stored = provider_label(&draft.provider, &draft.verification_method);
        if !p.trim().eq_ignore_ascii_case(&stored) {
            fail(
                2,
                format!(
                    "The Business Solution Provider cannot be changed by an import: this channel is {stored}."
                ),
            );
        }
    }
    let by_name = |map: &HashMap<String, i64>, v: &str| map.get(&v.trim().to_lowercase()).copied();
    if let Some(v) = cell(3) {
        match v.trim() {
            "" => draft.ou_id.clear(),
            name => match by_name(&names.ous, name) {
                Some(id) => draft.ou_id = id.to_string(),
                None => fail(3, format!("There is no OU named '{}'.", shown(name))),
            },
        }
    }
    for (i, target) in [(4usize, 0u8), (16, 1)] {
        if let Some(v) = cell(i) {
            let id = match v.trim() {
                "" => Some(String::new()),
                name => match by_name(&names.queues, name) {
                    Some(id) => Some(id.to_string()),
                    None => {
                        fail(
                            i,
                            format!("There is no skill queue named '{}'.", shown(name)),
                        );
                        None
                    }
                },
            };
            if let Some(id) = id {
                if target == 0 {
                    draft.skill_queue_id = id;
                } else {
                    draft.no_agent_queue_id = id;
                }
            }
        }
    }
    if let Some(v) = cell(5) {
        draft.keywords = v.trim().to_owned();
    }
    for (i, workday) in [(6usize, true), (7, false)] {
        if let Some(v) = cell(i) {
            match parse_work_time(v) {
                Ok(segments) if workday => draft.workday = segments,
                Ok(segments) => draft.non_workday = segments,
                Err(e) => fail(i, e),
            }
        }
    }
    if let Some(v) = cell(8) {
        draft.non_working_notification = v.to_owned();
    }
    let switches: [(usize, Switch); 7] = [
        (9, |d| &mut d.last_agent_mode),
        (11, |d| &mut d.no_reply_end),
        (14, |d| &mut d.no_agent_transfer),
        (17, |d| &mut d.session_transfer),
        (18, |d| &mut d.offline_messages),
        (21, |d| &mut d.robot),
        (23, |d| &mut d.robot_assistant),
    ];
    for (i, field) in switches {
        if let Some(v) = cell(i) {
            match yes_no(v) {
                Ok(on) => *field(draft) = on,
                Err(e) => fail(i, e),
            }
        }
    }
    let texts: [(usize, bool, Text); 7] = [
        (10, true, |d| &mut d.last_agent_days),
        (12, true, |d| &mut d.no_reply_minutes),
        (13, false, |d| &mut d.no_reply_message),
        (15, true, |d| &mut d.no_agent_seconds),
        (19, false, |d| &mut d.offline_prompt),
        (20, true, |d| &mut d.offline_limit_minutes),
        (22, false, |d| &mut d.robot_access_code),
    ];
    for (i, numeric, field) in texts {
        if let Some(v) = cell(i) {
            *field(draft) = if numeric { number(v) } else { v.to_owned() };
        }
    }
    errors
}

/// Checks one row laid over the stored channel's draft, as a saved form would be: the draft
/// to save and its checked channel, or every error named by its cell (`letters[i]` is the
/// sheet column of `COLUMNS[i]`, `row` the row number as the sheet shows it).
pub fn check_row(
    mut draft: ChannelDraft,
    cells: &[Option<&str>],
    letters: &[Option<String>],
    row: u32,
    names: &NameIds,
    ctx: &ValidationContext,
) -> Result<(ChannelDraft, ValidChannel), Vec<RowError>> {
    let index_of = |column: &str| COLUMNS.iter().position(|c| *c == column);
    let cell_of = |column: &str| {
        index_of(column)
            .and_then(|i| letters.get(i).cloned().flatten())
            .map(|l| format!("{l}{row}"))
    };
    let mut errors: Vec<RowError> = overlay(&mut draft, cells, names)
        .into_iter()
        .map(|e| RowError {
            column: e.column.to_owned(),
            cell: cell_of(e.column),
            message: e.message,
        })
        .collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    match draft.validate(ctx) {
        Ok(valid) => Ok((draft, valid)),
        Err(fields) => {
            for e in fields.0 {
                let base = e.field.split(['.', '[']).next().unwrap_or(&e.field);
                match column_of_field(base) {
                    Some(column) => errors.push(RowError {
                        column: column.to_owned(),
                        cell: cell_of(column),
                        message: e.message,
                    }),
                    // a stored value the file does not hold (a credential, a certificate)
                    None => errors.push(RowError {
                        column: "Channel settings".to_owned(),
                        cell: None,
                        message: format!(
                            "{} This is not in the file: correct it on the channel's Edit page.",
                            e.message
                        ),
                    }),
                }
            }
            Err(errors)
        }
    }
}

/// The column of a field `ChannelDraft::validate` names, for its message in an import.
pub fn column_of_field(field: &str) -> Option<&'static str> {
    let i = match field {
        "name" => 0,
        "ou_id" => 3,
        "skill_queue_id" => 4,
        "keywords" => 5,
        "workday" => 6,
        "non_workday" => 7,
        "non_working_notification" => 8,
        "last_agent_days" => 10,
        "no_reply_minutes" => 12,
        "no_reply_message" => 13,
        "no_agent_seconds" => 15,
        "no_agent_queue_id" => 16,
        "offline_prompt" => 19,
        "offline_limit_minutes" => 20,
        "robot_access_code" => 22,
        _ => return None,
    };
    Some(COLUMNS[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> NameIds {
        NameIds {
            ous: [("sales".to_string(), 7)].into(),
            queues: [("care".to_string(), 3), ("sales queue".to_string(), 4)].into(),
        }
    }

    fn stored() -> ChannelDraft {
        ChannelDraft {
            provider: "other".into(),
            verification_method: "basic".into(),
            name: "wa_1".into(),
            skill_queue_id: "3".into(),
            keywords: "agent".into(),
            robot_access_code: "55".into(),
            robot: true,
            ..Default::default()
        }
    }

    fn row(values: &[(usize, &'static str)]) -> Vec<Option<&'static str>> {
        let mut cells = vec![None; COLUMNS.len()];
        for (i, v) in values {
            cells[*i] = Some(*v);
        }
        cells
    }

    #[test]
    fn present_cells_replace_stored_values_and_absent_columns_keep_them() {
        let mut d = stored();
        let cells = row(&[
            (0, "wa_1"),
            (1, "WhatsApp"),
            (2, "other (basic)"),
            (3, " SALES "),
            (4, "Sales Queue"),
            (6, "09:00–12:00, 13:00-18:00"),
            (9, "yes"),
            (10, "30.0"),
            (14, "TRUE"),
            (16, "care"),
            (21, "NO"),
        ]);
        assert_eq!(overlay(&mut d, &cells, &names()), vec![]);
        assert_eq!(d.ou_id, "7");
        assert_eq!(d.skill_queue_id, "4");
        assert_eq!(d.no_agent_queue_id, "3");
        assert_eq!(
            d.workday,
            vec![
                SegmentInput::new("09:00", "12:00"),
                SegmentInput::new("13:00", "18:00")
            ]
        );
        assert!(d.last_agent_mode && d.no_agent_transfer && !d.robot);
        assert_eq!(d.last_agent_days, "30");
        // not in the sheet: as stored
        assert_eq!(d.keywords, "agent");
        assert_eq!(d.robot_access_code, "55");
        // an empty OU cell takes the channel out of its OU
        overlay(&mut d, &row(&[(3, "")]), &names());
        assert_eq!(d.ou_id, "");
    }

    #[test]
    fn every_unreadable_cell_is_named_by_its_column() {
        let mut d = stored();
        let cells = row(&[
            (1, "SMS"),
            (2, "infobip"),
            (3, "Nowhere"),
            (4, "Gone"),
            (7, "all day"),
            (17, "maybe"),
        ]);
        let errors = overlay(&mut d, &cells, &names());
        let columns: Vec<&str> = errors.iter().map(|e| e.column).collect();
        assert_eq!(
            columns,
            [
                "Channel Type",
                "Business Solution Provider",
                "OU Configuration",
                "Skill Queue",
                "Agent Work Time (Non-workday)",
                "Session Transfer"
            ]
        );
        assert_eq!(
            errors[1].message,
            "The Business Solution Provider cannot be changed by an import: this channel is other (basic)."
        );
        assert_eq!(errors[5].message, "Write YES or NO, not 'MAYBE'.");
        // nothing that failed was changed
        assert_eq!(d.skill_queue_id, "3");
    }

    #[test]
    fn apply_needs_a_finished_dry_run_with_changes_and_no_blocking_row() {
        let ok = RowCounts {
            changed: 2,
            unchanged: 5,
            ..Default::default()
        };
        assert_eq!(can_apply(ImportStatus::Checked, &ok), Ok(()));
        for s in [
            ImportStatus::Checking,
            ImportStatus::Applying,
            ImportStatus::Applied,
            ImportStatus::Failed,
        ] {
            assert!(can_apply(s, &ok).is_err(), "{s:?}");
        }
        let unknown = RowCounts { unknown: 1, ..ok };
        assert_eq!(
            can_apply(ImportStatus::Checked, &unknown).unwrap_err(),
            "1 row cannot be imported (errors or unknown channels): correct the file and import it again. Nothing was changed."
        );
        let errors = RowCounts { errors: 2, ..ok };
        assert!(
            can_apply(ImportStatus::Checked, &errors)
                .unwrap_err()
                .starts_with("2 rows")
        );
        let nothing = RowCounts {
            unchanged: 3,
            ..Default::default()
        };
        assert_eq!(
            can_apply(ImportStatus::Checked, &nothing).unwrap_err(),
            "No row changes a channel: there is nothing to apply."
        );
        let mut counts = RowCounts::default();
        for o in RowOutcome::ALL {
            counts.add(o);
            assert_eq!(RowOutcome::parse(o.as_str()), Some(o));
            assert_eq!(counts.of(o), 1);
        }
        for s in ImportStatus::ALL {
            assert_eq!(ImportStatus::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn a_checked_row_names_each_error_by_its_cell_or_sends_to_the_edit_page() {
        use crate::domain::TrustPrefix;
        use crate::domain::channel::SecretField;
        let stored = ChannelDraft {
            provider: "infobip".into(),
            phone_number: "+4915112345678".into(),
            username: "acme".into(),
            base_url: "https://api.infobip.com/whatsapp".into(),
            name: "wa_1".into(),
            skill_queue_id: "3".into(),
            workday: vec![SegmentInput::new("09:00", "18:00")],
            non_workday: vec![SegmentInput::new("10:00", "16:00")],
            ..Default::default()
        };
        let ctx = ValidationContext {
            trust: vec![TrustPrefix::parse("https://api.infobip.com").unwrap()],
            configured: vec![
                SecretField::Password,
                SecretField::AccountKey,
                SecretField::WebhookPassword,
            ],
            today: "2026-11-28".into(),
            saved_for: Some(crate::domain::channel::SavedFor::of(&stored)),
            apps: vec![],
        };
        // the sheet has its columns in the export's order, A to X
        let letters: Vec<Option<String>> = (0..COLUMNS.len())
            .map(|i| Some(((b'A' + i as u8) as char).to_string()))
            .collect();
        let ok = row(&[(5, "human"), (2, "infobip")]);
        let (draft, valid) = check_row(stored.clone(), &ok, &letters, 2, &names(), &ctx).unwrap();
        assert_eq!(draft.keywords, "human");
        assert_eq!(valid.name.as_str(), "wa_1");
        // an unreadable cell, then a rule of the form, each at its cell
        let bad = row(&[(17, "maybe")]);
        assert_eq!(
            check_row(stored.clone(), &bad, &letters, 7, &names(), &ctx).unwrap_err(),
            vec![RowError {
                column: "Session Transfer".into(),
                cell: Some("R7".into()),
                message: "Write YES or NO, not 'MAYBE'.".into()
            }]
        );
        let zero = row(&[(11, "YES"), (12, "0")]);
        let e = check_row(stored.clone(), &zero, &letters, 9, &names(), &ctx).unwrap_err();
        assert_eq!(e[0].column, "No Customer Reply Timeout (minutes)");
        assert_eq!(e[0].cell.as_deref(), Some("M9"));
        // a stored value that no longer passes (the BaseUrl left the trustlist): not in the
        // sheet, so the channel's Edit page is where to correct it
        let untrusted = ValidationContext {
            trust: vec![],
            ..ctx
        };
        let e = check_row(stored, &ok, &letters, 2, &names(), &untrusted).unwrap_err();
        assert_eq!(e[0].column, "Channel settings");
        assert_eq!(e[0].cell, None);
        assert!(
            e[0].message
                .ends_with("This is not in the file: correct it on the channel's Edit page."),
            "{}",
            e[0].message
        );
    }

    #[test]
    fn labels_and_columns_agree_with_the_export() {
        assert_eq!(provider_label("other", "oauth"), "other (oauth)");
        assert_eq!(provider_label("twilio", ""), "twilio");
        assert_eq!(column_of_field("skill_queue_id"), Some("Skill Queue"));
        assert_eq!(column_of_field("password"), None);
        assert_eq!(parse_work_time("").unwrap(), vec![]);
        assert_eq!(shown(&"y".repeat(81)), format!("{}…", "y".repeat(80)));
        assert_eq!(shown(" short "), "short");
        assert!(parse_work_time("9 to 5").is_err());
        for r in REQUIRED {
            assert!(COLUMNS.contains(&r));
        }
    }
}
