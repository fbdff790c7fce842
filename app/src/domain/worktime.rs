//! Agent work time: 1–4 segments of a day, `HH:MM`–`HH:MM` within 00:00–24:00, each start
//! before its end, no two overlapping. Segments that touch (one ends at 12:00, the next starts
//! at 12:00) do not overlap and are allowed.

use serde::{Deserialize, Serialize};

pub const MAX_SEGMENTS: usize = 4;
pub const DAY_MINUTES: u16 = 24 * 60;

/// Minutes since midnight, 0..=1440 (1440 is 24:00, allowed only as an end).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TimeOfDay(u16);

impl TimeOfDay {
    pub fn parse(input: &str) -> Result<Self, String> {
        let s = input.trim();
        let bad = || format!("Enter a time as HH:MM between 00:00 and 24:00 (got '{s}').");
        let (h, m) = s.split_once(':').ok_or_else(bad)?;
        if h.len() != 2 || m.len() != 2 || !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if m > 59 || h > 24 || (h == 24 && m != 0) {
            return Err(bad());
        }
        Ok(Self(h * 60 + m))
    }

    pub fn minutes(self) -> u16 {
        self.0
    }

    pub fn from_minutes(minutes: u16) -> Option<Self> {
        (minutes <= DAY_MINUTES).then_some(Self(minutes))
    }
}

impl std::fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    pub start: TimeOfDay,
    pub end: TimeOfDay,
}

impl std::fmt::Display for Segment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.start, self.end)
    }
}

/// A segment as typed in the form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentInput {
    pub start: String,
    pub end: String,
}

impl SegmentInput {
    pub fn new(start: &str, end: &str) -> Self {
        Self {
            start: start.to_owned(),
            end: end.to_owned(),
        }
    }
}

/// One problem with a work-time input: which segment (if one) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkTimeError {
    /// `None` for a problem of the whole list (none, too many).
    pub segment: Option<usize>,
    pub message: String,
}

/// Valid work time: 1–4 segments in the order typed, none overlapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkTime(Vec<Segment>);

impl WorkTime {
    pub fn parse(inputs: &[SegmentInput]) -> Result<Self, Vec<WorkTimeError>> {
        let list_error = |message: String| {
            vec![WorkTimeError {
                segment: None,
                message,
            }]
        };
        if inputs.is_empty() {
            return Err(list_error("Add at least one time segment.".into()));
        }
        if inputs.len() > MAX_SEGMENTS {
            return Err(list_error(format!(
                "At most {MAX_SEGMENTS} time segments are allowed."
            )));
        }
        let mut errors = Vec::new();
        let mut segments = Vec::new();
        for (i, input) in inputs.iter().enumerate() {
            let start = TimeOfDay::parse(&input.start);
            let end = TimeOfDay::parse(&input.end);
            match (start, end) {
                (Ok(start), Ok(_)) if start.0 == DAY_MINUTES => errors.push(WorkTimeError {
                    segment: Some(i),
                    message: format!("Segment {}: 24:00 can only end a segment.", i + 1),
                }),
                (Ok(start), Ok(end)) if start >= end => errors.push(WorkTimeError {
                    segment: Some(i),
                    message: format!(
                        "Segment {}: the start ({start}) must be before the end ({end}).",
                        i + 1
                    ),
                }),
                (Ok(start), Ok(end)) => segments.push((i, Segment { start, end })),
                (Err(e), _) | (_, Err(e)) => errors.push(WorkTimeError {
                    segment: Some(i),
                    message: format!("Segment {}: {e}", i + 1),
                }),
            }
        }
        for (a, (i, x)) in segments.iter().enumerate() {
            for (j, y) in segments.iter().skip(a + 1) {
                if x.start < y.end && y.start < x.end {
                    errors.push(WorkTimeError {
                        segment: Some(*j),
                        message: format!(
                            "Segment {} ({y}) overlaps segment {} ({x}).",
                            j + 1,
                            i + 1
                        ),
                    });
                }
            }
        }
        if errors.is_empty() {
            Ok(Self(segments.into_iter().map(|(_, s)| s).collect()))
        } else {
            Err(errors)
        }
    }

    pub fn segments(&self) -> &[Segment] {
        &self.0
    }

    /// `09:00-12:00, 13:00-18:00`
    pub fn describe(&self) -> String {
        self.0
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn wt(pairs: &[(&str, &str)]) -> Result<WorkTime, Vec<WorkTimeError>> {
        WorkTime::parse(
            &pairs
                .iter()
                .map(|(a, b)| SegmentInput::new(a, b))
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn times_of_day() {
        assert_eq!(TimeOfDay::parse("00:00").unwrap().minutes(), 0);
        assert_eq!(TimeOfDay::parse(" 09:30 ").unwrap().minutes(), 570);
        assert_eq!(TimeOfDay::parse("24:00").unwrap().minutes(), 1440);
        for bad in [
            "24:01", "25:00", "9:00", "09:60", "0900", "", "ab:cd", "09:5", "+9:00",
        ] {
            assert!(TimeOfDay::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(TimeOfDay::parse("07:05").unwrap().to_string(), "07:05");
    }

    #[test]
    fn one_to_four_segments() {
        assert!(wt(&[]).unwrap_err()[0].message.contains("at least one"));
        assert_eq!(wt(&[("00:00", "24:00")]).unwrap().describe(), "00:00-24:00");
        let four = [
            ("00:00", "01:00"),
            ("02:00", "03:00"),
            ("04:00", "05:00"),
            ("06:00", "07:00"),
        ];
        assert_eq!(wt(&four).unwrap().segments().len(), 4);
        let five = [
            ("00:00", "01:00"),
            ("02:00", "03:00"),
            ("04:00", "05:00"),
            ("06:00", "07:00"),
            ("08:00", "09:00"),
        ];
        let e = wt(&five).unwrap_err();
        assert_eq!(e[0].segment, None);
        assert!(e[0].message.contains("At most 4"));
    }

    #[test]
    fn start_before_end() {
        let e = wt(&[("12:00", "09:00")]).unwrap_err();
        assert_eq!(e[0].segment, Some(0));
        assert!(e[0].message.contains("must be before"));
        assert!(wt(&[("09:00", "09:00")]).is_err());
        assert!(
            wt(&[("24:00", "24:00")]).unwrap_err()[0]
                .message
                .contains("24:00")
        );
        assert!(wt(&[("23:59", "24:00")]).is_ok());
    }

    #[test]
    fn overlaps_are_refused_touching_is_fine() {
        assert!(wt(&[("09:00", "12:00"), ("12:00", "18:00")]).is_ok());
        let e = wt(&[("09:00", "12:00"), ("11:59", "18:00")]).unwrap_err();
        assert_eq!(e[0].segment, Some(1));
        assert!(e[0].message.contains("overlaps segment 1"));
        // containment is an overlap too, in either order
        assert!(wt(&[("08:00", "20:00"), ("09:00", "10:00")]).is_err());
        assert!(wt(&[("09:00", "10:00"), ("08:00", "20:00")]).is_err());
    }

    #[test]
    fn each_bad_segment_is_named() {
        let e = wt(&[("09:00", "x"), ("10:00", "11:00"), ("13:00", "12:00")]).unwrap_err();
        let segs: Vec<_> = e.iter().map(|e| e.segment).collect();
        assert_eq!(segs, [Some(0), Some(2)]);
        assert!(e[0].message.starts_with("Segment 1:"));
    }

    proptest! {
        #[test]
        fn accepted_work_time_never_overlaps(
            raw in proptest::collection::vec((0u16..=1440, 0u16..=1440), 1..=4)
        ) {
            let inputs: Vec<SegmentInput> = raw
                .iter()
                .map(|(a, b)| SegmentInput::new(
                    &TimeOfDay(*a).to_string(),
                    &TimeOfDay(*b).to_string(),
                ))
                .collect();
            if let Ok(w) = WorkTime::parse(&inputs) {
                let s = w.segments();
                for (i, x) in s.iter().enumerate() {
                    prop_assert!(x.start < x.end);
                    for y in &s[i + 1..] {
                        prop_assert!(x.end <= y.start || y.end <= x.start);
                    }
                }
            } else {
                // refused only for a reason: a non-increasing or overlapping pair
                let bad_order = raw.iter().any(|(a, b)| a >= b);
                let overlap = raw.iter().enumerate().any(|(i, (a1, b1))| {
                    raw.iter().skip(i + 1).any(|(a2, b2)| a1 < b2 && a2 < b1)
                });
                prop_assert!(bad_order || overlap);
            }
        }

        #[test]
        fn time_round_trips(m in 0u16..=1440) {
            let t = TimeOfDay(m);
            prop_assert_eq!(TimeOfDay::parse(&t.to_string()), Ok(t));
        }
    }
}
